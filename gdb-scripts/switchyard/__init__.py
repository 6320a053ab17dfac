"""gdb helpers for Switchyard: continuations of the Wasm stack switching
proposal, as seen through the registry of live stacks (docs/registry.md).

Commands:
  info continuations         every live continuation: id, state, entry
                             function, where it is, parent, stack use
  continuation ID            show a suspended (or not innermost running)
                             continuation's stack as the current one
  continuation restore       come back to the real registers
  wasm bt [ID]               logical backtrace: Wasm names, code and Wasm
                             offsets, source lines, continuation boundaries
  wasm break-switch [ID]     run to the next resume, suspend, switch or
                             return (or only the next one into ID)
  wasm step / wasm next      step / next by source line, following resume
                             into a continuation and suspend back out
  wasm finish                run until the current function returns or
                             its continuation switches away, then stop at
                             the next source line
  wasm break NAME            break on the Wasm functions named NAME, never
                             on a host function of that name
  info wasm-trap             which Wasm trap the process stopped on (also
                             printed at the stop)

Modules: `layout` (generated from the switchyard-registry-layout crate),
`registry` (the reader; no gdb), `target` (the process under gdb), `view`
(looking at another continuation's stack), `commands`, `breakpoints`, `stepping`, `traps`,
`frame_filter`, `unwinder`. The registry is read through its layout only,
never through Rust type information.
"""


def load():
    """Registers the commands, the frame filter and the unwinder with gdb."""
    import gdb

    from . import breakpoints, commands, frame_filter, stepping, target, traps, unwinder, view

    commands.register()
    breakpoints.register()
    stepping.register()
    traps.register()
    frame_filter.register()
    unwinder.register()
    view.install_restore_hooks()
    gdb.events.stop.connect(target.locate_registry)
