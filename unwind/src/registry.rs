//! Reading the registry of live stacks through its layout (the
//! `switchyard-registry-layout` crate's offsets, documented in docs/registry.md),
//! from any [`Memory`].
//!
//! Nothing read is trusted: counts and lengths are bounded, linked lists
//! are checked for cycles, and a record without its magic is reported, not
//! followed.

use std::collections::HashSet;
use std::fmt;

use switchyard_registry_layout::offsets::{
    CODE_ENTRY_MIN_SIZE, RECORD_POINTER_SIZE, SOURCE_MAP_PAIR_SIZE, code, context, funcref,
    function, header, record, store, store_context,
};
use switchyard_registry_layout::{CREATION_FRAMES, MAX_PAYLOAD};
pub use switchyard_registry_layout::{RECORD_MAGIC, REGISTRY_MAGIC, REGISTRY_VERSION as VERSION};

use crate::memory::{Memory, ReadError};

const MAX_STORES: usize = 4096;
const MAX_RECORDS: u64 = 4_000_000;
const MAX_MODULES: usize = 100_000;
const MAX_FUNCTIONS: u64 = 4_000_000;
const MAX_NAME: u64 = 4096;

/// Why the registry could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryError {
    /// Memory was unreadable.
    Read(ReadError),
    /// The symbol does not point at a registry.
    BadMagic(u32),
    /// A layout version this reader does not know.
    Version(u32),
    /// The process kept changing the registry while we read it.
    Unstable,
    /// Something in it is not what the layout says.
    Corrupt(String),
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryError::Read(e) => write!(f, "registry unreadable: {e}"),
            RegistryError::BadMagic(m) => write!(f, "no Switchyard registry there (magic {m:#x})"),
            RegistryError::Version(v) => write!(
                f,
                "registry layout version {v} is not supported (expected {VERSION})"
            ),
            RegistryError::Unstable => f.write_str("the registry kept changing while being read"),
            RegistryError::Corrupt(what) => write!(f, "corrupt registry: {what}"),
        }
    }
}

impl std::error::Error for RegistryError {}

impl From<ReadError> for RegistryError {
    fn from(e: ReadError) -> RegistryError {
        RegistryError::Read(e)
    }
}

/// A saved `{sp, fp, pc}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Context {
    /// Stack pointer.
    pub sp: u64,
    /// Frame pointer.
    pub fp: u64,
    /// Program counter.
    pub pc: u64,
}

/// The state of a continuation, as its record says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Created, never resumed.
    Fresh,
    /// On the chain of running stacks.
    Running,
    /// Suspended.
    Suspended,
    /// Finished; the stack is free.
    Returned,
    /// Ended by a trap or an exception; the stack is free.
    Trapped,
    /// A value the layout does not define.
    Unknown(u32),
}

impl State {
    fn from_raw(v: u32) -> State {
        use switchyard_registry_layout::state;
        match v {
            state::FRESH => State::Fresh,
            state::RUNNING => State::Running,
            state::SUSPENDED => State::Suspended,
            state::RETURNED => State::Returned,
            state::TRAPPED => State::Trapped,
            other => State::Unknown(other),
        }
    }

    /// Whether a continuation lives on the stack.
    pub fn is_live(&self) -> bool {
        matches!(self, State::Fresh | State::Running | State::Suspended)
    }

    /// A lowercase name.
    pub fn name(&self) -> &'static str {
        match self {
            State::Fresh => "fresh",
            State::Running => "running",
            State::Suspended => "suspended",
            State::Returned => "returned",
            State::Trapped => "trapped",
            State::Unknown(_) => "unknown",
        }
    }
}

