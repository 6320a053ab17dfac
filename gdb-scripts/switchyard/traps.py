"""Trap reasons: when the process stops on a signal at an instruction the
registry's trap table lists, say which Wasm trap it is, in which function
and on which source line; `info wasm-trap` says it again.

The helpers only describe the stop. The signal is still the program's:
gdb passes SIGILL, SIGFPE, SIGSEGV and SIGBUS on `continue` as it does by
default, and the engine's own handler turns the fault into the trap the
host sees (or handles it some other way), exactly as without gdb."""

import gdb

from . import target
from .registry import RegistryError

_TRAP_SIGNALS = ("SIGILL", "SIGFPE", "SIGSEGV", "SIGBUS")

# The description of the last trap stop, or None (the process ran on).
_last = None


def describe(pc):
    """`wasm trap: MESSAGE in module!function at file:line` for a fault at
    pc, or None when pc is not a trapping instruction of Wasm code."""
    try:
        reg = target.snapshot()
        trap = reg.trap_at(pc)
    except RegistryError:
        return None
    if trap is None:
        return None
    text = "wasm trap: %s" % trap[1]
    func = reg.function_at(pc)
    if func is not None:
        text += " in %s!%s" % (func.module.name, func.name)
        off = func.module.wasm_offset(pc)
        if off is not None:
            text += " (wasm 0x%x)" % off
    line = target.line_of(pc, False)
    if line:
        text += " at " + line
    return text


def _on_stop(event):
    global _last
    _last = None
    if not isinstance(event, gdb.SignalEvent) or event.stop_signal not in _TRAP_SIGNALS:
        return
    try:
        text = describe(target.current_pc())
    except gdb.error:
        return
    if text is not None:
        _last = "%s (%s)" % (text, event.stop_signal)
        print(text)


def _on_cont(event):
    global _last
    _last = None


class InfoWasmTrap(gdb.Command):
    """Which Wasm trap the process stopped on: the trap, its function and
source line (after gdb stopped on SIGILL, SIGFPE, SIGSEGV or SIGBUS)."""

    def __init__(self):
        super().__init__("info wasm-trap", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        target.require_process()
        if _last is None:
            raise gdb.GdbError("the process did not stop on a Wasm trap")
        print(_last)


def register():
    InfoWasmTrap()
    gdb.events.stop.connect(_on_stop)
    gdb.events.cont.connect(_on_cont)
    gdb.events.exited.connect(_on_cont)
