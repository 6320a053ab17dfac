"""Reading the registry of live stacks (docs/registry.md) through its
layout (`layout.py`, generated from the switchyard-registry-layout crate).

This module does not import gdb: memory comes from a `read(address, size)`
function that returns exactly `size` bytes or raises RegistryError, so the
same reader runs inside gdb and, in tests, on fabricated memory. Nothing
read is trusted: counts and lengths are bounded, linked lists are checked
for cycles, and every failure is a RegistryError.
"""

import struct

from . import layout

MAX_STORES = 4096
MAX_RECORDS = 1 << 20
MAX_MODULES = 100000
MAX_FUNCTIONS = 1 << 20
MAX_NAME = 4096
MAX_SOURCE_MAP = 1 << 24
MAX_TRAPS = 1 << 24
# Reads retried while the process changes the registry.
MAX_ATTEMPTS = 100

_ADDRESS_END = 1 << 64


class RegistryError(Exception):
    """The registry could not be read, or is not what the layout says."""


def _checked_read(read, addr, size):
    if size < 0 or addr < 0 or addr + size > _ADDRESS_END:
        raise RegistryError("no memory at 0x%x (%d bytes)" % (addr, size))
    data = read(addr, size)
    if len(data) != size:
        raise RegistryError("short read at 0x%x" % addr)
    return data


def _u32(raw, offset):
    return struct.unpack_from("<I", raw, offset)[0]


def _u64(raw, offset):
    return struct.unpack_from("<Q", raw, offset)[0]


def _string(read, addr, length):
    if length > MAX_NAME:
        raise RegistryError("a name of %d bytes" % length)
    return _checked_read(read, addr, length).decode("utf-8", "replace")


# The part of a record this reader uses: all of it.
_RECORD_READ = layout.RECORD_SIZE


def _fields_struct(fields, size):
    """One `struct.Struct` that unpacks the `(name, offset, code)` fields of
    a `size`-byte block in one call, and where each name's first value is
    in the tuple it returns."""
    fmt = "<"
    at = 0
    index = {}
    count = 0
    for name, offset, code in sorted(fields, key=lambda f: f[1]):
        if offset < at:
            raise AssertionError("field %s overlaps the one before it" % name)
        if offset > at:
            fmt += "%dx" % (offset - at)
        fmt += code
        at = offset + struct.calcsize("<" + code)
        index[name] = count
        count += int(code[:-1] or 1)
    if at > size:
        raise AssertionError("fields end at %d, past %d" % (at, size))
    return struct.Struct(fmt), index


def _context_fields(prefix, offset):
    return [(prefix + "_sp", offset + layout.CONTEXT_SP, "Q"),
            (prefix + "_fp", offset + layout.CONTEXT_FP, "Q"),
            (prefix + "_pc", offset + layout.CONTEXT_PC, "Q")]


# Every field a Record keeps, unpacked by one call (a snapshot of
# thousands of continuations spends its time here).
_RECORD_STRUCT, _RECORD_AT = _fields_struct(
    [("magic", layout.RECORD_MAGIC, "I"),
     ("state", layout.RECORD_STATE, "I"),
     ("id", layout.RECORD_ID, "Q"),
     ("stack_low", layout.RECORD_STACK_LOW, "Q"),
     ("stack_high", layout.RECORD_STACK_HIGH, "Q"),
     ("parent_record", layout.RECORD_PARENT_RECORD, "Q"),
     ("entry_func", layout.RECORD_ENTRY_FUNC, "Q"),
     ("last_tag", layout.RECORD_LAST_TAG, "Q"),
     ("resumes", layout.RECORD_RESUMES, "Q"),
     ("switches", layout.RECORD_SWITCHES, "Q"),
     ("bound", layout.RECORD_BOUND, "Q"),
     ("args", layout.RECORD_ARGS, "%dQ" % layout.MAX_PAYLOAD)]
    + _context_fields("parent", layout.RECORD_PARENT)
    + _context_fields("own", layout.RECORD_OWN)
    + [("created_by", layout.RECORD_CREATED_BY, "Q"),
       ("last_switch", layout.RECORD_LAST_SWITCH, "Q"),
       ("caught_pc", layout.RECORD_CAUGHT_PC, "Q"),
       ("caught_by", layout.RECORD_CAUGHT_BY, "Q"),
       ("creation", layout.RECORD_CREATION, "%dQ" % layout.CREATION_FRAMES)],
    _RECORD_READ)


