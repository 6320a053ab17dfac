# gdb helpers for Switchyard: continuations of the Wasm stack switching
# proposal, as seen through the registry of live stacks (docs/registry.md).
#
# Commands:
#   info continuations         every live continuation: id, state, entry
#                              function, where it is, parent, stack use
#   continuation ID            show a suspended (or not innermost running)
#                              continuation's stack as the current one
#   continuation restore       come back to the real registers
#   wasm bt [ID]               logical backtrace: Wasm names, code and Wasm
#                              offsets, source lines, continuation boundaries
#   wasm break-switch [ID]     run to the next resume, suspend, switch or
#                              return (or only the next one into ID)
#   wasm step / wasm next      step / next by source line, following resume
#                              into a continuation and suspend back out
#   wasm finish                run until the current function returns or
#                              its continuation switches away, then stop at
#                              the next source line
#
# The registry is read through its documented layout only (magic, version,
# offsets), never through Rust type information.

import struct

import gdb

MAGIC_REGISTRY = 0x52575953  # "SYWR"
MAGIC_RECORD = 0x43575953  # "SYWC"
STATES = {0: "fresh", 1: "running", 2: "suspended", 3: "returned", 4: "trapped"}
FRESH, RUNNING, SUSPENDED = 0, 1, 2
# Listings of modules without DWARF are written under this directory.
LISTING_DIR = "switchyard-wat"
STEP_LIMIT = 100000


class RegistryError(Exception):
    pass


def _mem(addr, size):
    try:
        return bytes(gdb.selected_inferior().read_memory(addr, size))
    except gdb.MemoryError:
        raise RegistryError("cannot read memory at 0x%x" % addr)


def _u64(addr):
    return struct.unpack("<Q", _mem(addr, 8))[0]


def _u32(addr):
    return struct.unpack("<I", _mem(addr, 4))[0]


_registry_cache = {}


def _registry_cache_address():
    """The registry's address if already known for this process (an
    unwinder must not evaluate expressions), else a RegistryError."""
    pid = gdb.selected_inferior().pid
    if pid not in _registry_cache:
        raise RegistryError("registry not located yet")
    return _registry_cache[pid]


def _registry_address():
    """The address of `switchyard_registry`, looked up as a C symbol (in a
    Rust frame, gdb's Rust parser looks for a path and does not find it)."""
    pid = gdb.selected_inferior().pid
    if pid in _registry_cache:
        return _registry_cache[pid]
    lang = gdb.parameter("language")
    try:
        gdb.execute("set language c", to_string=True)
        addr = int(gdb.parse_and_eval("(unsigned long)&switchyard_registry"))
    except gdb.error:
        raise RegistryError("no switchyard_registry symbol: is this a Switchyard process?")
    finally:
        gdb.execute("set language %s" % (lang or "auto"), to_string=True)
    _registry_cache[pid] = addr
    return addr


class Record:
    """One ContinuationRecord (docs/registry.md)."""

    def __init__(self, addr):
        raw = _mem(addr, 136)
        (magic, state, self.id, self.stack_low, self.stack_high,
         self.parent_record, self.entry_func, self.last_tag,
         self.resumes, self.switches) = struct.unpack_from("<IIQQQQQQQQ", raw, 0)
        if magic != MAGIC_RECORD:
            raise RegistryError("bad continuation record at 0x%x" % addr)
        self.addr = addr
        self.state = state
        self.parent = struct.unpack_from("<QQQ", raw, 72)
        self.own = struct.unpack_from("<QQQ", raw, 96)

    @property
    def live(self):
        return self.state in (FRESH, RUNNING, SUSPENDED)

    def contains(self, sp):
        return self.stack_low <= sp < self.stack_high


class Function:
    def __init__(self, start, end, index, name, module):
        self.start, self.end, self.index, self.name, self.module = start, end, index, name, module


