// twocvm is a Linux tool: the confidential VM is a Linux guest (configfs-tsm, /dev/sev-guest),
// component children lock themselves down with seccomp-BPF, and file I/O calls Glibc directly.
// No other platform is built or tested, so none is declared (Package.swift lists no Apple
// platform); a build elsewhere stops here rather than failing deep inside a target.
#if !os(Linux)
#error("twocvm builds and runs on Linux only (see Docs/architecture.md)")
#endif
