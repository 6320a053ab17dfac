"""Stepping across switches: `wasm step`, `wasm next`, `wasm finish` and
`wasm break-switch`. A switch lands at a known place (the continuation
trampoline, a suspended continuation's saved pc, a running one's resumer's
saved pc); internal breakpoints there stop only when the stack changed.
See docs/gdb.md."""

import gdb

from . import commands, layout, target
from .registry import RegistryError

# Listings of modules without DWARF are written under this directory.
LISTING_DIR = "switchyard-wat"
STEP_LIMIT = 100000


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
        return target.current_sp() > self.frame_sp


class Stepper:
    """Runs the process with breakpoints at every switch landing site."""

    def __init__(self, only_into=None):
        self.reg = target.snapshot()
        self.start_stack = self._stack_id()
        self.only_into = only_into
        self.switched = False
        # The stack of the last hop, for describing it.
        self.from_rec = self.reg.stack_of(target.current_sp())

    def _stack_id(self):
        rec = self.reg.stack_of(target.current_sp())
        return rec.addr if rec else 0

    def landed(self):
        reg = target.snapshot()
        rec = reg.stack_of(target.current_sp())
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
                rec = target.snapshot().stack_of(target.current_sp())
                if self.only_into is None or (rec is not None and rec.id == self.only_into):
                    return
                # Another switch: the sites have moved (the continuation we
                # left is now suspended somewhere new).
                self.reg = target.snapshot()
                self.start_stack = self._stack_id()
                self.from_rec = self.reg.stack_of(target.current_sp())
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
    if sal.symtab is None or sal.line == 0 or sal.pc != target.current_pc():
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
    target.require_process()
    commands.restore_before_running()
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
        reg = target.snapshot()
    except RegistryError as e:
        raise gdb.GdbError(str(e))
    start = gdb.newest_frame()
    sal = gdb.find_pc_line(target.current_pc())
    start_key = (sal.symtab.filename, sal.line) if sal.symtab else None
    real_only = sal.symtab is not None and LISTING_DIR not in sal.symtab.fullname()
    start_sp = target.current_sp()
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
        pc = target.current_pc()
        reg_now = reg if reg.function_at(pc) or reg.in_trampoline(pc) else target.snapshot()
        func = reg_now.function_at(pc)
        if func:
            at_entry = func.start == pc
            if mode == "next" and at_entry:
                # A call on the stack we started on: run it to its return
                # (a switch inside it still stops on the other side).
                rec = reg_now.stack_of(target.current_sp())
                same_stack = (rec.addr if rec else 0) == (start_stack.addr if start_stack else 0)
                older = gdb.newest_frame().older()
                if same_stack and older is not None:
                    Stepper().run([_Return(older.pc(), target.current_sp())])
                    if not gdb.selected_inferior().pid:
                        return
                    pc = target.current_pc()
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
        ret = _Return(older.pc(), target.current_sp())
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
        target.require_process()
        commands.restore_before_running()
        while True:
            try:
                st = Stepper(only)
            except RegistryError as e:
                raise gdb.GdbError(str(e))
            with _Quiet():
                st.run()
            if not gdb.selected_inferior().pid or not st.switched:
                return
            reg = target.snapshot()
            to_rec = reg.stack_of(target.current_sp())
            what = _describe_switch(st.reg, st.from_rec, reg, to_rec)
            if kind is None or what.startswith(kind + ":"):
                break
        print(what)
        if reg.in_trampoline(target.current_pc()):
            # gdb would call this frame `<signal handler called>`.
            print("#0  at the entry of continuation %d" % to_rec.id)
        else:
            gdb.execute("frame 0")


def _describe_switch(before, from_rec, reg, to_rec):
    def name(r):
        return "continuation %d" % r.id if r else "the host stack"
    now = reg.by_addr(from_rec.addr) if from_rec is not None else None
    left_suspended = now is not None and now.id == from_rec.id and now.state == layout.STATE_SUSPENDED
    if to_rec is not None and reg.in_trampoline(target.current_pc()):
        return "%s: %s starts continuation %d (entry %s)" % (
            "switch" if left_suspended else "resume", name(from_rec), to_rec.id,
            reg.entry_name(to_rec))
    was = before.by_addr(to_rec.addr) if to_rec is not None else None
    if left_suspended:
        if was is not None and was.id == to_rec.id and was.state == layout.STATE_SUSPENDED:
            return "switch: continuation %d switched to continuation %d" % (from_rec.id, to_rec.id)
        return "suspend: continuation %d suspended to %s" % (from_rec.id, name(to_rec))
    if from_rec is not None and (now is None or now.id != from_rec.id or now.state != layout.STATE_RUNNING):
        return "return: continuation %d returned to %s" % (from_rec.id, name(to_rec))
    return "resume: %s resumed %s" % (name(from_rec), name(to_rec))


def register():
    WasmStep()
    WasmNext()
    WasmFinish()
    WasmBreakSwitch()
    gdb.events.new_objfile.connect(_clear_stmt_cache)
    gdb.events.free_objfile.connect(_clear_stmt_cache)
