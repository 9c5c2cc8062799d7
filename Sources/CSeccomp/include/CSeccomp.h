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

/// The sealed files a component child reads its inputs from (the broker's side of the lockdown:
/// the child may read them at offsets, never change them).
///
/// Creates an anonymous memory file (memfd, close-on-exec, sealable) named `name`; returns its
/// descriptor or -errno.
int twocvm_memfd_create(const char *name);

/// Seals `fd` against any write, growth or shrinking, and against further seal changes.
/// Returns 0 or -errno.
int twocvm_memfd_seal(int fd);

/// Whether `fd` carries the seals of ``twocvm_memfd_seal`` (1), not (0), or -errno.
int twocvm_memfd_is_sealed(int fd);

/// A component child's input descriptors travel over its stdin, a Unix socket, before its
/// request (SCM_RIGHTS), in messages of at most this many descriptors and one payload byte each.
#define TWOCVM_HANDOVER_BATCH 250

/// Sends `count` (0 … TWOCVM_HANDOVER_BATCH) descriptors on the Unix socket `sock` in one
/// message whose one payload byte is `tag`. Returns 0 or -errno (never raises SIGPIPE).
int twocvm_send_descriptors(int sock, const int *fds, int count, unsigned char tag);

/// Receives one such message: its payload byte into `*tag` and its descriptors (close-on-exec)
/// into `fds`, at most `capacity`. Returns how many, or -errno: -EPIPE at the end of the stream,
/// -EMSGSIZE if the kernel had to drop descriptors, -EPROTO for anything but descriptors or
/// more than `capacity` of them. On an error every descriptor that arrived is closed.
int twocvm_receive_descriptors(int sock, int *fds, int capacity, unsigned char *tag);

#include <spawn.h>
/// Adds to `actions` the closing of every descriptor from `lowest` up, in the child, after the
/// actions before it: a child then holds only what those put below `lowest`, whatever the
/// parent opens meanwhile (glibc's posix_spawn_file_actions_addclosefrom_np). Returns 0 or an
/// error number.
int twocvm_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest);

#endif
