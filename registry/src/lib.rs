//! The layout of Switchyard's registry of live stacks, defined once.
//!
//! What it is not: a reader or a writer. It holds no state, reads no
//! memory and has no dependencies (`no_std`). The engine writes the
//! registry through these types; the unwinder, the sampler and the gdb
//! helpers read it through the offsets derived from them; docs/registry.md
//! describes it for humans. Tests in this crate check the document and the
//! gdb helpers' generated `layout.py` against these types, so a layout
//! change fails here and nowhere else.
//!
//! Each structure is declared once, with a macro that derives from the
//! `#[repr(C)]` type a module of named offsets
//! (`offsets::record::STATE`, computed with [`core::mem::offset_of!`]), its
//! size, and a table of its fields ([`LAYOUTS`]) that the document check
//! and the Python generator walk.
//!
//! # Why not `switchyard_registry`
//!
//! A crate's name is a namespace in the debug information, and gdb looks
//! names up there before the symbol table: a crate named like the exported
//! symbol [`REGISTRY_SYMBOL`] would hide that symbol from `print` and from
//! the gdb helpers.
//!
//! # Addresses are `usize`
//!
//! Pointer fields are `usize`, not raw pointers and not `u64`. The engine
//! stores addresses of its own objects in them, and writes them from
//! generated code and from Rust; `usize` keeps that code free of casts and
//! keeps these types plain data (`Send`, `Sync`, `Copy` where it helps).
//! Readers never dereference these types: they read another process, a
//! core file or their own memory through byte offsets, and an offset is a
//! property of the layout, not of the reader's machine. The layout is
//! defined for x86-64 only (8-byte, little-endian words), and this crate
//! refuses to build where `usize` is not 8 bytes, so the offsets it
//! computes are always the ones the document states.
//!
//! ```
//! use switchyard_registry_layout::{offsets, state, ContinuationRecord};
//! // A reader that holds a record's bytes:
//! let bytes = [0u8; offsets::record::SIZE];
//! let at = offsets::record::STATE;
//! let raw = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
//! assert_eq!(raw, state::FRESH);
//! assert_eq!(core::mem::size_of::<ContinuationRecord>(), offsets::record::SIZE);
//! ```

#![no_std]
#![warn(missing_docs)]

mod python;

pub use python::{REGENERATE, write_python_layout};

#[cfg(not(target_pointer_width = "64"))]
compile_error!("the registry layout is defined for 64-bit targets only");

/// The unmangled symbol whose address is the [`RegistryHeader`].
pub const REGISTRY_SYMBOL: &str = "switchyard_registry";
/// `RegistryHeader::magic`: the bytes "SYWR".
pub const REGISTRY_MAGIC: u32 = u32::from_le_bytes(*b"SYWR");
/// Layout version; bumped on any incompatible change.
pub const REGISTRY_VERSION: u32 = 5;
/// `ContinuationRecord::magic`: the bytes "SYWC".
pub const RECORD_MAGIC: u32 = u32::from_le_bytes(*b"SYWC");
/// Most words of values one switch can carry (arguments, tag payload or
/// results; a v128 takes two words): the length of
/// [`ContinuationRecord::args`].
pub const MAX_PAYLOAD: usize = 32;
/// The name of the engine's coarse-clock thread (at most 15 bytes, the
/// kernel's limit for a thread name, or `pthread_setname_np` refuses it):
/// tools that list a process's threads leave it out by this name.
pub const CLOCK_THREAD_NAME: &core::ffi::CStr = c"switchyard-clk";
/// Return addresses of the creating stack kept in a record: the length of
/// [`ContinuationRecord::creation`].
pub const CREATION_FRAMES: usize = 11;

/// Values of [`ContinuationRecord::state`].
pub mod state {
    /// Created, never resumed.
    pub const FRESH: u32 = 0;
    /// On the chain of running stacks.
    pub const RUNNING: u32 = 1;
    /// Suspended, waiting to be resumed.
    pub const SUSPENDED: u32 = 2;
    /// Its function returned; the stack is free for reuse.
    pub const RETURNED: u32 = 3;
    /// A trap or an exception ended it; the stack is free for reuse.
    pub const TRAPPED: u32 = 4;
    /// Every state with its lowercase name, in value order.
    pub const NAMES: [(u32, &str); 5] = [
        (FRESH, "fresh"),
        (RUNNING, "running"),
        (SUSPENDED, "suspended"),
        (RETURNED, "returned"),
        (TRAPPED, "trapped"),
    ];
}