class Record:
    """One ContinuationRecord."""

    __slots__ = ("addr", "state", "id", "stack_low", "stack_high", "parent_record",
                 "entry_func", "last_tag", "resumes", "switches", "parent", "own",
                 "created_by", "last_switch", "caught_pc", "caught_by", "creation", "bound")

    def __init__(self, read, addr):
        v = _RECORD_STRUCT.unpack_from(_checked_read(read, addr, _RECORD_READ))
        at = _RECORD_AT
        if v[at["magic"]] != layout.MAGIC_RECORD:
            raise RegistryError("bad continuation record at 0x%x" % addr)
        self.addr = addr
        self.state = v[at["state"]]
        self.id = v[at["id"]]
        self.stack_low = v[at["stack_low"]]
        self.stack_high = v[at["stack_high"]]
        self.parent_record = v[at["parent_record"]]
        self.entry_func = v[at["entry_func"]]
        self.last_tag = v[at["last_tag"]]
        self.resumes = v[at["resumes"]]
        self.switches = v[at["switches"]]
        self.parent = (v[at["parent_sp"]], v[at["parent_fp"]], v[at["parent_pc"]])
        self.own = (v[at["own_sp"]], v[at["own_fp"]], v[at["own_pc"]])
        self.created_by = v[at["created_by"]]
        self.last_switch = v[at["last_switch"]]
        self.caught_pc = v[at["caught_pc"]]
        self.caught_by = v[at["caught_by"]]
        # While fresh: the words cont.bind bound to the entry's parameters.
        self.bound = []
        if self.state == layout.STATE_FRESH:
            count = min(v[at["bound"]], layout.MAX_PAYLOAD)
            self.bound = list(v[at["args"]:at["args"] + count])
        creation = v[at["creation"]:at["creation"] + layout.CREATION_FRAMES]
        self.creation = list(creation[:creation.index(0)] if 0 in creation else creation)

    @property
    def live(self):
        return self.state in (layout.STATE_FRESH, layout.STATE_RUNNING, layout.STATE_SUSPENDED)

    @property
    def state_name(self):
        return layout.STATE_NAMES.get(self.state, "unknown")

    def contains(self, sp):
        return self.stack_low <= sp < self.stack_high


class Function:
    """One function of a module's code."""

    def __init__(self, start, end, index, name, module):
        self.start, self.end, self.index, self.name, self.module = start, end, index, name, module


