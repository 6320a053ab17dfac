"""The commands that show continuations: `info continuations`,
`continuation ID` / `continuation restore`, and `wasm bt [ID]` (with the
`wasm` prefix the stepping commands share)."""

import gdb

from . import layout, target, view
from .registry import RegistryError


class InfoContinuations(gdb.Command):
    """List live continuations: id, state, entry function, where it is (top
Wasm frame and source line), parent, stack used of stack size."""

    def __init__(self):
        super().__init__("info continuations", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        target.require_process()
        try:
            reg = target.snapshot()
        except RegistryError as e:
            raise gdb.GdbError(str(e))
        live = reg.live()
        if not live:
            print("No live continuations.")
            return
        try:
            sp_now, pc_now = target.current_sp(), target.current_pc()
        except gdb.error:
            sp_now = pc_now = None
        rows = [("ID", "STATE", "ENTRY", "WHERE", "PARENT", "STACK")]
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
                    pc, is_ret = target.top_wasm_frame(reg, ctx)
                    if pc is not None:
                        where = target.describe_pc(reg, pc, is_ret)
            if r.state == layout.STATE_RUNNING:
                parent_rec = reg.by_addr(r.parent_record)
                parent = str(parent_rec.id) if parent_rec else "host"
            else:
                parent = "-"
            size = r.stack_high - r.stack_low
            stack = "%d/%d" % (used, size)
            rows.append((str(r.id), r.state_name, reg.entry_name(r), where, parent, stack))
        widths = [max(len(row[i]) for row in rows) for i in range(5)]
        for row in rows:
            print("  ".join(row[i].ljust(widths[i]) for i in range(5)) + "  " + row[5])


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
