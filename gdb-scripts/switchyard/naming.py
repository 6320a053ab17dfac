"""What a continuation runs, where it was created, and what it waits on,
for `info continuations`: the same rules as the Rust tools
(unwind/src/naming.rs, unwind/src/groups.rs, docs/inspector.md), read from
the registry and the module bytes it points to. gdb cannot call the Rust
code, so the rules are written twice; tools/tests/gdb_fibers.rs checks that
both name green.c's fibers alike.

This module does not import gdb: it reads memory through the registry's
`read` function, like registry.py.
"""

import struct

from . import layout
from .registry import RegistryError, _checked_read

MAX_MODULE = 256 << 20
MAX_FRAMES = 256
# The most of a stack read at once for a walk (its used part, from sp).
MAX_WINDOW = 64 << 10
# A frame record: the caller's fp, then the return address.
_FRAME = struct.Struct("<QQ")


def _leb(b, at):
    """An unsigned LEB128 number at `at`: (value, next offset)."""
    value = shift = 0
    for i in range(5):
        if at + i >= len(b):
            raise ValueError("truncated")
        byte = b[at + i]
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at + i + 1
    raise ValueError("long LEB128")


def _skip_leb(b, at):
    for i in range(10):
        if at + i >= len(b):
            raise ValueError("truncated")
        if not b[at + i] & 0x80:
            return at + i + 1
    raise ValueError("long LEB128")


def _skip_valtype(b, at):
    """Past one value type (or a storage type, or a block type's byte)."""
    if b[at] in (0x63, 0x64):  # (ref null ht), (ref ht)
        return _skip_leb(b, at + 1)
    return at + 1


def _skip_blocktype(b, at):
    if b[at] == 0x40 or 0x63 <= b[at] <= 0x7F:
        return _skip_valtype(b, at)
    return _skip_leb(b, at)


# Opcodes a fresh entry's body may use, by the immediates they take; any
# other ends the analysis (no name): enough for fiber libraries' entries.
_NO_IMM = set(range(0x45, 0xC5)) | {0x00, 0x01, 0x05, 0x0B, 0x0F, 0x1A, 0x1B,
                                    0xD1, 0xD3, 0xD4}
_ONE_LEB = {0x0C, 0x0D, 0x10, 0x12, 0x14, 0x15, 0x20, 0x21, 0x22, 0x23, 0x24,
            0x25, 0x26, 0x3F, 0x40, 0x41, 0x42, 0xD2, 0xD5, 0xD6}


def _operators(b, at, end):
    """(offset, opcode, immediates as LEB values for locals and calls) of
    a body's instructions; ValueError at an instruction it does not know."""
    while at < end:
        op = b[at]
        start = at
        imm = None
        if op in _NO_IMM:
            at += 1
        elif op in _ONE_LEB:
            if op in (0x20, 0x21, 0x22):
                imm, at = _leb(b, at + 1)
            else:
                at = _skip_leb(b, at + 1)
        elif op in (0x11, 0x13):  # call_indirect type table
            at = _skip_leb(b, at + 1)
            imm, at = _leb(b, at)
        elif op in (0x02, 0x03, 0x04):
            at = _skip_blocktype(b, at + 1)
        elif op == 0x0E:
            count, at = _leb(b, at + 1)
            for _ in range(count + 1):
                at = _skip_leb(b, at)
        elif op == 0x1C:
            count, at = _leb(b, at + 1)
            for _ in range(count):
                at = _skip_valtype(b, at)
        elif 0x28 <= op <= 0x3E:  # memarg
            align, at = _leb(b, at + 1)
            if align & 0x40:
                at = _skip_leb(b, at)
            at = _skip_leb(b, at)
        elif op == 0x43:
            at += 5
        elif op == 0x44:
            at += 9
        elif op == 0xD0:
            at = _skip_leb(b, at + 1)  # heap type
        else:
            raise ValueError("opcode 0x%x" % op)
        yield start, op, imm


