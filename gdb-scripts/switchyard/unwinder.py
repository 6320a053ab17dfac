"""An unwinder for the last instructions of a switch. Cranelift's
`stack_switch` sequence stores the switcher's sp, fp and resume pc in a
context, then loads the target's: between `mov %rdx,%rbp` and the final
`jmp *%rdx`, %rbp already holds the target's frame pointer while the
code is still the switcher's, and the generated code has no CFI saying
so (its CFI says CFA = %rbp + 16 throughout). gdb would unwind into the
target's frames. Here the caller is found from the fp the sequence has
just stored, at offset 8 of the context in the register named by its
`mov %rbp,0x8(%REG)`."""

import re

import gdb
from gdb.unwinder import Unwinder, register_unwinder

from . import layout, target
from .registry import RegistryError

# The switch sequence stores the switcher's fp into its ControlContext.
_STORE_FP = re.compile(r"mov\s+%%rbp,0x%x\(%%(\w+)\)" % layout.CONTEXT_FP)


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
            gen = target.registry_generation()
            if gen != self.generation or self.ranges is None:
                reg = target.snapshot()
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
            fp = target.read_u64(context + layout.CONTEXT_FP)
            info = pending_frame.create_unwind_info(_FrameId(fp + 16, start))
            info.add_saved_register("rip", gdb.Value(target.read_u64(fp + 8)))
            info.add_saved_register("rsp", gdb.Value(fp + 16))
            info.add_saved_register("rbp", gdb.Value(target.read_u64(fp)))
            return info
        except (gdb.error, RegistryError, ValueError, IndexError, KeyError):
            return None


def register():
    register_unwinder(None, _SwitchWindowUnwinder(), replace=True)
