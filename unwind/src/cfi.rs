//! Unwind rules from call frame information, through `framehop`: the
//! generated code's `.eh_frame` (its address is in the registry's code
//! map) and the host binaries' `.eh_frame` (read from their files, placed
//! where the process mapped them).
//!
//! Code that no module covers (the engine's per-signature trampolines, a
//! host file that could not be read) is unwound by its frame pointer, which
//! everything Switchyard generates or builds keeps.

use std::collections::BTreeMap;
use std::path::Path;

use framehop::x86_64::{CacheX86_64, UnwindRegsX86_64, UnwinderX86_64};
use framehop::{ExplicitModuleSectionInfo, FrameAddress, Module, Unwinder};
use object::{Object, ObjectSection};

use crate::elf::{FileMapping, load_bias_in};
use crate::memory::Memory;
use crate::registry::Snapshot;

/// Largest `.eh_frame` believed when the registry gives its length: a
/// corrupt length must not make us read gigabytes.
const MAX_EH_FRAME: u64 = 64 << 20;

/// Registers framehop tracks on x86-64.
pub type Registers = UnwindRegsX86_64;

/// The rules cache a walk carries from frame to frame.
pub type Cache = CacheX86_64;

/// Unwind information for the code of one process.
pub struct CfiUnwinder {
    unwinder: UnwinderX86_64<Vec<u8>>,
    /// Names of the modules added, for diagnostics.
    modules: Vec<String>,
}

impl std::fmt::Debug for CfiUnwinder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CfiUnwinder")
            .field("modules", &self.modules)
            .finish()
    }
}

impl CfiUnwinder {
    /// Unwind information for the generated code the registry lists. A
    /// module whose `.eh_frame` cannot be read is left to frame pointers.
    pub fn for_generated_code(memory: &dyn Memory, snapshot: &Snapshot) -> CfiUnwinder {
        let mut cfi = CfiUnwinder {
            unwinder: UnwinderX86_64::new(),
            modules: Vec::new(),
        };
        for m in &snapshot.modules {
            if m.eh_frame_address == 0 || m.eh_frame_len == 0 || m.eh_frame_len > MAX_EH_FRAME {
                continue;
            }
            let Ok(eh_frame) = memory.read_vec(m.eh_frame_address, m.eh_frame_len as usize) else {
                continue;
            };
            if m.code_end <= m.code_start {
                continue;
            }
            // The FDEs hold absolute addresses, so stated and actual
            // addresses agree; basing the module at its first byte keeps
            // framehop's module-relative addresses small.
            let sections = ExplicitModuleSectionInfo {
                base_svma: m.code_start,
                text_svma: Some(m.code_start..m.code_end),
                eh_frame_svma: Some(m.eh_frame_address..m.eh_frame_address + m.eh_frame_len),
                eh_frame: Some(eh_frame),
                ..Default::default()
            };
            cfi.add(Module::new(
                m.name.clone(),
                m.code_start..m.code_end,
                m.code_start,
                sections,
            ));
        }
        cfi
    }

    /// Adds the host files of `mappings` (an executable, its shared
    /// libraries) that have `.eh_frame`. Files that are gone or are not
    /// ELF are skipped: their frames fall back to frame pointers. Returns
    /// how many files were added.
    pub fn add_host_files(&mut self, mappings: &[FileMapping]) -> usize {
        let mut ranges: BTreeMap<&Path, (u64, u64)> = BTreeMap::new();
        for m in mappings {
            let range = ranges.entry(&m.path).or_insert((m.start, m.end));
            range.0 = range.0.min(m.start);
            range.1 = range.1.max(m.end);
        }
        let mut added = 0;
        for (path, (start, end)) in ranges {
            let Ok(bias) = load_bias_in(mappings, path) else {
                continue;
            };
            let Some(sections) = host_sections(path) else {
                continue;
            };
            // Relative addresses must fit framehop's 32 bits.
            if end.saturating_sub(bias) > u32::MAX as u64 {
                continue;
            }
            self.add(Module::new(
                path.display().to_string(),
                start..end,
                bias,
                sections,
            ));
            added += 1;
        }
        added
    }

    fn add(&mut self, module: Module<Vec<u8>>) {
        self.modules.push(module.name().to_string());
        self.unwinder.add_module(module);
    }

    /// Unwinds one frame: from `regs` at `pc` (a return address when
    /// `is_return`) to the caller's registers, returning the return
    /// address (`None` at the end of the stack). `read` reads one stack
    /// word and refuses addresses outside the stack being walked.
    pub fn unwind_frame(
        &self,
        cache: &mut Cache,
        pc: u64,
        is_return: bool,
        regs: &mut Registers,
        read: &mut dyn FnMut(u64) -> Result<u64, ()>,
    ) -> Result<Option<u64>, framehop::Error> {
        let address = if is_return {
            FrameAddress::from_return_address(pc).ok_or(framehop::Error::ReturnAddressIsNull)?
        } else {
            FrameAddress::from_instruction_pointer(pc)
        };
        let mut read = |a: u64| read(a);
        self.unwinder.unwind_frame(address, regs, cache, &mut read)
    }
}

/// The unwinding sections of an ELF file on disk.
fn host_sections(path: &Path) -> Option<ExplicitModuleSectionInfo<Vec<u8>>> {
    let data = std::fs::read(path).ok()?;
    let file = object::File::parse(&*data).ok()?;
    let section = |name: &str| {
        let s = file.section_by_name(name)?;
        let bytes = s.uncompressed_data().ok()?.into_owned();
        Some((s.address()..s.address() + s.size(), bytes))
    };
    let (eh_frame_svma, eh_frame) = section(".eh_frame")?;
    let hdr = section(".eh_frame_hdr");
    let text = section(".text");
    Some(ExplicitModuleSectionInfo {
        base_svma: 0,
        text_svma: text.as_ref().map(|t| t.0.clone()),
        text: text.map(|t| t.1),
        eh_frame_svma: Some(eh_frame_svma),
        eh_frame: Some(eh_frame),
        eh_frame_hdr_svma: hdr.as_ref().map(|h| h.0.clone()),
        eh_frame_hdr: hdr.map(|h| h.1),
        got_svma: file
            .section_by_name(".got")
            .map(|s| s.address()..s.address() + s.size()),
        ..Default::default()
    })
}
