// Handing a component child its input descriptors over a Unix socket (see CSeccomp.h).
#define _GNU_SOURCE
#include "CSeccomp.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <spawn.h>
#include <unistd.h>

int twocvm_send_descriptors(int sock, const int *fds, int count, unsigned char tag) {
    if (count < 0 || count > TWOCVM_HANDOVER_BATCH) return -EINVAL;
    union {
        char buffer[CMSG_SPACE(sizeof(int) * TWOCVM_HANDOVER_BATCH)];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct iovec payload = { .iov_base = &tag, .iov_len = 1 };
    struct msghdr message = { .msg_iov = &payload, .msg_iovlen = 1 };
    if (count > 0) {
        message.msg_control = control.buffer;
        message.msg_controllen = CMSG_SPACE(sizeof(int) * count);
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int) * count);
        memcpy(CMSG_DATA(header), fds, sizeof(int) * count);
    }
    ssize_t sent;
    do { sent = sendmsg(sock, &message, MSG_NOSIGNAL); } while (sent < 0 && errno == EINTR);
    if (sent < 0) return -errno;
    return sent == 1 ? 0 : -EIO;
}

int twocvm_receive_descriptors(int sock, int *fds, int capacity, unsigned char *tag) {
    if (capacity < 0 || capacity > TWOCVM_HANDOVER_BATCH) return -EINVAL;
    union {
        char buffer[CMSG_SPACE(sizeof(int) * TWOCVM_HANDOVER_BATCH)];
        struct cmsghdr align;
    } control;
    struct iovec payload = { .iov_base = tag, .iov_len = 1 };
    struct msghdr message = {
        .msg_iov = &payload, .msg_iovlen = 1,
        .msg_control = control.buffer, .msg_controllen = sizeof control.buffer,
    };
    ssize_t received;
    do { received = recvmsg(sock, &message, MSG_CMSG_CLOEXEC); } while (received < 0 && errno == EINTR);
    if (received < 0) return -errno;
    // Every descriptor that arrived is either returned or closed, whatever else is wrong.
    int count = 0, unexpected = 0;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) { unexpected = 1; continue; }
        size_t n = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof fd);
            if (count < capacity) fds[count++] = fd; else { close(fd); unexpected = 1; }
        }
    }
    int failure = 0;
    if (received == 0) failure = -EPIPE;
    else if (message.msg_flags & MSG_CTRUNC) failure = -EMSGSIZE;
    else if (unexpected) failure = -EPROTO;
    if (failure) {
        for (int i = 0; i < count; i++) close(fds[i]);
        return failure;
    }
    return count;
}

int twocvm_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}