/// A continuation stack's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackRecord {
    /// Address of the record.
    pub address: u64,
    /// State.
    pub state: State,
    /// Continuation id.
    pub id: u64,
    /// Lowest usable stack address.
    pub stack_low: u64,
    /// One past the highest stack address.
    pub stack_high: u64,
    /// While running: the resumer's record (0: a host stack).
    pub parent_record: u64,
    /// The `VMFuncRef` it was created from.
    pub entry_func: u64,
    /// Code address of the entry function (read through `entry_func`).
    pub entry_code: u64,
    /// The `VMTag` of its last suspension.
    pub last_tag: u64,
    /// Times resumed.
    pub resumes: u64,
    /// Times switched to or from.
    pub switches: u64,
    /// While running: the resumer's context.
    pub parent: Context,
    /// While suspended: its own context.
    pub own: Context,
    /// Id of the continuation that created it (0: a host stack).
    pub created_by: u64,
    /// The registry clock at creation (nanoseconds).
    pub created_at: u64,
    /// The registry clock when it last suspended or switched away.
    pub last_switch: u64,
    /// Return address of the resume that caught its last suspension (0:
    /// none).
    pub caught_pc: u64,
    /// Record of the stack that ran that resume (0: a host stack).
    pub caught_by: u64,
    /// Return addresses of the stack that created it, innermost first
    /// (the first in the function that executed `cont.new`).
    pub creation: Vec<u64>,
    /// While fresh: the words `cont.bind` bound to its entry function's
    /// first parameters (empty in any other state).
    pub bound: Vec<u64>,
}

impl StackRecord {
    /// How long it has waited since it suspended (or switched away), by
    /// the registry's clock `now`: nanoseconds, 0 when it is not suspended
    /// or the clock does not run (starting to run is not stamped).
    pub fn waited_ns(&self, now: u64) -> u64 {
        if self.state != State::Suspended || now == 0 || self.last_switch == 0 {
            return 0;
        }
        now.saturating_sub(self.last_switch)
    }

    /// How many times it started running (resumed or switched to).
    pub fn runs(&self) -> u64 {
        // Every switch to it is matched by one away from it but the last.
        self.resumes + self.switches.div_ceil(2)
    }
}

/// What the registry says about one store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreInfo {
    /// Address of the store's `VMStoreContext`.
    pub context: u64,
    /// The running continuation's record (0: none).
    pub current_cont: u64,
    /// Frame pointer of the last Wasm frame when Wasm called the host.
    pub last_exit_fp: u64,
    /// Return address into Wasm of that call.
    pub last_exit_pc: u64,
    /// Live continuations, as the store counts them.
    pub live: u64,
    /// Every stack record of the store.
    pub records: Vec<StackRecord>,
}

/// One function of a module's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionInfo {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
    /// Index in the module.
    pub index: u32,
    /// Name.
    pub name: String,
}

/// One compiled module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleInfo {
    /// Module name.
    pub name: String,
    /// First byte of code.
    pub code_start: u64,
    /// One past the last byte.
    pub code_end: u64,
    /// Functions, sorted by address.
    pub functions: Vec<FunctionInfo>,
    /// Where the module's bytes are, and how many.
    pub bytes_address: u64,
    /// Length of the module's bytes.
    pub bytes_len: u64,
    /// Where its source map (pairs of `u32`: code offset, module offset)
    /// is, and how many pairs.
    pub source_map_address: u64,
    /// Number of pairs in the source map.
    pub source_map_len: u64,
    /// Where the code's `.eh_frame` is (0: none, or a registry too old to
    /// say).
    pub eh_frame_address: u64,
    /// Its length in bytes.
    pub eh_frame_len: u64,
    /// Offset in an instance's context of its table 0's `Table` address
    /// (0: not published).
    pub vmctx_tables: u64,
}

impl ModuleInfo {
    /// The module's bytes, read from `memory` (its name section and DWARF
    /// live there). At most 256 MiB.
    pub fn read_bytes(&self, memory: &dyn Memory) -> Result<Vec<u8>, RegistryError> {
        if self.bytes_len > 256 << 20 {
            return Err(RegistryError::Corrupt(format!(
                "a module of {} bytes",
                self.bytes_len
            )));
        }
        Ok(memory.read_vec(self.bytes_address, self.bytes_len as usize)?)
    }

