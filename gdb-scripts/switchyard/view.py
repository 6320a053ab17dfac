"""Viewing a continuation's stack as the current one: `continuation ID`
points the registers at its frames, `continuation restore` (or any command
that lets the process run) puts the real ones back."""

import gdb

from . import layout

# The real registers while a continuation is viewed, else None.
_saved_registers = None
_viewing = None

# Commands that let the process run get a hook that restores the real
# registers first. (Writing registers from a `gdb.events.cont` handler
# crashes gdb 13: the process is already being resumed then.)
_RESUMING_COMMANDS = ("continue", "next", "step", "stepi", "nexti", "finish",
                      "until", "advance", "jump", "signal", "call", "kill", "run")


def viewing():
    """Whether the registers are a continuation's, not the real ones."""
    return _saved_registers is not None


def _set_registers(sp, fp, pc):
    gdb.execute("set $rsp = 0x%x" % sp, to_string=True)
    gdb.execute("set $rbp = 0x%x" % fp, to_string=True)
    gdb.execute("set $pc = 0x%x" % pc, to_string=True)


def enter(record, reg):
    """Point the registers at `record`'s own frames (saving the real ones)."""
    global _saved_registers, _viewing
    ctx = reg.context_of(record)
    if ctx is None:
        if record.state == layout.STATE_FRESH:
            raise gdb.GdbError("continuation %d has not started: it has no frames" % record.id)
        raise gdb.GdbError("continuation %d is the one running: its frames are the current ones"
                           % record.id)
    if _saved_registers is None:
        _saved_registers = tuple(int(gdb.parse_and_eval(r)) for r in ("$rsp", "$rbp", "$pc"))
    _set_registers(*ctx)
    _viewing = record.id


def restore():
    """Put the real registers back; False if none were saved."""
    global _saved_registers, _viewing
    if _saved_registers is None:
        return False
    _set_registers(*_saved_registers)
    _saved_registers = None
    _viewing = None
    return True


def install_restore_hooks():
    for command in _RESUMING_COMMANDS:
        try:
            gdb.execute("define hook-%s\ncontinuation _restore-if-viewing\nend" % command,
                        to_string=True)
        except gdb.error:
            pass
