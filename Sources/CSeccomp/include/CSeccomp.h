#ifndef TWOCVM_CSECCOMP_H
#define TWOCVM_CSECCOMP_H

/// Locks the calling process down to the system calls a component child needs once it has read
/// its request: memory management, threads, futexes, signals to itself, clocks, randomness,
/// reading and writing descriptors it already has, and exiting. Anything else (opening files,
/// sockets, exec, fork, ptrace, executable memory, signals to other processes) kills the
/// process with SIGSYS. Sets no_new_privs first. Irreversible; applies to every thread.
///
/// Returns 0, or -errno when the kernel refused the filter (or -ENOSYS on an architecture
/// without a filter here).
int twocvm_seccomp_lockdown(void);

/// What the probe does after the lockdown (tests only): 1 open a file, 2 create a socket,
/// 3 exec /bin/true, 4 map executable memory, 5 fork a process, 6 signal the parent.
/// Returns the call's result if the process survives it.
long twocvm_seccomp_probe(int what);

#endif
