"""`info continuations`' reading of thousands of continuations, outside
gdb, on the fabricated registry of test_registry_reader.py: every field of
a record reads back from its one unpacking, and a suspended continuation's
frame-pointer walk reads its stack once and finds the same frames as a
frame-by-frame walk, also when that one read fails or the frames lie
beyond it.

Run: python3 -m unittest discover -s gdb-scripts/tests
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from switchyard import layout, naming  # noqa: E402
from switchyard.registry import Registry  # noqa: E402
from test_registry_reader import (CODE_START, HEADER, RECORD_BASE, TRAMPOLINE,  # noqa: E402
                                  build, record_addr)

# The suspended record of build() (id 2) and its stack.
SUSPENDED = 1
LOW = RECORD_BASE + 0x1000 * SUSPENDED
R = record_addr(SUSPENDED)
# Its frames: (fp, saved fp, return address), innermost first; the last
# returns into the trampoline, where the walk ends.
FRAMES = [(R - 0xC0, R - 0x80, CODE_START + 0x45),
          (R - 0x80, R - 0x40, CODE_START + 0x12),
          (R - 0x40, 0, TRAMPOLINE + 4)]
WALKED = [CODE_START + 0x30, CODE_START + 0x45, CODE_START + 0x12]


def with_frames(split_at=None):
    """build()'s memory with FRAMES on the suspended stack; with
    `split_at`, that stack is two regions meeting there, so that a read
    across it fails as a read across two mappings would."""
    m = build()
    m.put(R + layout.RECORD_OWN + layout.CONTEXT_SP, "<Q", R - 0x100)
    m.put(R + layout.RECORD_OWN + layout.CONTEXT_FP, "<Q", FRAMES[0][0])
    for fp, saved, ret in FRAMES:
        m.put(fp, "<QQ", saved, ret)
    if split_at is not None:
        data = m.regions.pop(LOW)
        m.regions[LOW] = data[:split_at - LOW]
        m.regions[split_at] = data[split_at - LOW:]
    return m


class Counting:
    """A read function that counts its calls."""

    def __init__(self, read):
        self._read = read
        self.calls = 0

    def __call__(self, addr, size):
        self.calls += 1
        return self._read(addr, size)


class NamingTest(unittest.TestCase):
    def test_every_record_field_reads_back(self):
        m = build()
        values = {
            layout.RECORD_LAST_TAG: 7, layout.RECORD_RESUMES: 11,
            layout.RECORD_SWITCHES: 13, layout.RECORD_CREATED_BY: 17,
            layout.RECORD_LAST_SWITCH: 19, layout.RECORD_CAUGHT_PC: 23,
            layout.RECORD_CAUGHT_BY: 29,
            layout.RECORD_PARENT + layout.CONTEXT_FP: 31,
        }
        for offset, value in values.items():
            m.put(R + offset, "<Q", value)
        creation = [CODE_START + 0x10, CODE_START + 0x50, 0x1234]
        for i, pc in enumerate(creation):
            m.put(R + layout.RECORD_CREATION + 8 * i, "<Q", pc)
        r = Registry(m.read, HEADER).by_id(2)
        self.assertEqual((r.last_tag, r.resumes, r.switches, r.created_by, r.last_switch,
                          r.caught_pc, r.caught_by), (7, 11, 13, 17, 19, 23, 29))
        self.assertEqual(r.parent, (0, 31, 0))
        self.assertEqual(r.own, (R - 0x100, R + layout.TRAMPOLINE_FP, CODE_START + 0x30))
        self.assertEqual((r.addr, r.stack_low, r.stack_high), (R, LOW, LOW + 0x1000))
        self.assertEqual(r.creation, creation)
        # All CREATION_FRAMES slots used: all of them, none past.
        for i in range(layout.CREATION_FRAMES):
            m.put(R + layout.RECORD_CREATION + 8 * i, "<Q", 0x100 + i)
        r = Registry(m.read, HEADER).by_id(2)
        self.assertEqual(r.creation, [0x100 + i for i in range(layout.CREATION_FRAMES)])

    def walk(self, m):
        reg = Registry(m.read, HEADER)
        read = Counting(m.read)
        pcs = naming.Namer(reg, read).walk(reg.by_id(2))
        return pcs, read.calls

    def test_a_walk_reads_the_stack_once(self):
        self.assertEqual(self.walk(with_frames()), (WALKED, 1))

    def test_a_walk_finds_the_same_frames_when_the_one_read_fails(self):
        # The window [sp, high) spans two regions: one failed read, then
        # one read per frame as before.
        pcs, calls = self.walk(with_frames(split_at=R - 0x60))
        self.assertEqual(pcs, WALKED)
        self.assertEqual(calls, 1 + len(FRAMES))

    def test_a_walk_finds_the_frames_beyond_the_window(self):
        saved = naming.MAX_WINDOW
        naming.MAX_WINDOW = 0x50
        try:
            pcs, calls = self.walk(with_frames())
        finally:
            naming.MAX_WINDOW = saved
        self.assertEqual(pcs, WALKED)
        # The first frame from the window, the other two read one by one.
        self.assertEqual(calls, 3)

    def test_names_are_remembered_per_stack(self):
        m = with_frames()
        reg = Registry(m.read, HEADER)
        namer = naming.Namer(reg, m.read)
        r = reg.by_id(2)
        pcs = namer.walk(r)
        # Remembered per stack, not per record: each stack has its own name.
        self.assertEqual(namer.name(r, pcs), "chain!gen")
        self.assertEqual(namer.name(r, pcs[:2]), "chain!erator")
        self.assertEqual(namer.name(r, pcs), "chain!gen")
        self.assertEqual(namer.name(r, [TRAMPOLINE + 4]), reg.entry_name(r))
        fresh = reg.by_id(3)
        self.assertEqual(namer.walk(fresh), [])
        self.assertIsNone(namer.site_pc(fresh))


if __name__ == "__main__":
    unittest.main()