class CodeEntry:
    """One compiled module of the code map."""

    def __init__(self, addr):
        raw = _mem(addr, 88)
        (self.next, self.start, self.end, name, name_len, functions, count,
         _bytes, _len, self.source_map, self.source_map_len) = struct.unpack("<11Q", raw)
        self.name = _mem(name, name_len).decode("utf-8", "replace") if name_len else "?"
        self.functions = []
        table = _mem(functions, 32 * count) if count else b""
        for i in range(count):
            start, end, index, nlen, nptr = struct.unpack_from("<QQIIQ", table, 32 * i)
            fname = _mem(nptr, nlen).decode("utf-8", "replace") if nlen else "wasm-function[%d]" % index
            self.functions.append(Function(start, end, index, fname, self))
        self._map = None

    def function_at(self, pc):
        for f in self.functions:
            if f.start <= pc < f.end:
                return f
        return None

    def wasm_offset(self, pc):
        """Module byte offset of the Wasm instruction at pc."""
        if self._map is None:
            raw = _mem(self.source_map, 8 * self.source_map_len) if self.source_map_len else b""
            self._map = [struct.unpack_from("<II", raw, 8 * i) for i in range(self.source_map_len)]
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
    """A consistent snapshot of the registry (retried while it changes)."""

    def __init__(self):
        self.addr = _registry_address()
        for _ in range(100):
            gen = _u64(self.addr + 24)
            if gen % 2 == 0:
                self._read()
                if _u64(self.addr + 24) == gen:
                    return
        raise RegistryError("the registry keeps changing (is the process stopped?)")

    def _read(self):
        head = _mem(self.addr, 80)
        magic, version = struct.unpack_from("<II", head, 0)
        if magic != MAGIC_REGISTRY:
            raise RegistryError("switchyard_registry has a bad magic number")
        if version != 1:
            raise RegistryError("registry version %d is not supported (1 is)" % version)
        (stores, code, self.tramp_start, self.tramp_end,
         self.entry_start, self.entry_end) = struct.unpack_from("<6Q", head, 32)
        self.records = []
        self.contexts = []
        seen = set()
        while stores and stores not in seen:
            seen.add(stores)
            nxt, context, records, count, _host = struct.unpack("<5Q", _mem(stores, 40))
            self.contexts.append(context)
            ptrs = _mem(records, 8 * count) if count else b""
            for i in range(count):
                self.records.append(Record(struct.unpack_from("<Q", ptrs, 8 * i)[0]))
            stores = nxt
        self.modules = []
        seen = set()
        while code and code not in seen:
            seen.add(code)
            entry = CodeEntry(code)
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

    def stack_of(self, sp):
        """The live continuation whose stack holds sp; None for a host stack."""
        for r in self.records:
            if r.live and r.contains(sp):
                return r
        return None

    def module_at(self, pc):
        for m in self.modules:
            if m.start <= pc < m.end:
                return m
        return None

    def function_at(self, pc):
        m = self.module_at(pc)
        return m.function_at(pc) if m else None

    def in_trampoline(self, pc):
        return self.tramp_start <= pc < self.tramp_end

    def child_of(self, record):
        for r in self.records:
            if r.state == RUNNING and r.parent_record == record.addr:
                return r
        return None

    def entry_name(self, record):
        if not record.entry_func:
            return "?"
        try:
            code = _u64(record.entry_func)
        except RegistryError:
            return "?"
        f = self.function_at(code)
        return "%s!%s" % (f.module.name, f.name) if f else "0x%x" % code

    def context_of(self, record):
        """`(sp, fp, pc)` where the continuation's own frames start, or None
        for the innermost running one (its context is the CPU's)."""
        if record.state == SUSPENDED:
            return record.own
        if record.state == RUNNING:
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
            if r.state == SUSPENDED and r.own[2]:
                sites.add(r.own[2])
            elif r.state == RUNNING and r.parent[2]:
                sites.add(r.parent[2])
        return sites


def _require_process():
    if not gdb.selected_inferior().pid:
        raise gdb.GdbError("The program is not being run.")


def _current_sp():
    return int(gdb.parse_and_eval("$sp"))


def _current_pc():
    return int(gdb.parse_and_eval("$pc"))


