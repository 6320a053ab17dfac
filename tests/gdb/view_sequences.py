# Drives random sequences of `frame N`, `up`, `down`, `continuation ID`
# and `continuation restore` (fixed seed), and after each checks that
# `continuation restore` (or a stepping command, which restores by itself)
# brings back the registers of the real stop and frame 0; then `wasm step`
# must move on. Sourced by tools/tests/gdb.rs once the process has stopped
# with some continuations alive; prints one summary line and the failures.
import random

import gdb
from switchyard import target  # the helpers, loaded with the binary

SEED = 14
SEQUENCES = 60
STEP_EVERY = 12


def registers():
    frame = gdb.newest_frame()
    return tuple(int(frame.read_register(r)) for r in ("rsp", "rbp", "rip"))


def run(command, failures):
    """Runs a command; an error is fine (no such frame, a running
    continuation) unless the helpers' Python itself failed."""
    try:
        return gdb.execute(command, to_string=True)
    except gdb.error as e:
        if "Error occurred in Python" in str(e) or "Python Exception" in str(e):
            failures.append("%s: %s" % (command, e))
        return None


def main():
    rng = random.Random(SEED)
    failures = []
    sequences = steps = views = 0
    for n in range(SEQUENCES):
        if not gdb.selected_inferior().pid:
            break
        real = registers()
        ids = [r.id for r in target.snapshot().live()] + [99]
        log = []
        for _ in range(rng.randint(1, 8)):
            pick = rng.random()
            if pick < 0.3:
                command = "continuation %d" % rng.choice(ids)
            elif pick < 0.5:
                command = "frame %d" % rng.randint(0, 4)
            elif pick < 0.65:
                command = "up"
            elif pick < 0.8:
                command = "down"
            else:
                command = "continuation restore"
            log.append(command)
            if "[viewing continuation" in (run(command, failures) or ""):
                views += 1
        stepping = n % STEP_EVERY == STEP_EVERY - 1
        if stepping:
            # A stepping command leaves the view by itself.
            log.append("wasm step")
            out = run("wasm step", failures)
            steps += 1
            if not gdb.selected_inferior().pid:
                break
            if not (out or "").startswith(("switchyard: registers restored", "#0")):
                failures.append("%s: wasm step printed %r" % (" ; ".join(log), out))
        else:
            log.append("continuation restore")
            # Whether or not a view was left, the real registers are back;
            # leaving one selects frame 0.
            left = run("continuation restore", failures) is not None
            if registers() != real:
                failures.append("%s: registers %s, real %s" % (
                    " ; ".join(log), [hex(r) for r in registers()], [hex(r) for r in real]))
            if left and gdb.selected_frame().level() != 0:
                failures.append("%s: frame %d selected" % (" ; ".join(log),
                                                            gdb.selected_frame().level()))
            # Not viewing any more: a second restore says so.
            try:
                gdb.execute("continuation restore", to_string=True)
                failures.append("%s: still viewing" % " ; ".join(log))
            except gdb.error:
                pass
        sequences += 1
    print("view-sequences: %d sequences, %d views, %d steps, %d failed" % (
        sequences, views, steps, len(failures)))
    for f in failures[:5]:
        print("view-sequences failure: " + f)


main()