    /// The module byte offset of the Wasm instruction at `pc`, by binary
    /// search in the source map in `memory`.
    pub fn wasm_offset(&self, memory: &dyn Memory, pc: u64) -> Option<u32> {
        let offset = u32::try_from(pc.checked_sub(self.code_start)?).ok()?;
        let function = self.function_at(pc)?;
        let function_start = u32::try_from(function.start.checked_sub(self.code_start)?).ok()?;
        let function_end = u32::try_from(function.end.checked_sub(self.code_start)?).ok()?;
        let pair = |i: u64| -> Option<[u32; 2]> {
            let a = self
                .source_map_address
                .checked_add(i.checked_mul(SOURCE_MAP_PAIR_SIZE as u64)?)?;
            let v = memory.read_u64(a).ok()?;
            Some([v as u32, (v >> 32) as u32])
        };
        // The first pair whose code offset is > offset.
        let len = self.source_map_len.min(1 << 28);
        let (mut lo, mut hi) = (0u64, len);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pair(mid)?[0] <= offset {
                lo = mid + 1
            } else {
                hi = mid
            }
        }
        // The instruction at or before `offset` if it is in the same
        // function; before the function's first mapped instruction (its
        // prologue), that first instruction.
        if let Some(before) = lo.checked_sub(1).and_then(pair)
            && before[0] >= function_start
        {
            return Some(before[1]);
        }
        let after = if lo < len { pair(lo)? } else { return None };
        (after[0] < function_end).then_some(after[1])
    }

    /// The function containing `pc`.
    pub fn function_at(&self, pc: u64) -> Option<&FunctionInfo> {
        let i = self
            .functions
            .partition_point(|f| f.start <= pc)
            .checked_sub(1)?;
        let f = &self.functions[i];
        (pc < f.end).then_some(f)
    }
}

/// Everything the registry says, read at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Stores.
    pub stores: Vec<StoreInfo>,
    /// Compiled modules.
    pub modules: Vec<ModuleInfo>,
    /// Code range of the continuation entry trampoline.
    pub trampoline: (u64, u64),
    /// Code range of the host entry routine.
    pub entry: (u64, u64),
    /// The registry's coarse clock when read (monotonic nanoseconds, 0
    /// when it does not run).
    pub clock: u64,
    /// The thread id of the engine's clock thread (0: none), which never
    /// runs Wasm.
    pub clock_thread: u64,
}

impl Snapshot {
    /// Reads the registry whose header is at `address`.
    pub fn read(memory: &dyn Memory, address: u64) -> Result<Snapshot, RegistryError> {
        let magic = memory.read_u32(address + header::MAGIC as u64)?;
        if magic != REGISTRY_MAGIC {
            return Err(RegistryError::BadMagic(magic));
        }
        let version = memory.read_u32(address + header::VERSION as u64)?;
        if version != VERSION {
            return Err(RegistryError::Version(version));
        }
        for _ in 0..8 {
            let before = memory.read_u64(address + header::GENERATION as u64)?;
            if before % 2 == 1 {
                std::thread::yield_now();
                continue;
            }
            let snapshot = read_unchecked(memory, address);
            let after = memory.read_u64(address + header::GENERATION as u64)?;
            if before == after {
                return snapshot;
            }
        }
        Err(RegistryError::Unstable)
    }

    /// The module whose code contains `pc`.
    pub fn module_at(&self, pc: u64) -> Option<&ModuleInfo> {
        self.modules
            .iter()
            .find(|m| m.code_start <= pc && pc < m.code_end)
    }

    /// `module!function` for the Wasm code at `pc`.
    pub fn function_name(&self, pc: u64) -> Option<String> {
        let m = self.module_at(pc)?;
        let f = m.function_at(pc)?;
        Some(format!("{}!{}", m.name, f.name))
    }

    /// Whether `ret` is a return address into the continuation trampoline.
    pub fn is_trampoline_return(&self, ret: u64) -> bool {
        self.trampoline.0 < ret && ret <= self.trampoline.1
    }

    /// Whether `ret` is a return address into the host entry routine.
    pub fn is_entry_return(&self, ret: u64) -> bool {
        self.entry.0 < ret && ret <= self.entry.1
    }

    /// The record at `address`, if some store has it.
    pub fn record(&self, address: u64) -> Option<&StackRecord> {
        self.stores
            .iter()
            .flat_map(|s| &s.records)
            .find(|r| r.address == address)
    }
}

/// The bytes of a record this reader uses: all of them.
const RECORD_READ: usize = record::SIZE;