class CodeEntry:
    """One compiled module of the code map."""

    def __init__(self, read, addr, entry_size=layout.CODE_ENTRY_MIN_SIZE):
        self._read = read
        raw = _checked_read(read, addr, min(entry_size, layout.CODE_SIZE))
        self.next = _u64(raw, layout.CODE_NEXT)
        self.start = _u64(raw, layout.CODE_CODE_START)
        self.end = _u64(raw, layout.CODE_CODE_END)
        name_len = _u64(raw, layout.CODE_NAME_LEN)
        self.name = _string(read, _u64(raw, layout.CODE_NAME), name_len) if name_len else "?"
        self.module_bytes = _u64(raw, layout.CODE_MODULE_BYTES)
        self.module_len = _u64(raw, layout.CODE_MODULE_LEN)
        self.source_map = _u64(raw, layout.CODE_SOURCE_MAP)
        self.source_map_len = _u64(raw, layout.CODE_SOURCE_MAP_LEN)
        self.vmctx_tables = 0
        if len(raw) >= layout.CODE_VMCTX_TABLES + 8:
            self.vmctx_tables = _u64(raw, layout.CODE_VMCTX_TABLES)
        if len(raw) >= layout.CODE_TRAP_COUNT + 8:
            self.trap_table = _u64(raw, layout.CODE_TRAPS)
            self.trap_count = _u64(raw, layout.CODE_TRAP_COUNT)
        else:
            self.trap_table = self.trap_count = 0
        self._traps = None
        count = _u64(raw, layout.CODE_FUNCTION_COUNT)
        if count > MAX_FUNCTIONS:
            raise RegistryError("%d functions in module %s" % (count, self.name))
        table = _checked_read(read, _u64(raw, layout.CODE_FUNCTIONS),
                              layout.FUNCTION_SIZE * count) if count else b""
        self.functions = []
        for i in range(count):
            at = layout.FUNCTION_SIZE * i
            index = _u32(table, at + layout.FUNCTION_INDEX)
            nlen = _u32(table, at + layout.FUNCTION_NAME_LEN)
            fname = (_string(read, _u64(table, at + layout.FUNCTION_NAME), nlen) if nlen
                     else "wasm-function[%d]" % index)
            self.functions.append(Function(_u64(table, at + layout.FUNCTION_START),
                                           _u64(table, at + layout.FUNCTION_END),
                                           index, fname, self))
        self._map = None

    def function_at(self, pc):
        for f in self.functions:
            if f.start <= pc < f.end:
                return f
        return None

    def trap_at(self, pc):
        """The trap code of a fault at pc, or None: not a Wasm trap."""
        if self._traps is None:
            if self.trap_count > MAX_TRAPS:
                raise RegistryError("a trap table of %d pairs" % self.trap_count)
            size = layout.TRAP_PAIR_SIZE
            raw = (_checked_read(self._read, self.trap_table, size * self.trap_count)
                   if self.trap_count else b"")
            self._traps = dict(struct.unpack_from("<II", raw, size * i)
                               for i in range(self.trap_count))
        return self._traps.get(pc - self.start)

    def wasm_offset(self, pc):
        """Module byte offset of the Wasm instruction at pc."""
        if self._map is None:
            if self.source_map_len > MAX_SOURCE_MAP:
                raise RegistryError("a source map of %d pairs" % self.source_map_len)
            size = layout.SOURCE_MAP_PAIR_SIZE
            raw = (_checked_read(self._read, self.source_map, size * self.source_map_len)
                   if self.source_map_len else b"")
            self._map = [struct.unpack_from("<II", raw, size * i)
                         for i in range(self.source_map_len)]
        offset = pc - self.start
        best = None
        lo, hi = 0, len(self._map)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._map[mid][0] <= offset:
                best = self._map[mid][1]
                lo = mid + 1
            else:
                hi = mid
        return best


