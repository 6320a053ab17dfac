"""`wasm break NAME`: a breakpoint on the Wasm functions named NAME only.

The JIT objects define every Wasm function under its plain name too, so
gdb's own `break NAME` finds it; but gdb matches NAME against every
function whose last path component is NAME, and the host's Rust functions
(`Thread::new`, `DominatorTree::compute`) share that namespace. This
breakpoint asks gdb for the functions named exactly NAME (`-qualified`:
host Rust functions always have a path) and stops only at those inside
Wasm code, by the registry's code map, so that a host C function of the
same name (libc's `malloc` next to the module's) never stops."""

import gdb

from . import target
from .registry import RegistryError


class WasmBreakpoint(gdb.Breakpoint):
    """Stops only where the pc is in Wasm code."""

    def stop(self):
        try:
            return target.snapshot().function_at(target.current_pc()) is not None
        except (RegistryError, gdb.error):
            return False


class WasmBreak(gdb.Command):
    """wasm break NAME: break on the Wasm functions named NAME (plain name, in
every module, also modules loaded later), never on a host function of the
same name. `break MODULE!NAME` names one module's function exactly."""

    def __init__(self):
        super().__init__("wasm break", gdb.COMMAND_BREAKPOINTS)

    def invoke(self, arg, from_tty):
        name = arg.strip()
        if not name or any(c.isspace() for c in name):
            raise gdb.GdbError("usage: wasm break NAME")
        # Pending until a module defines it, as `break` with pending on.
        old = gdb.parameter("breakpoint pending")
        gdb.execute("set breakpoint pending on", to_string=True)
        try:
            WasmBreakpoint("-qualified " + name)
        finally:
            state = {True: "on", False: "off", None: "auto"}[old]
            gdb.execute("set breakpoint pending %s" % state, to_string=True)


def register():
    WasmBreak()
