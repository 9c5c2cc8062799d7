;; line-count: a component written directly in WebAssembly text, admitted by `compose` as
;; DIR/<component-id>.wat (its digest pins this text file).
;;
;; Reads /in/text and writes the number of lines (newline bytes) to /out/line-count, in
;; decimal with a trailing newline. Uses nothing but path_open, fd_read, fd_write and
;; proc_exit from wasi_snapshot_preview1.
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 2)

  ;; Memory map: 0 iovec, 8 fd result, 12 byte count result, 16 names, 64 digits, 4096 buffer.
  (data (i32.const 16) "text")
  (data (i32.const 24) "line-count")

  (func $open (param $dir i32) (param $name i32) (param $length i32) (param $oflags i32) (param $rights i64) (result i32)
    (if (call $path_open (local.get $dir) (i32.const 0) (local.get $name) (local.get $length)
          (local.get $oflags) (local.get $rights) (i64.const 0) (i32.const 0) (i32.const 8))
      (then (call $proc_exit (i32.const 1))))
    (i32.load (i32.const 8)))

  (func (export "_start")
    (local $in i32) (local $n i32) (local $i i32) (local $lines i32) (local $end i32) (local $start i32)
    ;; /in/text: fd 3 is /in; rights fd_read (bit 1).
    (local.set $in (call $open (i32.const 3) (i32.const 16) (i32.const 4) (i32.const 0) (i64.const 2)))
    (i32.store (i32.const 0) (i32.const 4096))
    (i32.store (i32.const 4) (i32.const 61440))
    (block $done
      (loop $read
        (br_if $done (call $fd_read (local.get $in) (i32.const 0) (i32.const 1) (i32.const 12)))
        (local.set $n (i32.load (i32.const 12)))
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $i (i32.const 0))
        (loop $scan
          (if (i32.eq (i32.load8_u (i32.add (i32.const 4096) (local.get $i))) (i32.const 10))
            (then (local.set $lines (i32.add (local.get $lines) (i32.const 1)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $scan (i32.lt_u (local.get $i) (local.get $n))))
        (br $read)))
    ;; Decimal digits, written backwards from 79 with "\n" at 79.
    (local.set $end (i32.const 80))
    (i32.store8 (i32.const 79) (i32.const 10))
    (local.set $start (i32.const 79))
    (loop $digit
      (local.set $start (i32.sub (local.get $start) (i32.const 1)))
      (i32.store8 (local.get $start) (i32.add (i32.const 48) (i32.rem_u (local.get $lines) (i32.const 10))))
      (local.set $lines (i32.div_u (local.get $lines) (i32.const 10)))
      (br_if $digit (local.get $lines)))
    ;; /out/line-count: fd 4 is /out; create + truncate (9), rights fd_write (bit 6).
    (i32.store (i32.const 0) (local.get $start))
    (i32.store (i32.const 4) (i32.sub (local.get $end) (local.get $start)))
    (drop (call $fd_write (call $open (i32.const 4) (i32.const 24) (i32.const 10) (i32.const 9) (i64.const 64))
      (i32.const 0) (i32.const 1) (i32.const 12))))
)
