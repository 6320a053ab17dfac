"""The commands that show continuations: `info continuations`,
`continuation ID` / `continuation restore`, and `wasm bt [ID]` (with the
`wasm` prefix the stepping commands share)."""

import gdb

from . import layout, naming, target, view
from .registry import RegistryError


class InfoContinuations(gdb.Command):
    """List live continuations: id, state, name (what it runs; its entry
function when that differs), where it is (top Wasm frame and source line),
parent, stack used of stack size, what it waits on and since when, where it
was created.
info continuations -group: one line per group of continuations with the same
state, stack, wait and creation site, largest first, with the count and ids."""

    def __init__(self):
        super().__init__("info continuations", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        args = arg.split()
        unknown = [a for a in args if a != "-group"]
        if unknown:
            raise gdb.GdbError("usage: info continuations [-group]")
        target.require_process()
        try:
            reg = target.snapshot()
        except RegistryError as e:
            raise gdb.GdbError(str(e))
        live = reg.live()
        if not live:
            print("No live continuations.")
            return
        namer = naming.Namer(reg, target.read_memory)
        described = {}

        def describe(pc, is_ret):
            # Thousands of continuations stop at a few pcs: each is looked
            # up in gdb's line table once.
            key = (pc, is_ret)
            if key not in described:
                described[key] = target.describe_pc(reg, pc, is_ret)
            return described[key]

        if "-group" in args:
            self.grouped(reg, namer, describe, live)
        else:
            self.table(reg, namer, describe, live)

    @staticmethod
    def summary(live):
        counts = {}
        for r in live:
            counts[r.state_name] = counts.get(r.state_name, 0) + 1
        parts = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        noun = "continuation" if len(live) == 1 else "continuations"
        return "%d %s: %s" % (len(live), noun,
                              ", ".join("%d %s" % (c, n) for n, c in parts))

    @staticmethod
    def site(describe, namer, r):
        pc = namer.site_pc(r)
        if pc is None:
            return "-"
        return "%s in #%d" % (describe(pc, True), r.created_by)

    @staticmethod
    def wait(namer, r, pcs):
        if r.state != layout.STATE_SUSPENDED:
            return "-"
        tag = namer.waiting_on(r, pcs)
        text = "%s " % tag if tag else ""
        return text + "%d ms" % namer.waited_ms(r)

    def table(self, reg, namer, describe, live):
        try:
            sp_now, pc_now = target.current_sp(), target.current_pc()
        except gdb.error:
            sp_now = pc_now = None
        print(self.summary(live))
        rows = [("ID", "STATE", "NAME", "WHERE", "PARENT", "STACK", "WAITING", "CREATED")]
        for r in live:
            where = "-"
            used = 0
            if r.state == layout.STATE_FRESH:
                where = "(not started)"
            else:
                ctx = reg.context_of(r)
                if ctx is None and sp_now is not None and r.contains(sp_now):
                    ctx = (sp_now, int(gdb.parse_and_eval("$rbp")), pc_now)
                if ctx is not None:
                    used = r.stack_high - ctx[0]
                    read = namer.stack(r, ctx[0]).read if r.contains(ctx[0]) else target.read_memory
                    pc, is_ret = target.top_wasm_frame(reg, ctx, read)
                    if pc is not None:
                        where = describe(pc, is_ret)
            if r.state == layout.STATE_RUNNING:
                parent_rec = reg.by_addr(r.parent_record)
                parent = str(parent_rec.id) if parent_rec else "host"
            else:
                parent = "-"
            size = r.stack_high - r.stack_low
            stack = "%d/%d" % (used, size)
            pcs = namer.walk(r)
            name = namer.name(r, pcs)
            entry = reg.entry_name(r)
            if name != entry:
                name = "%s (entry %s)" % (name, entry)
            rows.append((str(r.id), r.state_name, name, where, parent, stack,
                         self.wait(namer, r, pcs), self.site(describe, namer, r)))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            print("  ".join(row[i].ljust(widths[i]) for i in range(len(row))).rstrip())

    def grouped(self, reg, namer, describe, live):
        print(self.summary(live))
        groups = {}
        order = []
        for r in live:
            pcs = namer.walk(r)
            key = (r.state, tuple(pcs), namer.site_pc(r), r.caught_pc,
                   namer.fresh_body(r))
            if key not in groups:
                groups[key] = (r, pcs, [])
                order.append(key)
            groups[key][2].append(r)
        order.sort(key=lambda k: (-len(groups[k][2]), groups[k][2][0].id))
        for key in order:
            first, pcs, members = groups[key]
            ids = ["#%d" % m.id for m in members]
            if len(ids) > 8:
                ids = ids[:3] + ["\u2026", ids[-1]]
            text = "%d %s %s" % (len(members), namer.name(first, pcs), first.state_name)
            if first.state == layout.STATE_SUSPENDED:
                text += " on " + self.wait(namer, first, pcs)
            site = self.site(describe, namer, first)
            if site != "-":
                text += ", created by " + site
            print("%s: %s" % (text, " ".join(ids)))
            if first.state == layout.STATE_SUSPENDED:
                for pc in pcs:
                    if reg.function_at(pc - 1):
                        print("    " + describe(pc, True))


def restore_before_running():
    """Leaves a continuation view before the process runs (a hook of every
    command that resumes it, and the stepping commands)."""
    if not view.viewing():
        return
    if not gdb.selected_inferior().pid:
        view.forget()
        return
    view.restore()
    print("switchyard: registers restored (left continuation view)")


class ContinuationCommand(gdb.Command):
    """continuation ID: show continuation ID's stack as if it were the current one
(bt, frame N, info frame work on it); continuation restore: come back.
Restore before letting the process run."""

    def __init__(self):
        super().__init__("continuation", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        arg = arg.strip()
        if arg == "_restore-if-viewing":
            restore_before_running()
            return
        if arg == "restore":
            if not view.restore():
                raise gdb.GdbError("not viewing a continuation")
            gdb.execute("frame 0")
            return
        try:
            ident = int(arg, 0)
        except ValueError:
            raise gdb.GdbError("usage: continuation ID | continuation restore")
        target.require_process()
        try:
            reg = target.snapshot()
        except RegistryError as e:
            raise gdb.GdbError(str(e))
        record = reg.by_id(ident)
        if record is None:
            raise gdb.GdbError("no live continuation %d (see info continuations)" % ident)
        view.enter(record, reg)
        print("[viewing continuation %d (%s, entry %s); `continuation restore` to come back]"
              % (ident, record.state_name, reg.entry_name(record)))
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
            line = target.line_of(pc, is_ret)
            if line:
                text += " at " + line
            lines.append(text)
            n += 1
        elif reg.in_trampoline(pc):
            rec = reg.at_trampoline_fp(int(frame.read_register("rbp")))
            if rec is None:
                lines.append("---- continuation boundary ----")
            else:
                parent = reg.by_addr(rec.parent_record) if rec.state == layout.STATE_RUNNING else None
                if rec.state != layout.STATE_RUNNING:
                    lines.append("---- bottom of continuation %d (entry %s, %s) ----"
                                 % (rec.id, reg.entry_name(rec), rec.state_name))
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
        target.require_process()
        try:
            reg = target.snapshot()
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
                entered = not view.viewing()
                view.enter(record, reg)
        try:
            for line in _logical_backtrace(reg):
                print(line)
        finally:
            if entered:
                view.restore()



def register():
    InfoContinuations()
    ContinuationCommand()
    WasmPrefix()
    WasmBacktrace()