fn read_unchecked(memory: &dyn Memory, address: u64) -> Result<Snapshot, RegistryError> {
    let at = |offset: usize| address + offset as u64;
    let record_size = memory.read_u32(at(header::RECORD_SIZE))? as usize;
    if record_size < RECORD_READ {
        return Err(RegistryError::Corrupt(format!("record size {record_size}")));
    }
    let trampoline = (
        memory.read_u64(at(header::TRAMPOLINE_START))?,
        memory.read_u64(at(header::TRAMPOLINE_END))?,
    );
    let entry = (
        memory.read_u64(at(header::ENTRY_START))?,
        memory.read_u64(at(header::ENTRY_END))?,
    );

    let mut stores = Vec::new();
    let mut seen = HashSet::new();
    let mut store = memory.read_u64(at(header::STORES))?;
    while store != 0 {
        if !seen.insert(store) || stores.len() >= MAX_STORES {
            return Err(RegistryError::Corrupt("the store list loops".into()));
        }
        stores.push(read_store(memory, store)?);
        store = memory.read_u64(store + store::NEXT as u64)?;
    }

    let code_entry_size = memory.read_u32(at(header::CODE_ENTRY_SIZE))? as usize;
    if code_entry_size < CODE_ENTRY_MIN_SIZE {
        return Err(RegistryError::Corrupt(format!(
            "code entry size {code_entry_size}"
        )));
    }
    let mut modules = Vec::new();
    let mut seen = HashSet::new();
    let mut entry_ptr = memory.read_u64(at(header::CODE))?;
    while entry_ptr != 0 {
        if !seen.insert(entry_ptr) || modules.len() >= MAX_MODULES {
            return Err(RegistryError::Corrupt("the code map loops".into()));
        }
        modules.push(read_module(memory, entry_ptr, code_entry_size)?);
        entry_ptr = memory.read_u64(entry_ptr + code::NEXT as u64)?;
    }
    Ok(Snapshot {
        stores,
        modules,
        trampoline,
        entry,
        clock: memory.read_u64(at(header::CLOCK))?,
        clock_thread: memory.read_u64(at(header::CLOCK_THREAD))?,
    })
}

fn read_store(memory: &dyn Memory, desc: u64) -> Result<StoreInfo, RegistryError> {
    let context = memory.read_u64(desc + store::CONTEXT as u64)?;
    let records_ptr = memory.read_u64(desc + store::RECORDS as u64)?;
    let count = memory.read_u64(desc + store::RECORD_COUNT as u64)?;
    if count > MAX_RECORDS {
        return Err(RegistryError::Corrupt(format!("{count} stack records")));
    }
    let mut records = Vec::with_capacity(count as usize);
    for i in 0..count {
        let r = memory.read_u64(records_ptr + RECORD_POINTER_SIZE as u64 * i)?;
        records.push(read_record(memory, r)?);
    }
    let field = |offset: usize| memory.read_u64(context + offset as u64);
    Ok(StoreInfo {
        context,
        current_cont: field(store_context::CURRENT_CONT)?,
        last_exit_fp: field(store_context::LAST_EXIT_FP)?,
        last_exit_pc: field(store_context::LAST_EXIT_PC)?,
        live: field(store_context::CONT_LIVE)?,
        records,
    })
}

/// Reads the stack record at `address`.
pub fn read_record(memory: &dyn Memory, address: u64) -> Result<StackRecord, RegistryError> {
    let mut b = [0u8; RECORD_READ];
    memory.read(address, &mut b)?;
    let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes"));
    let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"));
    if u32_at(record::MAGIC) != RECORD_MAGIC {
        return Err(RegistryError::Corrupt(format!(
            "no stack record at {address:#x}"
        )));
    }
    let ctx = |o: usize| Context {
        sp: u64_at(o + context::SP),
        fp: u64_at(o + context::FP),
        pc: u64_at(o + context::PC),
    };
    let entry_func = u64_at(record::ENTRY_FUNC);
    let entry_code = if entry_func == 0 {
        0
    } else {
        memory
            .read_u64(entry_func + funcref::CODE as u64)
            .unwrap_or(0)
    };
    let state = State::from_raw(u32_at(record::STATE));
    // Only a fresh continuation's `args` hold what `cont.bind` bound.
    let bound = match state {
        State::Fresh => (u64_at(record::BOUND) as usize).min(MAX_PAYLOAD),
        _ => 0,
    };
    Ok(StackRecord {
        address,
        state,
        id: u64_at(record::ID),
        stack_low: u64_at(record::STACK_LOW),
        stack_high: u64_at(record::STACK_HIGH),
        parent_record: u64_at(record::PARENT_RECORD),
        entry_func,
        entry_code,
        last_tag: u64_at(record::LAST_TAG),
        resumes: u64_at(record::RESUMES),
        switches: u64_at(record::SWITCHES),
        parent: ctx(record::PARENT),
        own: ctx(record::OWN),
        created_by: u64_at(record::CREATED_BY),
        created_at: u64_at(record::CREATED_AT),
        last_switch: u64_at(record::LAST_SWITCH),
        caught_pc: u64_at(record::CAUGHT_PC),
        caught_by: u64_at(record::CAUGHT_BY),
        creation: (0..CREATION_FRAMES)
            .map(|i| u64_at(record::CREATION + 8 * i))
            .take_while(|&pc| pc != 0)
            .collect(),
        bound: (0..bound).map(|i| u64_at(record::ARGS + 8 * i)).collect(),
    })
}

