# Generated from the switchyard-registry-layout crate: do not edit.
# Regenerate with:
#   cargo run -p switchyard-registry-layout --example python_layout > gdb-scripts/switchyard/layout.py
"""The layout of the registry of live stacks, version 5 (docs/registry.md)."""

SYMBOL = "switchyard_registry"
MAGIC_REGISTRY = 0x52575953  # "SYWR"
MAGIC_RECORD = 0x43575953  # "SYWC"
VERSION = 5
MAX_PAYLOAD = 32
CREATION_FRAMES = 11

STATE_FRESH = 0
STATE_RUNNING = 1
STATE_SUSPENDED = 2
STATE_RETURNED = 3
STATE_TRAPPED = 4
STATE_NAMES = {0: "fresh", 1: "running", 2: "suspended", 3: "returned", 4: "trapped"}
TRAP_NAMES = {1: "unreachable", 2: "integer divide by zero", 3: "integer overflow", 4: "invalid conversion to integer", 5: "out of bounds memory access", 6: "out of bounds table access", 7: "undefined element", 8: "uninitialized element", 9: "indirect call type mismatch", 10: "null function reference", 11: "null reference", 12: "call stack exhausted", 13: "null continuation reference", 14: "continuation already consumed", 15: "unhandled tag", 16: "too many live continuations", 17: "uncaught exception", 18: "null exception reference"}

# RegistryHeader (96 bytes)
HEADER_SIZE = 96
HEADER_MAGIC = 0  # 4 bytes
HEADER_VERSION = 4  # 4 bytes
HEADER_HEADER_SIZE = 8  # 4 bytes
HEADER_RECORD_SIZE = 12  # 4 bytes
HEADER_STORE_SIZE = 16  # 4 bytes
HEADER_CODE_ENTRY_SIZE = 20  # 4 bytes
HEADER_GENERATION = 24  # 8 bytes
HEADER_STORES = 32  # 8 bytes
HEADER_CODE = 40  # 8 bytes
HEADER_TRAMPOLINE_START = 48  # 8 bytes
HEADER_TRAMPOLINE_END = 56  # 8 bytes
HEADER_ENTRY_START = 64  # 8 bytes
HEADER_ENTRY_END = 72  # 8 bytes
HEADER_CLOCK = 80  # 8 bytes
HEADER_CLOCK_THREAD = 88  # 8 bytes

# StoreDescriptor (40 bytes)
STORE_SIZE = 40
STORE_NEXT = 0  # 8 bytes
STORE_CONTEXT = 8  # 8 bytes
STORE_RECORDS = 16  # 8 bytes
STORE_RECORD_COUNT = 24  # 8 bytes
STORE_HOST_ENTRY = 32  # 8 bytes

# StoreContext (64 bytes)
STORE_CONTEXT_SIZE = 64
STORE_CONTEXT_STACK_LIMIT = 0  # 8 bytes
STORE_CONTEXT_LAST_EXIT_FP = 8  # 8 bytes
STORE_CONTEXT_LAST_EXIT_PC = 16  # 8 bytes
STORE_CONTEXT_STORE = 24  # 8 bytes
STORE_CONTEXT_ENTRY_JMPBUF = 32  # 8 bytes
STORE_CONTEXT_CURRENT_CONT = 40  # 8 bytes
STORE_CONTEXT_CONT_FREE = 48  # 8 bytes
STORE_CONTEXT_CONT_LIVE = 56  # 8 bytes