class ModuleCode:
    """A module's function body ranges, function types and tag names,
    from its bytes."""

    def __init__(self, data):
        self.data = data
        self.bodies = []
        self.tags = {}
        self.imported_funcs = 0
        self.func_types = []
        self.type_params = []
        if data[:4] != b"\0asm":
            return
        at = 8
        while at < len(data):
            sid = data[at]
            size, start = _leb(data, at + 1)
            end = start + size
            if sid in (1, 2, 3):
                try:
                    self._section(sid, start)
                except (ValueError, IndexError):
                    self.type_params = []
            if sid == 10:
                count, p = _leb(data, start)
                for _ in range(count):
                    bsize, body = _leb(data, p)
                    self.bodies.append((body, body + bsize))
                    p = body + bsize
            elif sid == 0:
                nlen, p = _leb(data, start)
                if data[p:p + nlen] == b"name":
                    self._names(p + nlen, end)
            at = end

    def _section(self, sid, at):
        """Types (the parameter words of function types), imported
        functions and the function section."""
        b = self.data
        count, at = _leb(b, at)
        for _ in range(count):
            if sid == 1:
                at = self._rec_group(at)
            elif sid == 2:
                for _ in range(2):
                    n, at = _leb(b, at)
                    at += n
                kind = b[at]
                if kind == 0x00:
                    ty, at = _leb(b, at + 1)
                    self.func_types.append(ty)
                    self.imported_funcs += 1
                elif kind == 0x01:
                    at = _skip_valtype(b, at + 1)
                    at = self._skip_limits(at)
                elif kind == 0x02:
                    at = self._skip_limits(at + 1)
                elif kind == 0x03:
                    at = _skip_valtype(b, at + 1) + 1
                elif kind == 0x04:
                    at = _skip_leb(b, at + 2)
                else:
                    raise ValueError("import kind 0x%x" % kind)
            else:
                ty, at = _leb(b, at)
                self.func_types.append(ty)

    def _skip_limits(self, at):
        flags = self.data[at]
        at = _skip_leb(self.data, at + 1)
        return _skip_leb(self.data, at) if flags & 1 else at

    def _rec_group(self, at):
        b = self.data
        if b[at] == 0x4E:  # rec
            count, at = _leb(b, at + 1)
            for _ in range(count):
                at = self._sub_type(at)
            return at
        return self._sub_type(at)

    def _sub_type(self, at):
        b = self.data
        if b[at] in (0x50, 0x4F):  # sub, sub final
            count, at = _leb(b, at + 1)
            for _ in range(count):
                at = _skip_leb(b, at)
        form = b[at]
        at += 1
        params = None
        if form == 0x60:  # func
            params = []
            count, at = _leb(b, at)
            for _ in range(count):
                params.append(2 if b[at] == 0x7B else 1)
                at = _skip_valtype(b, at)
            count, at = _leb(b, at)
            for _ in range(count):
                at = _skip_valtype(b, at)
        elif form == 0x5F:  # struct
            count, at = _leb(b, at)
            for _ in range(count):
                at = _skip_valtype(b, at) + 1
        elif form == 0x5E:  # array
            at = _skip_valtype(b, at) + 1
        elif form == 0x5D:  # cont
            at = _skip_leb(b, at)
        else:
            raise ValueError("type form 0x%x" % form)
        self.type_params.append(params)
        return at

    def bound_callee(self, function):
        """`(word, table)` of the callee of function `function`'s forwarding
        call when it is one of its parameters (`table` None for call_ref),
        as unwind/src/naming.rs's `bound_callee`; None otherwise."""
        body = function - self.imported_funcs
        if not 0 <= body < len(self.bodies) or function >= len(self.func_types):
            return None
        ty = self.func_types[function]
        params = self.type_params[ty] if ty < len(self.type_params) else None
        if params is None:
            return None
        start, end = self.bodies[body]
        b = self.data
        try:
            count, at = _leb(b, start)
            for _ in range(count):
                at = _skip_valtype(b, _skip_leb(b, at))
            written = set()
            last_get = found = None
            for offset, op, imm in _operators(b, at, end):
                via = False
                if op in (0x21, 0x22):
                    written.add(imm)
                elif op == 0x11 and self.is_forwarding_call(offset) or op == 0x13:
                    via = ("table", imm)
                elif op == 0x14 and self.is_forwarding_call(offset) or op == 0x15:
                    via = ("ref", None)
                if via and found is None:
                    found = (last_get, via[1]) if last_get is not None else ()
                last_get = imm if op == 0x20 else None
        except (ValueError, IndexError):
            return None
        if not found:
            return None
        param, table = found
        if param >= len(params) or param in written:
            return None
        return sum(params[:param]), table

    def _names(self, at, end):
        while at < end:
            sub = self.data[at]
            size, start = _leb(self.data, at + 1)
            if sub == 11:
                count, p = _leb(self.data, start)
                for _ in range(count):
                    index, p = _leb(self.data, p)
                    nlen, p = _leb(self.data, p)
                    self.tags[index] = self.data[p:p + nlen].decode("utf-8", "replace")
                    p += nlen
            at = start + size

    def _body_end(self, offset):
        for start, end in self.bodies:
            if start <= offset < end:
                return end
        return None

    def is_forwarding_call(self, offset):
        """Whether the instruction at `offset` is an indirect call after
        which the function only moves values to its return."""
        end = self._body_end(offset)
        if end is None:
            return False
        b = self.data[:end]
        try:
            if b[offset] == 0x11:
                at = _skip_leb(b, _skip_leb(b, offset + 1))
            elif b[offset] == 0x14:
                at = _skip_leb(b, offset + 1)
            else:
                return False
            for _ in range(64):
                op = b[at]
                if op == 0x0B and at + 1 == end or op == 0x0F:
                    return True
                if op in (0x0B, 0x1A, 0x6A, 0x6B, 0x7C, 0x7D):
                    at += 1
                elif 0x20 <= op <= 0x24 or op in (0x41, 0x42):
                    at = _skip_leb(b, at + 1)
                else:
                    return False
        except (ValueError, IndexError):
            return False
        return False

    def tag_at(self, offset):
        """`$name` (or `tag N`) of a suspend or switch at `offset`."""
        end = self._body_end(offset)
        if end is None:
            return None
        b = self.data[:end]
        try:
            if b[offset] == 0xE2:
                at = offset + 1
            elif b[offset] == 0xE5:
                at = _skip_leb(b, offset + 1)
            else:
                return None
            tag, _ = _leb(b, at)
        except (ValueError, IndexError):
            return None
        return "$" + self.tags[tag] if tag in self.tags else "tag %d" % tag


