"""The gdb helpers' registry reader, outside gdb, on fabricated memory: a
registry laid out by `layout.py` reads back as written, and random,
corrupted or truncated registries make it raise RegistryError and nothing
else, in bounded time.

Run: python3 -m unittest discover -s gdb-scripts/tests
(`cargo test -p switchyard-registry-layout --test python_reader` runs it too.)
"""

import os
import random
import signal
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from switchyard import layout  # noqa: E402
from switchyard.registry import Registry, RegistryError  # noqa: E402

SEED = int(os.environ.get("SWITCHYARD_FUZZ_SEED", "11"))
CASES = int(os.environ.get("SWITCHYARD_FUZZ_CASES", "3000"))
# Seconds one reading may take before it counts as a hang.
HANG = 5


class Memory:
    """Sparse memory: regions of bytes at addresses; reads outside them
    fail as an unmapped page would."""

    def __init__(self):
        self.regions = {}

    def region(self, base, size):
        self.regions[base] = bytearray(size)
        return base

    def put(self, addr, fmt, *values):
        for base, data in self.regions.items():
            if base <= addr and addr + struct.calcsize(fmt) <= base + len(data):
                struct.pack_into(fmt, data, addr - base, *values)
                return
        raise AssertionError("no region at 0x%x" % addr)

    def read(self, addr, size):
        for base, data in self.regions.items():
            if base <= addr and addr + size <= base + len(data):
                return bytes(data[addr - base:addr - base + size])
        raise RegistryError("unmapped 0x%x" % addr)


HEADER = 0x10000
STORE = 0x20000
CONTEXT = 0x21000
RECORDS = 0x22000
RECORD_BASE = 0x30000  # one record per 0x1000
FUNCREF = 0x40000
CODE = 0x50000
NAMES = 0x51000
FUNCTIONS = 0x52000
SOURCE_MAP = 0x53000
TRAPS = 0x54000
TRAMPOLINE = 0x70000
CODE_START = 0x60000

# (id, state, parent record index or None, own pc)
RECORD_SPECS = [
    (1, layout.STATE_RUNNING, None, 0),
    (2, layout.STATE_SUSPENDED, None, CODE_START + 0x30),
    (3, layout.STATE_FRESH, None, TRAMPOLINE),
    (4, layout.STATE_RUNNING, 0, 0),
    (5, layout.STATE_RETURNED, None, 0),
]


def record_addr(i):
    return RECORD_BASE + 0x1000 * i + 0x1000 - layout.RECORD_SIZE