fn read_string(memory: &dyn Memory, ptr: u64, len: u64) -> Result<String, RegistryError> {
    if len > MAX_NAME {
        return Err(RegistryError::Corrupt(format!("a name of {len} bytes")));
    }
    let bytes = memory.read_vec(ptr, len as usize)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn read_module(
    memory: &dyn Memory,
    entry: u64,
    entry_size: usize,
) -> Result<ModuleInfo, RegistryError> {
    // Fields past what an older writer's `entry_size` covers read as 0.
    let mut b = [0u8; code::SIZE];
    let known = entry_size.min(code::SIZE);
    memory.read(entry, &mut b[..known])?;
    let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().expect("8 bytes"));
    let count = u64_at(code::FUNCTION_COUNT);
    if count > MAX_FUNCTIONS {
        return Err(RegistryError::Corrupt(format!("{count} functions")));
    }
    let table = u64_at(code::FUNCTIONS);
    let mut functions = Vec::with_capacity(count as usize);
    for i in 0..count {
        let mut f = [0u8; function::SIZE];
        memory.read(table + function::SIZE as u64 * i, &mut f)?;
        let u64_f = |o: usize| u64::from_le_bytes(f[o..o + 8].try_into().expect("8 bytes"));
        let u32_f = |o: usize| u32::from_le_bytes(f[o..o + 4].try_into().expect("4 bytes"));
        functions.push(FunctionInfo {
            start: u64_f(function::START),
            end: u64_f(function::END),
            index: u32_f(function::INDEX),
            name: read_string(
                memory,
                u64_f(function::NAME),
                u32_f(function::NAME_LEN) as u64,
            )?,
        });
    }
    functions.sort_by_key(|f| f.start);
    Ok(ModuleInfo {
        name: read_string(memory, u64_at(code::NAME), u64_at(code::NAME_LEN))?,
        code_start: u64_at(code::CODE_START),
        code_end: u64_at(code::CODE_END),
        functions,
        bytes_address: u64_at(code::MODULE_BYTES),
        bytes_len: u64_at(code::MODULE_LEN),
        source_map_address: u64_at(code::SOURCE_MAP),
        source_map_len: u64_at(code::SOURCE_MAP_LEN),
        eh_frame_address: u64_at(code::EH_FRAME),
        eh_frame_len: u64_at(code::EH_FRAME_LEN),
        vmctx_tables: u64_at(code::VMCTX_TABLES),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::SliceMemory;

    #[test]
    fn a_prologue_belongs_to_its_own_functions_first_instruction() {
        let pairs: [[u32; 2]; 4] = [[0x4, 0x20], [0x30, 0x24], [0x50, 0x40], [0x60, 0x44]];
        let bytes: Vec<u8> = pairs
            .iter()
            .flat_map(|p| p.iter().flat_map(|v| v.to_le_bytes()))
            .collect();
        let memory = SliceMemory {
            base: 0x9000,
            bytes,
        };
        let function = |start, end, index| FunctionInfo {
            start,
            end,
            index,
            name: String::new(),
        };
        let module = ModuleInfo {
            name: "m".into(),
            code_start: 0x1000,
            code_end: 0x1100,
            functions: vec![function(0x1000, 0x1040, 0), function(0x1040, 0x1100, 1)],
            bytes_address: 0,
            bytes_len: 0,
            source_map_address: 0x9000,
            source_map_len: 4,
            eh_frame_address: 0,
            eh_frame_len: 0,
            vmctx_tables: 0,
        };
        let at = |pc| module.wasm_offset(&memory, pc);
        assert_eq!(at(0x1040), Some(0x40));
        assert_eq!(at(0x1055), Some(0x40));
        assert_eq!(at(0x1060), Some(0x44));
        assert_eq!(at(0x1000), Some(0x20));
        assert_eq!(at(0x103f), Some(0x24));
        assert_eq!(at(0x1100), None);
    }
}