# ContinuationRecord (576 bytes)
RECORD_SIZE = 576
RECORD_MAGIC = 0  # 4 bytes
RECORD_STATE = 4  # 4 bytes
RECORD_ID = 8  # 8 bytes
RECORD_STACK_LOW = 16  # 8 bytes
RECORD_STACK_HIGH = 24  # 8 bytes
RECORD_PARENT_RECORD = 32  # 8 bytes
RECORD_ENTRY_FUNC = 40  # 8 bytes
RECORD_LAST_TAG = 48  # 8 bytes
RECORD_RESUMES = 56  # 8 bytes
RECORD_SWITCHES = 64  # 8 bytes
RECORD_PARENT = 72  # 24 bytes
RECORD_OWN = 96  # 24 bytes
RECORD_BODY = 120  # 8 bytes
RECORD_STORE = 128  # 8 bytes
RECORD_GENERATION = 136  # 8 bytes
RECORD_LAST_ANCESTOR = 144  # 8 bytes
RECORD_HANDLERS = 152  # 8 bytes
RECORD_HANDLERS_LEN = 160  # 8 bytes
RECORD_STACK_LIMIT = 168  # 8 bytes
RECORD_BOUND = 176  # 8 bytes
RECORD_ARGS = 184  # 256 bytes
RECORD_NEXT_FREE = 440  # 8 bytes
RECORD_CREATED_BY = 448  # 8 bytes
RECORD_CREATED_AT = 456  # 8 bytes
RECORD_LAST_SWITCH = 464  # 8 bytes
RECORD_CAUGHT_PC = 472  # 8 bytes
RECORD_CAUGHT_BY = 480  # 8 bytes
RECORD_CREATION = 488  # 88 bytes

# ControlContext (24 bytes)
CONTEXT_SIZE = 24
CONTEXT_SP = 0  # 8 bytes
CONTEXT_FP = 8  # 8 bytes
CONTEXT_PC = 16  # 8 bytes

# FuncRef (24 bytes)
FUNCREF_SIZE = 24
FUNCREF_CODE = 0  # 8 bytes
FUNCREF_TYPE_ID = 8  # 8 bytes
FUNCREF_VMCTX = 16  # 8 bytes

# CodeEntry (128 bytes)
CODE_SIZE = 128
CODE_NEXT = 0  # 8 bytes
CODE_CODE_START = 8  # 8 bytes
CODE_CODE_END = 16  # 8 bytes
CODE_NAME = 24  # 8 bytes
CODE_NAME_LEN = 32  # 8 bytes
CODE_FUNCTIONS = 40  # 8 bytes
CODE_FUNCTION_COUNT = 48  # 8 bytes
CODE_MODULE_BYTES = 56  # 8 bytes
CODE_MODULE_LEN = 64  # 8 bytes
CODE_SOURCE_MAP = 72  # 8 bytes
CODE_SOURCE_MAP_LEN = 80  # 8 bytes
CODE_EH_FRAME = 88  # 8 bytes
CODE_EH_FRAME_LEN = 96  # 8 bytes
CODE_TRAPS = 104  # 8 bytes
CODE_TRAP_COUNT = 112  # 8 bytes
CODE_VMCTX_TABLES = 120  # 8 bytes

# FunctionEntry (32 bytes)
FUNCTION_SIZE = 32
FUNCTION_START = 0  # 8 bytes
FUNCTION_END = 8  # 8 bytes
FUNCTION_INDEX = 16  # 4 bytes
FUNCTION_NAME_LEN = 20  # 4 bytes
FUNCTION_NAME = 24  # 8 bytes

# Table (16 bytes)
TABLE_SIZE = 16
TABLE_BASE = 0  # 8 bytes
TABLE_LENGTH = 8  # 8 bytes

# A running continuation's trampoline frame pointer, minus its record.
TRAMPOLINE_FP = 80
# The smallest code entry a reader accepts (code_entry_size says more).
CODE_ENTRY_MIN_SIZE = 88
# One address of a store's records array.
RECORD_POINTER_SIZE = 8
# One (code offset, module offset) pair of a source map.
SOURCE_MAP_PAIR_SIZE = 8
# One (code offset, trap code) pair of a trap table.
TRAP_PAIR_SIZE = 8
# One element of a table (a FuncRef's address, or 0).
TABLE_ELEMENT_SIZE = 8