def _line_of(pc, is_return_address):
    """`file:line` of pc (of the call before it for a return address)."""
    sal = gdb.find_pc_line(pc - 1 if is_return_address else pc)
    if sal.symtab is None or sal.line == 0:
        return None
    return "%s:%d" % (sal.symtab.filename, sal.line)


def _top_wasm_frame(reg, context):
    """The first Wasm pc found by a frame-pointer walk from `context`."""
    sp, fp, pc = context
    is_ret = False
    for _ in range(16):
        if reg.function_at(pc):
            return pc, is_ret
        if not fp:
            return None, False
        try:
            pc = _u64(fp + 8)
            fp = _u64(fp)
        except RegistryError:
            return None, False
        is_ret = True
    return None, False


def _describe_pc(reg, pc, is_ret):
    f = reg.function_at(pc)
    if f is None:
        return "?"
    text = "%s!%s" % (f.module.name, f.name)
    line = _line_of(pc, is_ret)
    if line:
        text += " at " + line
    return text


class InfoContinuations(gdb.Command):
    """List live continuations: id, state, entry function, where it is (top
Wasm frame and source line), parent, stack used of stack size."""

    def __init__(self):
        super().__init__("info continuations", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        _require_process()
        try:
            reg = Registry()
        except RegistryError as e:
            raise gdb.GdbError(str(e))
        live = reg.live()
        if not live:
            print("No live continuations.")
            return
        try:
            sp_now, pc_now = _current_sp(), _current_pc()
        except gdb.error:
            sp_now = pc_now = None
        rows = [("ID", "STATE", "ENTRY", "WHERE", "PARENT", "STACK")]
        for r in live:
            where = "-"
            used = 0
            if r.state == FRESH:
                where = "(not started)"
            else:
                ctx = reg.context_of(r)
                if ctx is None and sp_now is not None and r.contains(sp_now):
                    ctx = (sp_now, int(gdb.parse_and_eval("$rbp")), pc_now)
                if ctx is not None:
                    used = r.stack_high - ctx[0]
                    pc, is_ret = _top_wasm_frame(reg, ctx)
                    if pc is not None:
                        where = _describe_pc(reg, pc, is_ret)
            if r.state == RUNNING:
                parent_rec = reg.by_addr(r.parent_record)
                parent = str(parent_rec.id) if parent_rec else "host"
            else:
                parent = "-"
            size = r.stack_high - r.stack_low
            stack = "%d/%d" % (used, size)
            rows.append((str(r.id), STATES.get(r.state, "?"), reg.entry_name(r), where, parent, stack))
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        for row in rows:
            print("  ".join(row[i].ljust(widths[i]) for i in range(5)) + "  " + row[5])


# The registers saved by `continuation ID`, restored by `continuation restore`.
_saved_registers = None
_viewing = None


def _set_registers(sp, fp, pc):
    gdb.execute("set $rsp = 0x%x" % sp, to_string=True)
    gdb.execute("set $rbp = 0x%x" % fp, to_string=True)
    gdb.execute("set $pc = 0x%x" % pc, to_string=True)


def _enter(record, reg):
    """Point the registers at `record`'s own frames (saving the real ones)."""
    global _saved_registers, _viewing
    ctx = reg.context_of(record)
    if ctx is None:
        if record.state == FRESH:
            raise gdb.GdbError("continuation %d has not started: it has no frames" % record.id)
        raise gdb.GdbError("continuation %d is the one running: its frames are the current ones" % record.id)
    if _saved_registers is None:
        _saved_registers = tuple(int(gdb.parse_and_eval(r)) for r in ("$rsp", "$rbp", "$pc"))
    _set_registers(*ctx)
    _viewing = record.id


def _restore():
    global _saved_registers, _viewing
    if _saved_registers is None:
        return False
    _set_registers(*_saved_registers)
    _saved_registers = None
    _viewing = None
    return True


# Commands that let the process run get a hook that restores the real
# registers first. (Writing registers from a `gdb.events.cont` handler
# crashes gdb 13: the process is already being resumed then.)
_RESUMING_COMMANDS = ("continue", "next", "step", "stepi", "nexti", "finish",
                      "until", "advance", "jump", "signal", "call", "kill", "run")


def _install_restore_hooks():
    for command in _RESUMING_COMMANDS:
        try:
            gdb.execute("define hook-%s\ncontinuation _restore-if-viewing\nend" % command,
                        to_string=True)
        except gdb.error:
            pass


class ContinuationCommand(gdb.Command):
    """continuation ID: show continuation ID's stack as if it were the current one
(bt, frame N, info frame work on it); continuation restore: come back.
Restore before letting the process run."""

    def __init__(self):
        super().__init__("continuation", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        arg = arg.strip()
        if arg == "_restore-if-viewing":
            if _restore():
                print("switchyard: registers restored (left continuation view)")
            return
        if arg == "restore":
            if not _restore():
                raise gdb.GdbError("not viewing a continuation")
            gdb.execute("frame 0")
            return
        try:
            ident = int(arg, 0)
        except ValueError:
            raise gdb.GdbError("usage: continuation ID | continuation restore")
        _require_process()
        try:
            reg = Registry()
        except RegistryError as e:
            raise gdb.GdbError(str(e))
        record = reg.by_id(ident)
        if record is None:
            raise gdb.GdbError("no live continuation %d (see info continuations)" % ident)
        _enter(record, reg)
        print("[viewing continuation %d (%s, entry %s); `continuation restore` to come back]"
              % (ident, STATES[record.state], reg.entry_name(record)))
        gdb.execute("frame 0")


class WasmPrefix(gdb.Command):
    """Switchyard commands for Wasm code: wasm bt, wasm step, wasm next,
wasm finish, wasm break-switch."""

    def __init__(self):
        super().__init__("wasm", gdb.COMMAND_USER, prefix=True)


def _logical_backtrace(reg, limit=1000):
    lines = []
    frame = gdb.newest_frame()
    n = 0
    while frame is not None and n < limit:
        pc = frame.pc()
        is_ret = frame.level() > 0 and frame.type() != gdb.SIGTRAMP_FRAME
        f = reg.function_at(pc)
        if f is not None:
            lookup = pc - 1 if is_ret else pc
            off = f.module.wasm_offset(lookup)
            text = "#%-3d %s!%s +0x%x" % (n, f.module.name, f.name, pc - f.start)
            if off is not None:
                text += " (wasm 0x%x)" % off
            line = _line_of(pc, is_ret)
            if line:
                text += " at " + line
            lines.append(text)
            n += 1
        elif reg.in_trampoline(pc):
            rec = reg.by_addr(int(frame.read_register("rbp")) - 80)
            if rec is None:
                lines.append("---- continuation boundary ----")
            else:
                parent = reg.by_addr(rec.parent_record) if rec.state == RUNNING else None
                if rec.state != RUNNING:
                    lines.append("---- bottom of continuation %d (entry %s, %s) ----"
                                 % (rec.id, reg.entry_name(rec), STATES[rec.state]))
                    break
                lines.append("---- continuation %d (entry %s), resumed by %s ----"
                             % (rec.id, reg.entry_name(rec),
                                "continuation %d" % parent.id if parent else "the host stack"))
        else:
            name = frame.name() or "??"
            if name.startswith("switchyard!"):
                pass  # glue between the host and Wasm: not a logical frame
            else:
                sal = frame.find_sal()
                where = ""
                if sal.symtab is not None:
                    where = " at %s:%d" % (sal.symtab.filename, sal.line)
                lines.append("#%-3d [host] %s%s" % (n, name, where))
                n += 1
        try:
            frame = frame.older()
        except gdb.error as e:
            lines.append("(backtrace ends: %s)" % e)
            break
    return lines


class WasmBacktrace(gdb.Command):
    """wasm bt [ID]: the logical backtrace of the current stack, or of
continuation ID: Wasm function names, code offsets, Wasm byte offsets,
source lines, and a line at each continuation boundary."""

    def __init__(self):
        super().__init__("wasm bt", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        _require_process()
        try:
            reg = Registry()
        except RegistryError as e:
            raise gdb.GdbError(str(e))
        arg = arg.strip()
        entered = False
        if arg:
            try:
                ident = int(arg, 0)
            except ValueError:
                raise gdb.GdbError("usage: wasm bt [ID]")
            record = reg.by_id(ident)
            if record is None:
                raise gdb.GdbError("no live continuation %d" % ident)
            if reg.context_of(record) is not None:
                entered = _saved_registers is None
                _enter(record, reg)
        try:
            for line in _logical_backtrace(reg):
                print(line)
        finally:
            if entered:
                _restore()


# Stepping across switches.

class _Landing(gdb.Breakpoint):
    """An internal breakpoint where a switch lands; it stops only when the
    stack has changed (the same code runs without a switch otherwise)."""

    def __init__(self, addr, stepper):
        super().__init__("*0x%x" % addr, gdb.BP_BREAKPOINT, internal=True, temporary=False)
        self.silent = True
        self.stepper = stepper

    def stop(self):
        return self.stepper.landed()


class _Return(gdb.Breakpoint):
    def __init__(self, addr, frame_sp):
        super().__init__("*0x%x" % addr, gdb.BP_BREAKPOINT, internal=True, temporary=False)
        self.silent = True
        self.frame_sp = frame_sp

    def stop(self):
        # A recursive call may pass here first: only stop above the frame.
        return _current_sp() > self.frame_sp


class Stepper:
    """Runs the process with breakpoints at every switch landing site."""

    def __init__(self, only_into=None):
        self.reg = Registry()
        self.start_stack = self._stack_id()
        self.only_into = only_into
        self.switched = False
        # The stack of the last hop, for describing it.
        self.from_rec = self.reg.stack_of(_current_sp())

    def _stack_id(self):
        rec = self.reg.stack_of(_current_sp())
        return rec.addr if rec else 0

    def landed(self):
        reg = Registry()
        rec = reg.stack_of(_current_sp())
        if (rec.addr if rec else 0) == self.start_stack:
            return False
        self.switched = True
        return True

    def run(self, extra=()):
        """Continue until a switch lands (into continuation `only_into` if
        given), or one of `extra` breakpoints or any other stop."""
        try:
            while True:
                self.switched = False
                bps = [_Landing(a, self) for a in sorted(self.reg.landing_sites())]
                try:
                    gdb.execute("continue", to_string=True)
                finally:
                    for b in bps:
                        b.delete()
                if not gdb.selected_inferior().pid or not self.switched:
                    return
                rec = Registry().stack_of(_current_sp())
                if self.only_into is None or (rec is not None and rec.id == self.only_into):
                    return
                # Another switch: the sites have moved (the continuation we
                # left is now suspended somewhere new).
                self.reg = Registry()
                self.start_stack = self._stack_id()
                self.from_rec = self.reg.stack_of(_current_sp())
        finally:
            for b in extra:
                if b.is_valid():
                    b.delete()


# Statement addresses (line table rows marked is_stmt) by source file;
# gdb's Python API does not expose the flag, `maint info line-table` does.
_stmt_cache = {}


def _clear_stmt_cache(event=None):
    _stmt_cache.clear()


def _statements(symtab):
    path = symtab.fullname()
    if path not in _stmt_cache:
        # The regexp is matched against the symtab's file name as recorded
        # (maybe not normalized); the listing prints full names.
        base = path.rsplit("/", 1)[-1]
        pattern = "".join("\\" + c if c in ".[]*^$\\" else c for c in base)
        text = gdb.execute("maint info line-table " + pattern, to_string=True)
        pcs = set()
        current = None
        for line in text.splitlines():
            if line.startswith("symtab: "):
                current = line[len("symtab: "):].rsplit(" ((struct", 1)[0]
                continue
            parts = line.split()
            if current == path and len(parts) >= 4 and parts[0].isdigit() and parts[3] == "Y":
                try:
                    pcs.add(int(parts[2], 16))
                except ValueError:
                    pass
        _stmt_cache[path] = pcs
    return _stmt_cache[path]


def _eligible(sal, start_key, real_source_only):
    if sal.symtab is None or sal.line == 0 or sal.pc != _current_pc():
        return False
    if sal.pc not in _statements(sal.symtab):
        return False
    if (sal.symtab.filename, sal.line) == start_key:
        return False
    if real_source_only and LISTING_DIR in sal.symtab.fullname():
        return False
    return True


class _Quiet:
    """Keeps gdb from printing every intermediate stop of a command made of
    many. In gdb 13, `gdb.execute("stepi", to_string=True)` does not
    capture the stop notice (the CLI prints it through its own stream),
    and `set logging redirect` does not either; `suppress-cli-notifications`
    (gdb 12 and later) does."""

    def __enter__(self):
        try:
            self.old = gdb.parameter("suppress-cli-notifications")
            gdb.execute("set suppress-cli-notifications on", to_string=True)
        except (gdb.error, RuntimeError):
            self.old = None

    def __exit__(self, *exc):
        if self.old is not None:
            gdb.execute("set suppress-cli-notifications %s" % ("on" if self.old else "off"),
                        to_string=True)


def _step_lines(mode):
    _require_process()
    with _Quiet():
        _step_lines_quietly(mode)
    if gdb.selected_inferior().pid:
        gdb.execute("frame 0")


def _step_lines_quietly(mode):
    """`step`/`next`/`finish` by source line across switches.

    Instruction steps inside Wasm code and the switch machinery; calls into
    host code (and, for `next`, into deeper Wasm frames) run to their return
    with breakpoints at every switch landing site, so that a suspend inside
    them still stops on the other side. Stops at the first instruction that
    begins a new source line; started on a line of real source (DWARF),
    lines of generated WAT listings (library modules without DWARF) are
    stepped through."""
    try:
        reg = Registry()
    except RegistryError as e:
        raise gdb.GdbError(str(e))
    if _saved_registers is not None:
        raise gdb.GdbError("viewing a continuation: `continuation restore` first")
    start = gdb.newest_frame()
    sal = gdb.find_pc_line(_current_pc())
    start_key = (sal.symtab.filename, sal.line) if sal.symtab else None
    real_only = sal.symtab is not None and LISTING_DIR not in sal.symtab.fullname()
    start_sp = _current_sp()
    start_stack = reg.stack_of(start_sp)

    if mode == "finish":
        older = start.older()
        ret = _Return(older.pc(), start_sp) if older is not None else None
        Stepper().run([ret] if ret else [])
        start_key = None
    for _ in range(STEP_LIMIT):
        gdb.execute("stepi", to_string=True)
        if not gdb.selected_inferior().pid:
            return
        pc = _current_pc()
        reg_now = reg if reg.function_at(pc) or reg.in_trampoline(pc) else Registry()
        func = reg_now.function_at(pc)
        if func:
            at_entry = func.start == pc
            if mode == "next" and at_entry:
                # A call on the stack we started on: run it to its return
                # (a switch inside it still stops on the other side).
                rec = reg_now.stack_of(_current_sp())
                same_stack = (rec.addr if rec else 0) == (start_stack.addr if start_stack else 0)
                older = gdb.newest_frame().older()
                if same_stack and older is not None:
                    Stepper().run([_Return(older.pc(), _current_sp())])
                    if not gdb.selected_inferior().pid:
                        return
                    pc = _current_pc()
                    if not reg_now.function_at(pc):
                        continue
            # Never stop on a function's first byte: its first line starts
            # after the prologue, as gdb's own step does.
            if reg_now.function_at(pc).start != pc and _eligible(gdb.find_pc_line(pc), start_key, real_only):
                break
            continue
        if reg_now.in_trampoline(pc) or _is_glue(pc):
            continue
        # Host code: let it run to its return, or to a switch landing.
        frame = gdb.newest_frame()
        older = frame.older()
        if older is None:
            break
        ret = _Return(older.pc(), _current_sp())
        st = Stepper()
        st.run([ret])
    else:
        print("switchyard: no new source line after %d instructions" % STEP_LIMIT)


def _is_glue(pc):
    block = gdb.block_for_pc(pc)
    name = None
    if block is not None and block.function is not None:
        name = block.function.name
    else:
        try:
            name = gdb.execute("info symbol 0x%x" % pc, to_string=True)
        except gdb.error:
            return False
    if name and (name.startswith("switchyard!") or "switchyard_host_stack_switch" in name
                 or "switchyard_continuation" in name):
        return True
    return False


class WasmStep(gdb.Command):
    """wasm step: step to the next source line, following a resume or switch
into the continuation it runs, and a suspend or return out to the resumer."""

    def __init__(self):
        super().__init__("wasm step", gdb.COMMAND_RUNNING)

    def invoke(self, arg, from_tty):
        _step_lines("step")


class WasmNext(gdb.Command):
    """wasm next: like wasm step, but calls on the same stack run to their
return (a switch inside them still stops on the other side)."""

    def __init__(self):
        super().__init__("wasm next", gdb.COMMAND_RUNNING)

    def invoke(self, arg, from_tty):
        _step_lines("next")


class WasmFinish(gdb.Command):
    """wasm finish: run until the current function returns or its
continuation switches away, then stop at the next source line."""

    def __init__(self):
        super().__init__("wasm finish", gdb.COMMAND_RUNNING)

    def invoke(self, arg, from_tty):
        _step_lines("finish")


_SWITCH_KINDS = ("resume", "suspend", "switch", "return")


class WasmBreakSwitch(gdb.Command):
    """wasm break-switch [KIND] [ID]: run until the next resume, suspend,
switch or return changes stacks, and say what happened. KIND (resume,
suspend, switch or return) waits for that kind only; ID for a switch into
continuation ID only."""

    def __init__(self):
        super().__init__("wasm break-switch", gdb.COMMAND_BREAKPOINTS)

    def invoke(self, arg, from_tty):
        kind = None
        only = None
        for word in arg.split():
            if word in _SWITCH_KINDS and kind is None:
                kind = word
                continue
            try:
                only = int(word, 0)
            except ValueError:
                raise gdb.GdbError("usage: wasm break-switch [resume|suspend|switch|return] [ID]")
        _require_process()
        while True:
            try:
                st = Stepper(only)
            except RegistryError as e:
                raise gdb.GdbError(str(e))
            with _Quiet():
                st.run()
            if not gdb.selected_inferior().pid or not st.switched:
                return
            reg = Registry()
            to_rec = reg.stack_of(_current_sp())
            what = _describe_switch(st.reg, st.from_rec, reg, to_rec)
            if kind is None or what.startswith(kind + ":"):
                break
        print(what)
        if reg.in_trampoline(_current_pc()):
            # gdb would call this frame `<signal handler called>`.
            print("#0  at the entry of continuation %d" % to_rec.id)
        else:
            gdb.execute("frame 0")


def _describe_switch(before, from_rec, reg, to_rec):
    def name(r):
        return "continuation %d" % r.id if r else "the host stack"
    now = reg.by_addr(from_rec.addr) if from_rec is not None else None
    left_suspended = now is not None and now.id == from_rec.id and now.state == SUSPENDED
    if to_rec is not None and reg.in_trampoline(_current_pc()):
        return "%s: %s starts continuation %d (entry %s)" % (
            "switch" if left_suspended else "resume", name(from_rec), to_rec.id,
            reg.entry_name(to_rec))
    was = before.by_addr(to_rec.addr) if to_rec is not None else None
    if left_suspended:
        if was is not None and was.id == to_rec.id and was.state == SUSPENDED:
            return "switch: continuation %d switched to continuation %d" % (from_rec.id, to_rec.id)
        return "suspend: continuation %d suspended to %s" % (from_rec.id, name(to_rec))
    if from_rec is not None and (now is None or now.id != from_rec.id or now.state != RUNNING):
        return "return: continuation %d returned to %s" % (from_rec.id, name(to_rec))
    return "resume: %s resumed %s" % (name(from_rec), name(to_rec))


# A frame filter: the continuation trampoline's frame (which gdb, reading
# its signal-frame CFI, calls `<signal handler called>`) is shown as the
# continuation boundary it is.
try:
    from gdb.FrameDecorator import FrameDecorator

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
                reg = Registry()
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
                rec = reg.by_addr(int(frame.read_register("rbp")) - 80)
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

    _BoundaryFilter()
except ImportError:
    pass


# An unwinder for the last instructions of a switch. Cranelift's
# `stack_switch` sequence stores the switcher's sp, fp and resume pc in a
# context, then loads the target's: between `mov %rdx,%rbp` and the final
# `jmp *%rdx`, %rbp already holds the target's frame pointer while the
# code is still the switcher's, and the generated code has no CFI saying
# so (its CFI says CFA = %rbp + 16 throughout). gdb would unwind into the
# target's frames. Here the caller is found from the fp the sequence has
# just stored, at offset 8 of the context in the register named by its
# `mov %rbp,0x8(%REG)`.
import re as _re

_STORE_FP = _re.compile(r"mov\s+%rbp,0x8\(%(\w+)\)")


def _writes_rbp(text):
    parts = text.split()
    return bool(parts) and parts[-1].endswith(",%rbp")


def _switch_window_base(arch, pc):
    """The register holding the switcher's context if pc is inside the
    window, else None."""
    for insn in arch.disassemble(pc, count=6):
        text = insn["asm"]
        if _writes_rbp(text) or text.startswith("call") or text.startswith("ret"):
            return None
        if text.startswith("jmp"):
            if "*%" not in text:
                return None
            break
    else:
        return None
    # Find the `mov %rbp,0x8(%REG)` before pc: decode from starting points
    # behind it and keep a decoding that lands exactly on pc.
    for back in range(4, 48):
        try:
            insns = arch.disassemble(pc - back, count=12)
        except gdb.error:
            continue
        base = None
        for insn in insns:
            if insn["addr"] >= pc:
                if insn["addr"] == pc and base:
                    return base
                break
            m = _STORE_FP.match(insn["asm"])
            if m:
                base = m.group(1)
    return None


try:
    from gdb.unwinder import Unwinder, register_unwinder

    class _FrameId:
        # gdb 13 reads these attributes as gdb.Value objects only.
        def __init__(self, sp, pc):
            self.sp = gdb.Value(sp)
            self.pc = gdb.Value(pc)

    class _SwitchWindowUnwinder(Unwinder):
        def __init__(self):
            super().__init__("switchyard-switch-window")
            self.ranges = None
            self.generation = None

        def _function_start(self, pc):
            try:
                gen = _u64(_registry_cache_address() + 24)
                if gen != self.generation or self.ranges is None:
                    reg = Registry()
                    self.ranges = [(f.start, f.end) for m in reg.modules for f in m.functions]
                    self.generation = gen
            except (RegistryError, gdb.error):
                return None
            for start, end in self.ranges:
                if start <= pc < end:
                    return start
            return None

        def __call__(self, pending_frame):
            if pending_frame.level() != 0:
                return None
            pc = int(pending_frame.read_register("rip"))
            start = self._function_start(pc)
            if start is None:
                return None
            try:
                base = _switch_window_base(pending_frame.architecture(), pc)
                if base is None:
                    return None
                context = int(pending_frame.read_register(base))
                fp = _u64(context + 8)
                info = pending_frame.create_unwind_info(_FrameId(fp + 16, start))
                info.add_saved_register("rip", gdb.Value(_u64(fp + 8)))
                info.add_saved_register("rsp", gdb.Value(fp + 16))
                info.add_saved_register("rbp", gdb.Value(_u64(fp)))
                return info
            except (gdb.error, RegistryError, ValueError, IndexError, KeyError):
                return None

    register_unwinder(None, _SwitchWindowUnwinder(), replace=True)
except ImportError:
    pass


InfoContinuations()
ContinuationCommand()
WasmPrefix()
WasmBacktrace()
WasmStep()
WasmNext()
WasmFinish()
WasmBreakSwitch()
def _on_stop(event):
    # Locate the registry now, in a normal context: the unwinder above may
    # not evaluate expressions.
    try:
        _registry_address()
    except (RegistryError, gdb.error):
        pass


_install_restore_hooks()
gdb.events.stop.connect(_on_stop)
gdb.events.new_objfile.connect(_clear_stmt_cache)
gdb.events.free_objfile.connect(_clear_stmt_cache)
