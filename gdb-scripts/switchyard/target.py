"""The process under gdb: its memory, its registers, where its registry
is, and source lines of its code. Everything else reaches gdb's inferior
through here."""

import struct

import gdb

from . import layout
from .registry import Registry, RegistryError


def read_memory(addr, size):
    """`size` bytes of the inferior at `addr`, or a RegistryError."""
    try:
        return bytes(gdb.selected_inferior().read_memory(addr, size))
    except (gdb.error, OverflowError, ValueError, MemoryError):
        raise RegistryError("cannot read memory at 0x%x" % addr)


def read_u64(addr):
    return struct.unpack("<Q", read_memory(addr, 8))[0]


_registry_cache = {}


def cached_registry_address():
    """The registry's address if already known for this process (an
    unwinder must not evaluate expressions), else a RegistryError."""
    pid = gdb.selected_inferior().pid
    if pid not in _registry_cache:
        raise RegistryError("registry not located yet")
    return _registry_cache[pid]


def registry_address():
    """The address of the registry symbol, looked up as a C symbol (in a
    Rust frame, gdb's Rust parser looks for a path and does not find it)."""
    pid = gdb.selected_inferior().pid
    if pid in _registry_cache:
        return _registry_cache[pid]
    lang = gdb.parameter("language")
    try:
        gdb.execute("set language c", to_string=True)
        addr = int(gdb.parse_and_eval("(unsigned long)&%s" % layout.SYMBOL))
    except gdb.error:
        raise RegistryError("no %s symbol: is this a Switchyard process?" % layout.SYMBOL)
    finally:
        gdb.execute("set language %s" % (lang or "auto"), to_string=True)
    _registry_cache[pid] = addr
    return addr


def registry_generation():
    """The registry's generation counter, without evaluating expressions."""
    return read_u64(cached_registry_address() + layout.HEADER_GENERATION)


def snapshot():
    """The registry of the selected inferior, read now."""
    return Registry(read_memory, registry_address())


def locate_registry(event=None):
    """Locates the registry in a normal context (on every stop): the
    unwinder may not evaluate expressions."""
    try:
        registry_address()
    except (RegistryError, gdb.error):
        pass


def require_process():
    if not gdb.selected_inferior().pid:
        raise gdb.GdbError("The program is not being run.")


def current_sp():
    return int(gdb.parse_and_eval("$sp"))


def current_pc():
    return int(gdb.parse_and_eval("$pc"))


def line_of(pc, is_return_address):
    """`file:line` of pc (of the call before it for a return address)."""
    sal = gdb.find_pc_line(pc - 1 if is_return_address else pc)
    if sal.symtab is None or sal.line == 0:
        return None
    return "%s:%d" % (sal.symtab.filename, sal.line)


def top_wasm_frame(reg, context, read=read_memory):
    """The first Wasm pc found by a frame-pointer walk from `context`, and
    whether it is a return address. `read` reads the stack (the inferior's
    memory unless told)."""
    sp, fp, pc = context
    is_ret = False
    for _ in range(16):
        if reg.function_at(pc):
            return pc, is_ret
        if not fp:
            return None, False
        try:
            fp, pc = struct.unpack("<QQ", read(fp, 16))
        except RegistryError:
            return None, False
        is_ret = True
    return None, False


def describe_pc(reg, pc, is_ret):
    """`module!function at file:line` of Wasm code at pc."""
    f = reg.function_at(pc)
    if f is None:
        return "?"
    text = "%s!%s" % (f.module.name, f.name)
    line = line_of(pc, is_ret)
    if line:
        text += " at " + line
    return text