def build():
    """A consistent registry: one store with five records, one module of
    two functions."""
    m = Memory()
    m.region(HEADER, layout.HEADER_SIZE)
    m.put(HEADER + layout.HEADER_MAGIC, "<I", layout.MAGIC_REGISTRY)
    m.put(HEADER + layout.HEADER_VERSION, "<I", layout.VERSION)
    m.put(HEADER + layout.HEADER_HEADER_SIZE, "<I", layout.HEADER_SIZE)
    m.put(HEADER + layout.HEADER_RECORD_SIZE, "<I", layout.RECORD_SIZE)
    m.put(HEADER + layout.HEADER_STORE_SIZE, "<I", layout.STORE_SIZE)
    m.put(HEADER + layout.HEADER_CODE_ENTRY_SIZE, "<I", layout.CODE_SIZE)
    m.put(HEADER + layout.HEADER_GENERATION, "<Q", 6)
    m.put(HEADER + layout.HEADER_STORES, "<Q", STORE)
    m.put(HEADER + layout.HEADER_CODE, "<Q", CODE)
    m.put(HEADER + layout.HEADER_TRAMPOLINE_START, "<Q", TRAMPOLINE)
    m.put(HEADER + layout.HEADER_TRAMPOLINE_END, "<Q", TRAMPOLINE + 0x40)

    m.region(STORE, layout.STORE_SIZE)
    m.put(STORE + layout.STORE_CONTEXT, "<Q", CONTEXT)
    m.put(STORE + layout.STORE_RECORDS, "<Q", RECORDS)
    m.put(STORE + layout.STORE_RECORD_COUNT, "<Q", len(RECORD_SPECS))
    m.region(CONTEXT, layout.STORE_CONTEXT_SIZE)
    m.put(CONTEXT + layout.STORE_CONTEXT_CURRENT_CONT, "<Q", record_addr(3))
    m.region(RECORDS, layout.RECORD_POINTER_SIZE * len(RECORD_SPECS))
    m.region(FUNCREF, layout.FUNCREF_SIZE)
    m.put(FUNCREF + layout.FUNCREF_CODE, "<Q", CODE_START + 0x40)

    for i, (ident, state, parent, own_pc) in enumerate(RECORD_SPECS):
        m.put(RECORDS + layout.RECORD_POINTER_SIZE * i, "<Q", record_addr(i))
        low = RECORD_BASE + 0x1000 * i
        m.region(low, 0x1000)
        r = record_addr(i)
        m.put(r + layout.RECORD_MAGIC, "<I", layout.MAGIC_RECORD)
        m.put(r + layout.RECORD_STATE, "<I", state)
        m.put(r + layout.RECORD_ID, "<Q", ident)
        m.put(r + layout.RECORD_STACK_LOW, "<Q", low)
        m.put(r + layout.RECORD_STACK_HIGH, "<Q", low + 0x1000)
        m.put(r + layout.RECORD_ENTRY_FUNC, "<Q", FUNCREF)
        if parent is not None:
            m.put(r + layout.RECORD_PARENT_RECORD, "<Q", record_addr(parent))
            m.put(r + layout.RECORD_PARENT + layout.CONTEXT_PC, "<Q", CODE_START + 0x10)
            m.put(r + layout.RECORD_PARENT + layout.CONTEXT_SP, "<Q", low - 0x800)
        m.put(r + layout.RECORD_OWN + layout.CONTEXT_SP, "<Q", r - 0x100)
        m.put(r + layout.RECORD_OWN + layout.CONTEXT_FP, "<Q", r + layout.TRAMPOLINE_FP)
        m.put(r + layout.RECORD_OWN + layout.CONTEXT_PC, "<Q", own_pc)

    m.region(CODE, layout.CODE_SIZE)
    m.put(CODE + layout.CODE_CODE_START, "<Q", CODE_START)
    m.put(CODE + layout.CODE_CODE_END, "<Q", CODE_START + 0x100)
    m.put(CODE + layout.CODE_NAME, "<Q", NAMES)
    m.put(CODE + layout.CODE_NAME_LEN, "<Q", 5)
    m.put(CODE + layout.CODE_FUNCTIONS, "<Q", FUNCTIONS)
    m.put(CODE + layout.CODE_FUNCTION_COUNT, "<Q", 2)
    m.put(CODE + layout.CODE_SOURCE_MAP, "<Q", SOURCE_MAP)
    m.put(CODE + layout.CODE_SOURCE_MAP_LEN, "<Q", 3)
    m.put(CODE + layout.CODE_TRAPS, "<Q", TRAPS)
    m.put(CODE + layout.CODE_TRAP_COUNT, "<Q", 2)
    m.region(TRAPS, 2 * layout.TRAP_PAIR_SIZE)
    m.put(TRAPS, "<II", 0x18, 2)
    m.put(TRAPS + layout.TRAP_PAIR_SIZE, "<II", 0x60, 1)
    m.region(NAMES, 64)
    m.regions[NAMES][0:14] = b"chaingenerator"
    m.region(FUNCTIONS, 2 * layout.FUNCTION_SIZE)
    for i, (start, end, name_at, name_len) in enumerate(
            [(0, 0x40, NAMES + 5, 3), (0x40, 0x100, NAMES + 8, 6)]):
        f = FUNCTIONS + layout.FUNCTION_SIZE * i
        m.put(f + layout.FUNCTION_START, "<Q", CODE_START + start)
        m.put(f + layout.FUNCTION_END, "<Q", CODE_START + end)
        m.put(f + layout.FUNCTION_INDEX, "<I", i + 1)
        m.put(f + layout.FUNCTION_NAME_LEN, "<I", name_len)
        m.put(f + layout.FUNCTION_NAME, "<Q", name_at)
    m.region(SOURCE_MAP, 3 * layout.SOURCE_MAP_PAIR_SIZE)
    for i, pair in enumerate([(0x4, 0x20), (0x30, 0x24), (0x50, 0x40)]):
        m.put(SOURCE_MAP + layout.SOURCE_MAP_PAIR_SIZE * i, "<II", *pair)
    return m


def use_everything(reg, rng):
    """What the commands ask of a snapshot."""
    for r in reg.live():
        reg.entry_name(r)
        reg.context_of(r)
        reg.child_of(r)
        r.state_name
    reg.landing_sites()
    for _ in range(4):
        pc = rng.choice([CODE_START + rng.randrange(0x120), rng.getrandbits(64)])
        reg.stack_of(rng.getrandbits(64))
        reg.by_id(rng.randrange(8))
        reg.at_trampoline_fp(rng.getrandbits(64))
        reg.in_trampoline(pc)
        f = reg.function_at(pc)
        if f is not None:
            f.module.wasm_offset(pc)
        reg.trap_at(pc)


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