class Registry:
    """A consistent snapshot of the registry at `addr` (retried while it
    changes)."""

    def __init__(self, read, addr):
        self._read = read
        self.addr = addr
        # Lookups remembered for this snapshot.
        self._module_at = {}
        self._function_at = {}
        self._entry_names = {}
        head = _checked_read(read, addr, layout.HEADER_SIZE)
        if _u32(head, layout.HEADER_MAGIC) != layout.MAGIC_REGISTRY:
            raise RegistryError("%s has a bad magic number" % layout.SYMBOL)
        version = _u32(head, layout.HEADER_VERSION)
        if version != layout.VERSION:
            raise RegistryError("registry version %d is not supported (%d is)"
                                % (version, layout.VERSION))
        for _ in range(MAX_ATTEMPTS):
            gen = self._generation()
            if gen % 2 == 0:
                self._read_all()
                if self._generation() == gen:
                    return
        raise RegistryError("the registry keeps changing (is the process stopped?)")

    def _generation(self):
        return _u64(_checked_read(self._read, self.addr + layout.HEADER_GENERATION, 8), 0)

    def _read_all(self):
        read = self._read
        head = _checked_read(read, self.addr, layout.HEADER_SIZE)
        record_size = _u32(head, layout.HEADER_RECORD_SIZE)
        if record_size < _RECORD_READ:
            raise RegistryError("record size %d" % record_size)
        code_entry_size = _u32(head, layout.HEADER_CODE_ENTRY_SIZE)
        if code_entry_size < layout.CODE_ENTRY_MIN_SIZE:
            raise RegistryError("code entry size %d" % code_entry_size)
        self.tramp_start = _u64(head, layout.HEADER_TRAMPOLINE_START)
        self.tramp_end = _u64(head, layout.HEADER_TRAMPOLINE_END)
        self.entry_start = _u64(head, layout.HEADER_ENTRY_START)
        self.entry_end = _u64(head, layout.HEADER_ENTRY_END)
        self.clock = _u64(head, layout.HEADER_CLOCK)
        self.records = []
        self.contexts = []
        store = _u64(head, layout.HEADER_STORES)
        seen = set()
        while store:
            if store in seen or len(seen) >= MAX_STORES:
                raise RegistryError("the store list loops")
            seen.add(store)
            raw = _checked_read(read, store, layout.STORE_SIZE)
            count = _u64(raw, layout.STORE_RECORD_COUNT)
            if count > MAX_RECORDS:
                raise RegistryError("%d stack records" % count)
            self.contexts.append(_u64(raw, layout.STORE_CONTEXT))
            size = layout.RECORD_POINTER_SIZE
            ptrs = (_checked_read(read, _u64(raw, layout.STORE_RECORDS), size * count)
                    if count else b"")
            for i in range(count):
                self.records.append(Record(read, _u64(ptrs, size * i)))
            store = _u64(raw, layout.STORE_NEXT)
        self.modules = []
        code = _u64(head, layout.HEADER_CODE)
        seen = set()
        while code:
            if code in seen or len(seen) >= MAX_MODULES:
                raise RegistryError("the code map loops")
            seen.add(code)
            entry = CodeEntry(read, code, code_entry_size)
            self.modules.append(entry)
            code = entry.next

    # Lookups.
    def live(self):
        return sorted((r for r in self.records if r.live), key=lambda r: r.id)

    def by_id(self, ident):
        for r in self.records:
            if r.id == ident and r.live:
                return r
        return None

    def by_addr(self, addr):
        for r in self.records:
            if r.addr == addr:
                return r
        return None

    def at_trampoline_fp(self, fp):
        """The record whose trampoline frame has frame pointer fp."""
        return self.by_addr(fp - layout.TRAMPOLINE_FP)

    def stack_of(self, sp):
        """The live continuation whose stack holds sp; None for a host stack."""
        for r in self.records:
            if r.live and r.contains(sp):
                return r
        return None

    def module_at(self, pc):
        try:
            return self._module_at[pc]
        except KeyError:
            pass
        found = None
        for m in self.modules:
            if m.start <= pc < m.end:
                found = m
                break
        self._module_at[pc] = found
        return found

    def function_at(self, pc):
        """The function whose code holds pc (remembered per pc: thousands
        of continuations stop at the same few pcs)."""
        try:
            return self._function_at[pc]
        except KeyError:
            pass
        m = self.module_at(pc)
        found = m.function_at(pc) if m else None
        self._function_at[pc] = found
        return found

    def trap_at(self, pc):
        """`(code, message)` of the Wasm trap a fault at pc is, or None."""
        m = self.module_at(pc)
        code = m.trap_at(pc) if m else None
        if not code:
            return None
        return code, layout.TRAP_NAMES.get(code, "unknown trap %d" % code)

    def in_trampoline(self, pc):
        return self.tramp_start <= pc < self.tramp_end

    def child_of(self, record):
        for r in self.records:
            if r.state == layout.STATE_RUNNING and r.parent_record == record.addr:
                return r
        return None

    def entry_name(self, record):
        """`module!function` of the function a continuation was created
        from ("?" if unreadable)."""
        if not record.entry_func:
            return "?"
        if record.entry_func not in self._entry_names:
            try:
                raw = _checked_read(self._read, record.entry_func + layout.FUNCREF_CODE, 8)
            except RegistryError:
                return "?"
            code = _u64(raw, 0)
            f = self.function_at(code)
            self._entry_names[record.entry_func] = ("%s!%s" % (f.module.name, f.name) if f
                                                    else "0x%x" % code)
        return self._entry_names[record.entry_func]

    def context_of(self, record):
        """`(sp, fp, pc)` where the continuation's own frames start, or None
        for the innermost running one (its context is the CPU's)."""
        if record.state == layout.STATE_SUSPENDED:
            return record.own
        if record.state == layout.STATE_RUNNING:
            child = self.child_of(record)
            if child is not None:
                return child.parent
        return None

    def landing_sites(self):
        """Every address where execution continues after a switch: the
        continuation trampoline (a fresh continuation's first instruction),
        each suspended continuation's saved pc, and each running one's
        resumer's saved pc (where suspend and return land)."""
        sites = set()
        if self.tramp_start:
            sites.add(self.tramp_start)
        for r in self.records:
            if r.state == layout.STATE_SUSPENDED and r.own[2]:
                sites.add(r.own[2])
            elif r.state == layout.STATE_RUNNING and r.parent[2]:
                sites.add(r.parent[2])
        return sites
