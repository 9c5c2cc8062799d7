// The seccomp-BPF allowlist of a component child (see CSeccomp.h). Written in C because the
// filter is a table of BPF macros over <linux/seccomp.h> and <sys/syscall.h>, which differ by
// architecture.
#define _GNU_SOURCE
#include "CSeccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define TWOCVM_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define TWOCVM_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#define LOAD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define LOAD_ARG(i) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[i]))
#define RETURN(action) BPF_STMT(BPF_RET | BPF_K, (action))
#define ALLOW(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), RETURN(SECCOMP_RET_ALLOW)
/// Allows `nr` unless its argument `i` has any of `bits` set (then EPERM). Five instructions.
#define ALLOW_UNLESS_BITS(nr, i, bits)                                  \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 4), LOAD_ARG(i),       \
    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, (bits), 1, 0),                 \
    RETURN(SECCOMP_RET_ALLOW), RETURN(SECCOMP_RET_ERRNO | EPERM)
/// Allows `nr` only if its argument `i` has all of `bits` set (else EPERM). Five instructions.
#define ALLOW_IF_BITS(nr, i, bits)                                      \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 4), LOAD_ARG(i),       \
    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, (bits), 0, 1),                 \
    RETURN(SECCOMP_RET_ALLOW), RETURN(SECCOMP_RET_ERRNO | EPERM)
/// Allows `nr` only if its argument `i` (low 32 bits) equals `value`. Five instructions.
#define ALLOW_IF_EQUAL(nr, i, value)                                    \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 4), LOAD_ARG(i),       \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (value), 0, 1),                 \
    RETURN(SECCOMP_RET_ALLOW), RETURN(SECCOMP_RET_KILL_PROCESS)

int twocvm_seccomp_lockdown(void) {
#ifndef TWOCVM_AUDIT_ARCH
    return -ENOSYS;
#else
    const __u32 self = (__u32)getpid();
    struct sock_filter filter[] = {
        // The architecture the filter was written for, and (x86-64) no x32 system calls.
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TWOCVM_AUDIT_ARCH, 1, 0),
        RETURN(SECCOMP_RET_KILL_PROCESS),
        LOAD_NR,
#if defined(__x86_64__)
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),
        RETURN(SECCOMP_RET_KILL_PROCESS),
#endif
        // Descriptors it already has (its pipes, and its inputs as sealed memfds, read at
        // offsets with pread), and nothing that opens new ones.
        ALLOW(__NR_read), ALLOW(__NR_write), ALLOW(__NR_readv), ALLOW(__NR_writev), ALLOW(__NR_close),
        ALLOW(__NR_pread64),
        ALLOW(__NR_lseek), ALLOW(__NR_fstat),
#ifdef __NR_newfstatat
        ALLOW(__NR_newfstatat),
#endif
        // Memory, never executable: the engine interprets, it does not generate code.
        ALLOW_UNLESS_BITS(__NR_mmap, 2, PROT_EXEC), ALLOW_UNLESS_BITS(__NR_mprotect, 2, PROT_EXEC),
        ALLOW(__NR_munmap), ALLOW(__NR_madvise), ALLOW(__NR_mremap), ALLOW(__NR_brk),
        // Threads of this process only: clone with CLONE_THREAD; clone3 says ENOSYS so the C
        // library falls back to clone, whose flags a filter can read.
        ALLOW_IF_BITS(__NR_clone, 0, CLONE_THREAD),
#ifdef __NR_clone3
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1), RETURN(SECCOMP_RET_ERRNO | ENOSYS),
#endif
        ALLOW(__NR_futex), ALLOW(__NR_set_robust_list), ALLOW(__NR_gettid), ALLOW(__NR_getpid),
        ALLOW(__NR_sched_yield), ALLOW(__NR_sched_getaffinity),
#ifdef __NR_rseq
        ALLOW(__NR_rseq),
#endif
        // Signals: its own handlers and masks; signals only to itself (abort, crash reports).
        ALLOW(__NR_rt_sigaction), ALLOW(__NR_rt_sigprocmask), ALLOW(__NR_rt_sigreturn), ALLOW(__NR_sigaltstack),
        ALLOW_IF_EQUAL(__NR_tgkill, 0, self),
        // Clocks, sleeping, randomness (WASI clock and random, when the manifest grants them).
        ALLOW(__NR_clock_gettime), ALLOW(__NR_clock_getres), ALLOW(__NR_gettimeofday),
        ALLOW(__NR_nanosleep), ALLOW(__NR_clock_nanosleep), ALLOW(__NR_getrandom),
        ALLOW(__NR_exit), ALLOW(__NR_exit_group),
        RETURN(SECCOMP_RET_KILL_PROCESS),
    };
    struct sock_fprog program = {.len = (unsigned short)(sizeof filter / sizeof filter[0]), .filter = filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
    if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &program) != 0) return -errno;
    return 0;
#endif
}

long twocvm_seccomp_probe(int what) {
    switch (what) {
    case 1: return open("/etc/hostname", O_RDONLY);
    case 2: return socket(AF_INET, SOCK_STREAM, 0);
    case 3: {
        char *const argv[] = {"/bin/true", NULL};
        return execve("/bin/true", argv, NULL);
    }
    case 4: return (long)mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    case 5: {
        long pid = syscall(__NR_clone, SIGCHLD, 0, 0, 0, 0);
        if (pid == 0) _exit(0);
        return pid < 0 ? -errno : pid;
    }
    case 6: return kill(getppid(), 0);
    default: return -EINVAL;
    }
}