class RegistryReaderTest(unittest.TestCase):
    def test_a_registry_reads_back_as_written(self):
        reg = Registry(build().read, HEADER)
        self.assertEqual([(r.id, r.state_name) for r in reg.live()],
                         [(1, "running"), (2, "suspended"), (3, "fresh"), (4, "running")])
        self.assertEqual(len(reg.records), 5)
        self.assertEqual([m.name for m in reg.modules], ["chain"])
        self.assertEqual([(f.name, f.index) for f in reg.modules[0].functions],
                         [("gen", 1), ("erator", 2)])
        self.assertEqual(reg.entry_name(reg.by_id(2)), "chain!erator")
        self.assertEqual(reg.by_id(4).parent_record, record_addr(0))
        self.assertIs(reg.child_of(reg.by_id(1)), reg.by_id(4))
        self.assertEqual(reg.context_of(reg.by_id(1)), reg.by_id(4).parent)
        self.assertEqual(reg.context_of(reg.by_id(2))[2], CODE_START + 0x30)
        self.assertIs(reg.at_trampoline_fp(record_addr(2) + layout.TRAMPOLINE_FP), reg.by_id(3))
        self.assertIs(reg.stack_of(RECORD_BASE + 0x1000 + 8), reg.by_id(2))
        self.assertEqual(reg.landing_sites(),
                         {TRAMPOLINE, CODE_START + 0x30, CODE_START + 0x10})
        module = reg.modules[0]
        self.assertEqual(module.wasm_offset(CODE_START + 0x31), 0x24)
        self.assertEqual(module.wasm_offset(CODE_START + 0x4), 0x20)
        self.assertEqual(reg.trap_at(CODE_START + 0x18), (2, "integer divide by zero"))
        self.assertEqual(reg.trap_at(CODE_START + 0x60), (1, "unreachable"))
        self.assertIsNone(reg.trap_at(CODE_START + 0x19))
        self.assertIsNone(reg.trap_at(0x10))
        self.assertIsNone(module.wasm_offset(CODE_START + 0x3))

    def test_a_changing_or_foreign_registry_is_refused(self):
        m = build()
        m.put(HEADER + layout.HEADER_GENERATION, "<Q", 7)
        with self.assertRaisesRegex(RegistryError, "keeps changing"):
            Registry(m.read, HEADER)
        m = build()
        m.put(HEADER + layout.HEADER_VERSION, "<I", layout.VERSION + 1)
        with self.assertRaisesRegex(RegistryError, "version"):
            Registry(m.read, HEADER)
        with self.assertRaisesRegex(RegistryError, "bad magic"):
            Registry(build().read, RECORD_BASE)
        m = build()
        m.put(STORE + layout.STORE_NEXT, "<Q", STORE)
        with self.assertRaisesRegex(RegistryError, "loops"):
            Registry(m.read, HEADER)

    def test_garbage_raises_registry_error_only(self):
        rng = random.Random(SEED)
        valid = build()
        addresses = sorted(valid.regions)
        interesting = [0, 1, 2 ** 64 - 1, 2 ** 63, 2 ** 32, 0x7fffffff] + addresses
        outcomes = {"read": 0, "RegistryError": 0}
        old = signal.signal(signal.SIGALRM, _alarm)
        started = time.monotonic()
        try:
            for case in range(CASES):
                m = build()
                for _ in range(rng.randrange(1, 6)):
                    base = rng.choice(addresses)
                    data = m.regions.get(base)
                    if data is None:
                        continue
                    kind = rng.randrange(5)
                    if kind == 0 and data:  # flip bytes
                        for _ in range(rng.randrange(1, 9)):
                            data[rng.randrange(len(data))] = rng.randrange(256)
                    elif kind == 1 and len(data) >= 8:  # a word of our choice
                        at = rng.randrange(len(data) - 7) & ~7
                        word = rng.choice(interesting) + rng.choice([0, 0, 8, -8, 40])
                        struct.pack_into("<Q", data, at, word % 2 ** 64)
                    elif kind == 2:  # truncate
                        del data[rng.randrange(len(data) + 1):]
                    elif kind == 3:  # random bytes
                        data[:] = bytes(rng.getrandbits(8) for _ in range(len(data)))
                    elif base != HEADER:  # unmapped
                        del m.regions[base]
                signal.alarm(HANG)
                try:
                    reg = Registry(m.read, HEADER)
                    use_everything(reg, rng)
                    outcomes["read"] += 1
                except RegistryError:
                    outcomes["RegistryError"] += 1
                except Hang:
                    self.fail("case %d (seed %d) took more than %ds" % (case, SEED, HANG))
                except Exception as e:  # noqa: BLE001 - the point of the test
                    self.fail("case %d (seed %d) raised %r" % (case, SEED, e))
                finally:
                    signal.alarm(0)
        finally:
            signal.signal(signal.SIGALRM, old)
        elapsed = time.monotonic() - started
        print("\n%d cases in %.1fs: %d read, %d refused with RegistryError"
              % (CASES, elapsed, outcomes["read"], outcomes["RegistryError"]))
        # Both outcomes happen: the mutations are neither all harmless nor
        # all fatal.
        self.assertGreater(outcomes["read"], CASES // 20)
        self.assertGreater(outcomes["RegistryError"], CASES // 20)


if __name__ == "__main__":
    unittest.main()