class StackWindow:
    """The used part of one stack, `[sp, high)` (at most MAX_WINDOW bytes),
    read with one read of memory, so that walking its frames costs one
    read rather than one per frame. Reads outside it, or of a window that
    could not be read whole, go to `read` as before."""

    def __init__(self, read, sp, high):
        self._read = read
        self.low = sp
        self.data = b""
        size = min(high, sp + MAX_WINDOW) - sp
        if size > 0:
            try:
                self.data = _checked_read(read, sp, size)
            except RegistryError:
                pass

    def read(self, addr, size):
        at = addr - self.low
        if 0 <= at and at + size <= len(self.data):
            return self.data[at:at + size]
        return _checked_read(self._read, addr, size)

    def frame(self, fp):
        """The frame record at fp: (saved fp, return address)."""
        at = fp - self.low
        if 0 <= at and at + 16 <= len(self.data):
            return _FRAME.unpack_from(self.data, at)
        return _FRAME.unpack(_checked_read(self._read, fp, 16))


class Namer:
    """Names continuations of one registry snapshot (module code, names,
    waits and creation sites cached: thousands of continuations share a
    few of each)."""

    def __init__(self, reg, read):
        self.reg = reg
        self.read = read
        self._code = {}
        self._window = None
        self._names = {}
        self._tags = {}
        self._sites = {}

    def stack(self, record, sp):
        """`record`'s stack from sp up, as a StackWindow (the last one asked
        for is kept, so a walk and a listing of the same stack share it)."""
        key = (record.addr, sp, record.stack_high)
        if self._window is None or self._window[0] != key:
            self._window = (key, StackWindow(self.read, sp, record.stack_high))
        return self._window[1]

    def code(self, module):
        if module.name not in self._code:
            code = None
            if 0 < module.module_len <= MAX_MODULE:
                try:
                    code = ModuleCode(_checked_read(self.read, module.module_bytes,
                                                    module.module_len))
                except (RegistryError, ValueError, IndexError):
                    code = None
            self._code[module.name] = code
        return self._code[module.name]

    def walk(self, record):
        """Return addresses of a suspended continuation's frames (the first
        is where its switch returns), by frame pointers, down to its
        trampoline."""
        if record.state != layout.STATE_SUSPENDED:
            return []
        sp, fp, pc = record.own
        pcs = [pc]
        frame = self.stack(record, sp).frame
        low, high = record.stack_low, record.stack_high - 8
        for _ in range(MAX_FRAMES):
            if not (low <= fp < high):
                break
            try:
                nfp, ret = frame(fp)
            except RegistryError:
                break
            if ret == 0 or self.reg.in_trampoline(ret - 1):
                break
            pcs.append(ret)
            if nfp <= fp:
                break
            fp = nfp
        return pcs

    def _offset(self, pc):
        f = self.reg.function_at(pc - 1)
        if f is None:
            return None, None
        return f, f.module.wasm_offset(pc - 1)

    def _u64(self, addr):
        return int.from_bytes(_checked_read(self.read, addr, 8), "little")

    def fresh_body(self, record):
        """The code address of the function a fresh continuation will run:
        the callee its entry forwards to, from the words cont.bind bound
        (docs/registry.md, "Naming a fresh continuation"); None if unknown."""
        if record.state != layout.STATE_FRESH or not record.entry_func:
            return None
        try:
            entry_code = self._u64(record.entry_func + layout.FUNCREF_CODE)
            f = self.reg.function_at(entry_code)
            code = self.code(f.module) if f else None
            callee = code.bound_callee(f.index) if code else None
            if callee is None or callee[0] >= len(record.bound):
                return None
            word, table = callee
            value = record.bound[word]
            if table is None:
                funcref = value
            else:
                vmctx = self._u64(record.entry_func + layout.FUNCREF_VMCTX)
                if not vmctx or not f.module.vmctx_tables:
                    return None
                t = self._u64(vmctx + f.module.vmctx_tables + 8 * table)
                index = value & 0xFFFFFFFF
                if index >= self._u64(t + layout.TABLE_LENGTH):
                    return None
                base = self._u64(t + layout.TABLE_BASE)
                funcref = self._u64(base + layout.TABLE_ELEMENT_SIZE * index)
            return self._u64(funcref + layout.FUNCREF_CODE) if funcref else None
        except RegistryError:
            return None

    def name(self, record, pcs):
        """`module!function` of what it runs: the first function from the
        bottom whose call is not a forwarding call; for a fresh one, the
        function its entry will call; its entry when none."""
        entry = self.reg.entry_name(record)
        # A fresh one's name comes from its bound words (and the table
        # they index), which the pcs do not say: it is not cached.
        if not pcs:
            return self._name(entry, record, pcs)
        key = (entry, tuple(pcs))
        if key not in self._names:
            self._names[key] = self._name(entry, record, pcs)
        return self._names[key]

    def _name(self, entry, record, pcs):
        wasm = [pc for pc in pcs if self.reg.function_at(pc - 1)]
        if not wasm:
            body = self.fresh_body(record)
            f = self.reg.function_at(body) if body else None
            return "%s!%s" % (f.module.name, f.name) if f else entry
        for pc in reversed(wasm[1:]):
            f, offset = self._offset(pc)
            code = self.code(f.module)
            if offset is None or code is None or not code.is_forwarding_call(offset):
                return "%s!%s" % (f.module.name, f.name)
        f = self.reg.function_at(wasm[0] - 1)
        return "%s!%s" % (f.module.name, f.name)

    def waiting_on(self, record, pcs):
        """The tag of the suspend or switch it stopped at."""
        if record.state != layout.STATE_SUSPENDED or not pcs:
            return None
        if pcs[0] not in self._tags:
            self._tags[pcs[0]] = self._tag(pcs[0])
        return self._tags[pcs[0]]

    def _tag(self, pc):
        f, offset = self._offset(pc)
        if f is None or offset is None:
            return None
        code = self.code(f.module)
        return code.tag_at(offset) if code else None

    def site_pc(self, record):
        """The creation site's return address: the first of the creating
        stack outside the module that executed cont.new."""
        key = tuple(record.creation)
        if key not in self._sites:
            self._sites[key] = self._site_pc(record.creation)
        return self._sites[key]

    def _site_pc(self, creation):
        wasm = [(pc, self.reg.module_at(pc - 1)) for pc in creation]
        wasm = [(pc, m) for pc, m in wasm if m is not None]
        if not wasm:
            return None
        first = wasm[0][1]
        for pc, m in wasm:
            if m is not first:
                return pc
        return wasm[-1][0]

    def waited_ms(self, record):
        if not self.reg.clock or not record.last_switch:
            return 0
        return max(0, self.reg.clock - record.last_switch) // 1000000
