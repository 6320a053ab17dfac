#!/usr/bin/env python3
"""List the imports of a WebAssembly module, and optionally check them
against the WASI preview 1 functions that switchyard supports.

usage: wasm_imports.py [--check] FILE.wasm...

With --check, exits 1 if any module imports something outside ALLOWED.
"""
import sys

ALLOWED = {
    ("wasi_snapshot_preview1", name)
    for name in (
        "args_get", "args_sizes_get",
        "environ_get", "environ_sizes_get",
        "fd_write", "fd_read", "fd_close", "fd_seek",
        "fd_fdstat_get", "fd_prestat_get",
        "proc_exit", "clock_time_get", "random_get",
    )
}

KINDS = {0: "func", 1: "table", 2: "memory", 3: "global", 4: "tag"}


def leb_u(data, pos):
    result = shift = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, pos


def name(data, pos):
    n, pos = leb_u(data, pos)
    return data[pos:pos + n].decode("utf-8"), pos + n


def imports(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\0asm":
        raise ValueError(f"{path}: not a wasm module")
    pos = 8
    out = []
    while pos < len(data):
        sid = data[pos]
        size, pos = leb_u(data, pos + 1)
        end = pos + size
        if sid == 2:
            count, p = leb_u(data, pos)
            for _ in range(count):
                mod, p = name(data, p)
                fld, p = name(data, p)
                kind = data[p]
                out.append((mod, fld, KINDS.get(kind, str(kind))))
                # The rest of the descriptor is not needed: stop after the
                # names of functions; other kinds are rare in C programs.
                p += 1
                if kind == 0:
                    _, p = leb_u(data, p)
                elif kind == 1:
                    p += 1
                    flags, p = leb_u(data, p)
                    _, p = leb_u(data, p)
                    if flags & 1:
                        _, p = leb_u(data, p)
                elif kind == 2:
                    flags, p = leb_u(data, p)
                    _, p = leb_u(data, p)
                    if flags & 1:
                        _, p = leb_u(data, p)
                elif kind == 3:
                    p += 2
                elif kind == 4:
                    p += 1
                    _, p = leb_u(data, p)
            break
        pos = end
    return out


def main(argv):
    check = False
    if argv and argv[0] == "--check":
        check, argv = True, argv[1:]
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    bad = 0
    for path in argv:
        for mod, fld, kind in imports(path):
            ok = kind == "func" and (mod, fld) in ALLOWED
            if not check:
                print(f"{path}: {kind} {mod}.{fld}")
            elif not ok:
                print(f"{path}: unsupported import {kind} {mod}.{fld}")
                bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
