"""Viewing a continuation's stack as the current one: `continuation ID`
points the registers at its frames, `continuation restore` (or any command
that lets the process run) puts the real ones back.

Registers can only be written in the innermost frame: in an outer frame
(after `frame N`, `up`) gdb computes them from the frame below and
refuses the assignment. So every write selects frame 0 first, and the
saved state is dropped only once the real registers are back."""

import gdb

from . import layout

# The real registers (sp, fp, pc) while a continuation is viewed, else None.
_saved_registers = None
# The id of the continuation viewed, else None.
_viewing = None

# Commands that let the process run get a hook that restores the real
# registers first. (Writing registers from a `gdb.events.cont` handler
# crashes gdb 13: the process is already being resumed then.)
_RESUMING_COMMANDS = ("continue", "next", "step", "stepi", "nexti", "finish",
                      "until", "advance", "jump", "signal", "call", "kill", "run")


def viewing():
    """Whether the registers are a continuation's, not the real ones."""
    return _saved_registers is not None


def viewed_id():
    """The id of the continuation viewed, or None."""
    return _viewing


def _set_registers(sp, fp, pc):
    # Each write rebuilds gdb's frames, and gdb then selects the frame with
    # the old selected frame's id, which may be an outer one now.
    for name, value in (("rsp", sp), ("rbp", fp), ("pc", pc)):
        gdb.newest_frame().select()
        gdb.execute("set $%s = 0x%x" % (name, value), to_string=True)
    gdb.newest_frame().select()
    if _read_registers() != (sp, fp, pc):
        raise gdb.error("the registers did not take the values written")


def _read_registers():
    frame = gdb.newest_frame()
    return tuple(int(frame.read_register(r)) for r in ("rsp", "rbp", "rip"))


def enter(record, reg):
    """Point the registers at `record`'s own frames (saving the real ones
    the first time)."""
    global _saved_registers, _viewing
    ctx = reg.context_of(record)
    if ctx is None:
        if record.state == layout.STATE_FRESH:
            raise gdb.GdbError("continuation %d has not started: it has no frames" % record.id)
        raise gdb.GdbError("continuation %d is the one running: its frames are the current ones"
                           % record.id)
    if _saved_registers is None:
        _saved_registers = _read_registers()
    try:
        _set_registers(*ctx)
    except gdb.error as e:
        restore()
        raise gdb.GdbError("cannot view continuation %d: %s" % (record.id, e))
    _viewing = record.id


def restore():
    """Put the real registers back; False if none were saved."""
    global _saved_registers, _viewing
    if _saved_registers is None:
        return False
    try:
        _set_registers(*_saved_registers)
    except gdb.error as e:
        raise gdb.GdbError("cannot restore the registers: %s" % e)
    _saved_registers = None
    _viewing = None
    return True


def forget():
    """Drop the saved registers without writing them: the process they
    belonged to is gone (exited, killed, a new run)."""
    global _saved_registers, _viewing
    _saved_registers = None
    _viewing = None


def install_restore_hooks():
    for command in _RESUMING_COMMANDS:
        try:
            gdb.execute("define hook-%s\ncontinuation _restore-if-viewing\nend" % command,
                        to_string=True)
        except gdb.error:
            pass
    gdb.events.exited.connect(lambda event: forget())
