"""A frame filter: the continuation trampoline's frame (which gdb, reading
its signal-frame CFI, calls `<signal handler called>`) is shown as the
continuation boundary it is."""

import gdb
from gdb.FrameDecorator import FrameDecorator

from . import target
from .registry import RegistryError


class _BoundaryDecorator(FrameDecorator):
    def __init__(self, base, label):
        super().__init__(base)
        self.label = label

    def function(self):
        return self.label


class _BoundaryFilter:
    def __init__(self):
        self.name = "switchyard-continuations"
        self.priority = 100
        self.enabled = True
        gdb.frame_filters[self.name] = self

    def filter(self, frames):
        try:
            reg = target.snapshot()
        except (RegistryError, gdb.error):
            return frames
        return self._walk(reg, frames)

    def _walk(self, reg, frames):
        for decorator in frames:
            label, bottom = self._label(reg, decorator.inferior_frame())
            yield _BoundaryDecorator(decorator, label) if label else decorator
            # A suspended continuation's bottom frame has no parent. Its
            # CFI gives return address 0, but gdb unwinds on past a zero
            # pc when the frame below it is a signal frame (it assumes a
            # call through a null pointer), so end the walk here.
            if bottom:
                return

    def _label(self, reg, frame):
        try:
            if not reg.in_trampoline(frame.pc()):
                return None, False
            rec = reg.at_trampoline_fp(int(frame.read_register("rbp")))
        except (gdb.error, RegistryError):
            return None, False
        if rec is None:
            return None, False
        # Decide as the trampoline's CFI does, by the resumer's saved pc:
        # the state field changes a few instructions before the switch.
        if rec.parent[2]:
            parent = reg.by_addr(rec.parent_record)
            by = "continuation %d" % parent.id if parent else "the host stack"
            return "<continuation %d (entry %s), resumed by %s>" % (
                rec.id, reg.entry_name(rec), by), False
        return "<bottom of continuation %d (entry %s)>" % (rec.id, reg.entry_name(rec)), True


def register():
    _BoundaryFilter()