/// Values of the trap code of a [`CodeEntry::traps`] pair: what a fault at
/// that instruction means to Wasm.
pub mod trap {
    /// Every trap code with the message the engine reports for it, in
    /// value order (codes start at 1).
    pub const NAMES: [(u32, &str); 18] = [
        (1, "unreachable"),
        (2, "integer divide by zero"),
        (3, "integer overflow"),
        (4, "invalid conversion to integer"),
        (5, "out of bounds memory access"),
        (6, "out of bounds table access"),
        (7, "undefined element"),
        (8, "uninitialized element"),
        (9, "indirect call type mismatch"),
        (10, "null function reference"),
        (11, "null reference"),
        (12, "call stack exhausted"),
        (13, "null continuation reference"),
        (14, "continuation already consumed"),
        (15, "unhandled tag"),
        (16, "too many live continuations"),
        (17, "uncaught exception"),
        (18, "null exception reference"),
    ];
}

/// One field of a structure of the layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// The field's name, as the document spells it.
    pub name: &'static str,
    /// The name of its offset constant in the structure's module.
    pub constant: &'static str,
    /// Offset from the start of the structure.
    pub offset: usize,
    /// Size in bytes.
    pub size: usize,
}

/// One structure of the layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The structure's name, as the document's section title spells it.
    pub name: &'static str,
    /// The module of its offsets (in [`offsets`]), also the prefix of its
    /// constants in the generated Python.
    pub module: &'static str,
    /// Its size in bytes.
    pub size: usize,
    /// Its fields, in order.
    pub fields: &'static [Field],
}

