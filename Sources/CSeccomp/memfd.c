// Sealed memory files for a component child's inputs (see CSeccomp.h).
#define _GNU_SOURCE
#include "CSeccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>

#define TWOCVM_SEALS (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)

int twocvm_memfd_create(const char *name) {
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    return fd < 0 ? -errno : fd;
}

int twocvm_memfd_seal(int fd) {
    return fcntl(fd, F_ADD_SEALS, TWOCVM_SEALS) == 0 ? 0 : -errno;
}

int twocvm_memfd_is_sealed(int fd) {
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0) return -errno;
    return (seals & TWOCVM_SEALS) == TWOCVM_SEALS;
}
