# Steps one instruction at a time through a resume -> suspend -> resume
# cycle of yield_loop.wat, running `bt` at every instruction. What runs
# always has a chain of resumers down to main, so every backtrace must
# show `yield_loop!run` (the resumer) and reach main without an error.
#
# Sourced by tools/tests/gdb.rs once the process has stopped at the resume
# in `run`; prints one summary line and the failures. A failure inside the
# last instructions of a Cranelift `stack_switch` sequence (the frame
# pointer already holds the target's, the code is still the switcher's,
# up to the indirect jump) is counted apart: generated code has no CFI for
# that window, and only the helpers' unwinder covers it.
import gdb
from switchyard import target  # the helpers, loaded with the binary

BAD = ("Backtrace stopped", "corrupt stack", "previous frame inner",
       "Cannot access memory", "Python Exception", "??")


def pc():
    return int(gdb.parse_and_eval("$pc"))


def stack_now(reg):
    rec = reg.stack_of(int(gdb.parse_and_eval("$sp")))
    return rec.id if rec else 0


def in_switch_window():
    """True between the switch of %rbp and the indirect jump that ends a
    stack_switch sequence."""
    arch = gdb.newest_frame().architecture()
    for insn in arch.disassemble(pc(), count=5):
        text = insn["asm"]
        if text.startswith("jmp") and "*%" in text:
            return True
        if text.split()[-1].endswith(",%rbp"):
            return False
    return False


def main():
    gdb.execute("set suppress-cli-notifications on")
    checked = 0
    transitions = []
    failures = []
    window = []
    reg = target.snapshot()
    stack = stack_now(reg)
    while checked < 100000:
        gdb.execute("stepi", to_string=True)
        checked += 1
        bt = gdb.execute("bt", to_string=True)
        frames = [l for l in bt.splitlines() if l.startswith("#")]
        ok = (frames and not any(b in bt for b in BAD)
              and "switchyard::main" in frames[-1]
              and any("yield_loop!run" in f for f in frames))
        if not ok:
            (window if in_switch_window() else failures).append("0x%x:\n%s" % (pc(), bt))
        reg = target.snapshot()
        now = stack_now(reg)
        if now != stack:
            transitions.append((stack, now))
            stack = now
        f = reg.function_at(pc())
        if len(transitions) >= 3 and f is not None and f.name == "gen":
            break
    gdb.execute("set suppress-cli-notifications off")
    print("stepi-bt: %d instructions checked, %d failed, %d in switch windows, stacks %s" % (
        checked, len(failures), len(window), " ".join("%d->%d" % t for t in transitions)))
    for f in failures[:5]:
        print("stepi-bt failure at " + f)
    for f in window[:1]:
        print("stepi-bt switch window at " + f)


main()