/// Declares the `#[repr(C)]` structures of the layout and, in
/// `offsets::$module` for each, the offset of each field, `SIZE` and
/// `LAYOUT`.
macro_rules! layout {
    ($(
        $(#[$meta:meta])*
        pub struct $name:ident in $module:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty => $konst:ident, )*
        }
    )*) => {
        $(
            $(#[$meta])*
            #[repr(C)]
            pub struct $name {
                $( $(#[$fmeta])* pub $field: $ty, )*
            }
        )*

        /// Named offsets and sizes of every structure, one module per
        /// structure.
        pub mod offsets {
            $(
                #[doc = concat!("Offsets and size of [`", stringify!($name), "`](crate::", stringify!($name), ").")]
                pub mod $module {
                    #[allow(unused_imports)]
                    use crate::*;
                    $(
                        #[doc = concat!("Offset of `", stringify!($field), "`.")]
                        pub const $konst: usize = core::mem::offset_of!($name, $field);
                    )*
                    /// Size of the structure.
                    pub const SIZE: usize = core::mem::size_of::<$name>();
                    /// The structure's fields, for checks and generators.
                    pub const LAYOUT: Layout = Layout {
                        name: stringify!($name),
                        module: stringify!($module),
                        size: SIZE,
                        fields: &[$(Field {
                            name: stringify!($field),
                            constant: stringify!($konst),
                            offset: $konst,
                            size: core::mem::size_of::<$ty>(),
                        }),*],
                    };
                }
            )*

            /// A running continuation's trampoline frame pointer lies this
            /// far above its record: it points at `parent.fp`, so that the
            /// frame record `[fp, fp + 8]` is the resumer's `{fp, pc}`.
            pub const TRAMPOLINE_FP: usize = record::PARENT + context::FP;

            /// The smallest [`CodeEntry`](crate::CodeEntry) a reader must
            /// accept: up to `source_map_len` (entries may end before
            /// `eh_frame` or before `traps`; `code_entry_size` says where).
            pub const CODE_ENTRY_MIN_SIZE: usize = code::EH_FRAME;

            /// Size of one entry of a store's `records` array (an address).
            pub const RECORD_POINTER_SIZE: usize = core::mem::size_of::<usize>();

            /// Size of one `(code offset, module offset)` pair of a
            /// `source_map`.
            pub const SOURCE_MAP_PAIR_SIZE: usize = core::mem::size_of::<[u32; 2]>();

            /// Size of one `(code offset, trap code)` pair of `traps`.
            pub const TRAP_PAIR_SIZE: usize = core::mem::size_of::<[u32; 2]>();

            /// Size of one element of a [`Table`](crate::Table).
            pub const TABLE_ELEMENT_SIZE: usize = core::mem::size_of::<u64>();
        }
    };
}

layout! {
    /// The root, at the exported symbol [`REGISTRY_SYMBOL`](crate::REGISTRY_SYMBOL).
    #[derive(Debug)]
    pub struct RegistryHeader in header {
        /// [`REGISTRY_MAGIC`](crate::REGISTRY_MAGIC).
        magic: u32 => MAGIC,
        /// [`REGISTRY_VERSION`](crate::REGISTRY_VERSION).
        version: u32 => VERSION,
        /// Size of this header.
        header_size: u32 => HEADER_SIZE,
        /// Size of a [`ContinuationRecord`].
        record_size: u32 => RECORD_SIZE,
        /// Size of a [`StoreDescriptor`].
        store_size: u32 => STORE_SIZE,
        /// Size of a [`CodeEntry`].
        code_entry_size: u32 => CODE_ENTRY_SIZE,
        /// Odd while a structural update is in progress.
        generation: u64 => GENERATION,
        /// First [`StoreDescriptor`] (a linked list), or 0.
        stores: usize => STORES,
        /// First [`CodeEntry`] (a linked list), or 0.
        code: usize => CODE,
        /// Code range of the continuation entry trampoline: a return
        /// address in it marks the bottom frame of a continuation stack.
        trampoline_start: usize => TRAMPOLINE_START,
        /// End of that range.
        trampoline_end: usize => TRAMPOLINE_END,
        /// Code range of the host entry routine: a return address in it
        /// marks the last Wasm frame above the host frames that entered
        /// Wasm.
        entry_start: usize => ENTRY_START,
        /// End of that range.
        entry_end: usize => ENTRY_END,
        /// The coarse clock: monotonic nanoseconds, advanced by the
        /// engine about once a millisecond (0 before the first continuation).
        /// Switches copy it into a record's `last_switch`; a reader
        /// subtracts to tell how long a continuation has waited.
        clock: u64 => CLOCK,
        /// The thread id of the engine's thread that advances `clock` (0
        /// until it runs): it never runs Wasm, so thread listings (`bt`
        /// of a process or a core file) leave it out.
        clock_thread: u64 => CLOCK_THREAD,
    }

    /// One store: its context (which names the running continuation)
    /// and the records of every continuation stack it ever mapped.
    #[derive(Debug, Default)]
    pub struct StoreDescriptor in store {
        /// Next store, or 0.
        next: usize => NEXT,
        /// The store's [`StoreContext`].
        context: usize => CONTEXT,
        /// Array of `record_count` addresses of [`ContinuationRecord`]s,
        /// live or free: a record's `state` says which.
        records: usize => RECORDS,
        /// Number of entries in `records`.
        record_count: u64 => RECORD_COUNT,
        /// Innermost host entry into Wasm (reserved: always 0).
        host_entry: usize => HOST_ENTRY,
    }

    /// The head of the engine's per-store context (`VMStoreContext`),
    /// which generated code reads and writes; the engine checks at
    /// compile time that its own type starts with this layout.
    #[derive(Debug)]
    pub struct StoreContext in store_context {
        /// Lowest address Wasm may use on the running stack.
        stack_limit: usize => STACK_LIMIT,
        /// Frame pointer of the last Wasm frame when Wasm called the host.
        last_exit_fp: usize => LAST_EXIT_FP,
        /// Return address into Wasm of that call.
        last_exit_pc: usize => LAST_EXIT_PC,
        /// The owning store (engine-private).
        store: usize => STORE,
        /// The innermost host entry's saved registers (engine-private).
        entry_jmpbuf: usize => ENTRY_JMPBUF,
        /// [`ContinuationRecord`] of the running continuation, 0 on a
        /// host stack.
        current_cont: usize => CURRENT_CONT,
        /// Free list of records whose stacks can be reused
        /// (engine-private).
        cont_free: usize => CONT_FREE,
        /// Number of live continuations.
        cont_live: u64 => CONT_LIVE,
    }

    /// A saved `{sp, fp, pc}`, in the layout Cranelift's `stack_switch`
    /// uses.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct ControlContext in context {
        /// Stack pointer.
        sp: usize => SP,
        /// Frame pointer.
        fp: usize => FP,
        /// Where execution continues.
        pc: usize => PC,
    }

    /// What a funcref points at (the engine's `VMFuncRef`); a record's
    /// `entry_func` is one.
    #[derive(Debug)]
    pub struct FuncRef in funcref {
        /// Code of the function.
        code: usize => CODE,
        /// Canonical type id of the function.
        type_id: u64 => TYPE_ID,
        /// The callee's instance context.
        vmctx: usize => VMCTX,
    }

    /// The record at the top of every continuation stack. Its first
    /// part says where the stack is and how to walk it; fields marked
    /// engine-private are what switches use, and readers must not rely
    /// on them.
    #[derive(Debug)]
    pub struct ContinuationRecord in record {
        /// [`RECORD_MAGIC`](crate::RECORD_MAGIC).
        magic: u32 => MAGIC,
        /// One of [`state`](crate::state).
        state: u32 => STATE,
        /// Unique id of the continuation (not of the stack, which is
        /// reused).
        id: u64 => ID,
        /// Lowest usable stack address (a guard page lies below).
        stack_low: usize => STACK_LOW,
        /// One past the highest stack address.
        stack_high: usize => STACK_HIGH,
        /// While running: the resumer's record (0: a host stack).
        parent_record: usize => PARENT_RECORD,
        /// The [`FuncRef`] the continuation was created from.
        entry_func: usize => ENTRY_FUNC,
        /// The tag of the last suspension (0: none yet).
        last_tag: usize => LAST_TAG,
        /// How many times it was resumed.
        resumes: u64 => RESUMES,
        /// How many times it was switched to or from.
        switches: u64 => SWITCHES,
        /// While the continuation runs: its resumer's state. While it is
        /// suspended: cleared (`pc == 0`), so unwinders stop at its
        /// bottom. The trampoline's frame pointer points at `parent.fp`,
        /// which makes `[parent.fp, parent.pc]` its frame record.
        parent: ControlContext => PARENT,
        /// Its own state while suspended (for a fresh one: the
        /// trampoline on an empty stack).
        own: ControlContext => OWN,
        /// The body the trampoline calls (engine-private).
        body: usize => BODY,
        /// The store context it belongs to (engine-private).
        store: usize => STORE,
        /// Bumped whenever a reference to the continuation is consumed;
        /// a reference carries the generation it was made at.
        generation: u64 => GENERATION,
        /// The outermost record of the chain it heads when a suspension
        /// forwarded through other handlers captured it (itself
        /// otherwise).
        last_ancestor: usize => LAST_ANCESTOR,
        /// The tags of the `resume` running it (engine-private).
        handlers: usize => HANDLERS,
        /// Number of entries in `handlers` (engine-private).
        handlers_len: u64 => HANDLERS_LEN,
        /// The Wasm stack limit on this stack.
        stack_limit: usize => STACK_LIMIT,
        /// Words of values bound by `cont.bind`, at the start of `args`.
        bound: u64 => BOUND,
        /// Values of the current switch, one word each, two for a v128 (an
        /// `i32` in the low half of its word). While the continuation is
        /// fresh, the first `bound` words are the values `cont.bind`
        /// bound to its entry function's first parameters; otherwise
        /// engine-private.
        args: [u64; MAX_PAYLOAD] => ARGS,
        /// Free list of records whose stacks can be reused
        /// (engine-private).
        next_free: usize => NEXT_FREE,
        /// Id of the continuation that ran `cont.new` (0: a host stack).
        created_by: u64 => CREATED_BY,
        /// The header's `clock` at creation.
        created_at: u64 => CREATED_AT,
        /// The header's `clock` at its last resume, suspension or switch.
        last_switch: u64 => LAST_SWITCH,
        /// Return address of the `resume` that caught its last suspension
        /// (the resume site), 0 if none.
        caught_pc: usize => CAUGHT_PC,
        /// Record of the stack that ran that `resume` (0: a host stack).
        /// Records are reused: a reader names it only while it lives.
        caught_by: usize => CAUGHT_BY,
        /// Return addresses of the creating stack, innermost first,
        /// starting at the frame that executed `cont.new`; 0 after the
        /// last one.
        creation: [usize; CREATION_FRAMES] => CREATION,
    }

    /// One compiled module's code.
    #[derive(Debug)]
    pub struct CodeEntry in code {
        /// Next entry, or 0.
        next: usize => NEXT,
        /// First byte of the module's code.
        code_start: usize => CODE_START,
        /// One past its last byte.
        code_end: usize => CODE_END,
        /// UTF-8 module name (name section, else file name).
        name: usize => NAME,
        /// Its length.
        name_len: u64 => NAME_LEN,
        /// Array of `function_count` [`FunctionEntry`], sorted by
        /// `start`.
        functions: usize => FUNCTIONS,
        /// Number of functions.
        function_count: u64 => FUNCTION_COUNT,
        /// The module's binary (its name section and DWARF).
        module_bytes: usize => MODULE_BYTES,
        /// Its length.
        module_len: u64 => MODULE_LEN,
        /// Array of `(code offset, module offset)` pairs of `u32`,
        /// sorted: native code from each code offset (from
        /// `code_start`) on belongs to the Wasm instruction at that byte
        /// offset of the module.
        source_map: usize => SOURCE_MAP,
        /// Number of pairs.
        source_map_len: u64 => SOURCE_MAP_LEN,
        /// The code's `.eh_frame` (CFI of every function, absolute
        /// addresses), or 0. Entries written before this field existed
        /// end here: readers take `code_entry_size` from the header.
        eh_frame: usize => EH_FRAME,
        /// Its length in bytes.
        eh_frame_len: u64 => EH_FRAME_LEN,
        /// Array of `(code offset, trap code)` pairs of `u32`, sorted by
        /// offset: a fault at `code_start + code offset` is the Wasm trap
        /// of that code (one of [`trap`](crate::trap)), or 0.
        traps: usize => TRAPS,
        /// Number of pairs.
        trap_count: u64 => TRAP_COUNT,
        /// Offset, in the context of an instance of this module (a
        /// [`FuncRef`]'s `vmctx`), of the address of its table 0's
        /// [`Table`]; table N's address is 8·N bytes further (imported
        /// tables included). 0: not published (entries written before
        /// this field existed end before it).
        vmctx_tables: u64 => VMCTX_TABLES,
    }

    /// A table of an instance: its elements, one word each. An element
    /// of a `funcref` table is the address of a [`FuncRef`], or 0 (null).
    #[derive(Debug)]
    pub struct Table in table {
        /// The elements; moves when the table grows.
        base: usize => BASE,
        /// Number of elements.
        length: u64 => LENGTH,
    }

    /// One function of a [`CodeEntry`].
    #[derive(Debug)]
    pub struct FunctionEntry in function {
        /// First byte of its code.
        start: usize => START,
        /// One past its last byte.
        end: usize => END,
        /// Function index in the module.
        index: u32 => INDEX,
        /// Length of `name`.
        name_len: u32 => NAME_LEN,
        /// UTF-8 name (name section, else export name, else
        /// `wasm-function[N]`).
        name: usize => NAME,
    }
}

/// Every structure of the layout, in the document's order.
pub const LAYOUTS: [Layout; 9] = [
    offsets::header::LAYOUT,
    offsets::store::LAYOUT,
    offsets::store_context::LAYOUT,
    offsets::record::LAYOUT,
    offsets::context::LAYOUT,
    offsets::funcref::LAYOUT,
    offsets::code::LAYOUT,
    offsets::function::LAYOUT,
    offsets::table::LAYOUT,
];

// The sizes version 5 fixed. Changing one is a new layout version: bump
// REGISTRY_VERSION, then docs/registry.md and the gdb helpers' layout.py.
const _: () = {
    assert!(offsets::header::SIZE == 96);
    assert!(offsets::store::SIZE == 40);
    assert!(offsets::store_context::SIZE == 64);
    assert!(offsets::record::SIZE == 576);
    assert!(offsets::context::SIZE == 24);
    assert!(offsets::funcref::SIZE == 24);
    assert!(offsets::code::SIZE == 128);
    assert!(offsets::function::SIZE == 32);
    assert!(offsets::table::SIZE == 16);
    assert!(offsets::TRAMPOLINE_FP == 80);
};
