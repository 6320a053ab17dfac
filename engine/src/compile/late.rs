//! Constants of generated code whose values belong to the process that
//! runs it: the addresses of host routines and statics, canonical type
//! ids (which depend on the order types were interned), and continuation
//! entry bodies (glue compiled at run time). Generated code takes each from
//! a `movabs` with an absolute relocation, named by what it stands for, and
//! placing the code writes the value. So the same machine code serves any
//! process of this build, which is what lets compiled modules be cached
//! (`compile/cache.rs`).

use cranelift_codegen::ir::{self, ExternalName, InstBuilder, UserExternalName, types};

use crate::compile::translate::FuncTranslator;
use crate::module_info::ModuleInfo;

/// What a late constant stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) enum LateConst {
    /// An address in this executable (a host routine or a static), as its
    /// distance from [`image_anchor`]: every process of one build maps the
    /// executable as a whole, so the distance is the same in each.
    Image(i64),
    /// The canonical id of the module's type at this index.
    TypeId(u32),
    /// The continuation body of the module's continuation type at this
    /// index.
    ContBody(u32),
}

/// Relocation name spaces: 0 names a function of the module; these name a
/// late constant.
const NS_IMAGE: u32 = 1;
const NS_TYPE_ID: u32 = 2;
const NS_CONT_BODY: u32 = 3;

/// A fixed point of this executable that image addresses are measured
/// from. A static, not a function: the compiler may give each codegen unit
/// its own copy of a small function, so a function's address depends on
/// where it is taken, while a static has exactly one.
static IMAGE_ANCHOR: u8 = 0;

fn image_anchor() -> usize {
    &raw const IMAGE_ANCHOR as usize
}

impl LateConst {
    /// The late constant for host address `addr` (a routine or a static of
    /// this executable).
    pub fn image(addr: usize) -> LateConst {
        LateConst::Image(addr as i64 - image_anchor() as i64)
    }

    fn name(self) -> UserExternalName {
        let (namespace, index) = match self {
            // The executable is far smaller than 2 GiB, so a distance fits
            // in 32 bits once biased.
            LateConst::Image(d) => (NS_IMAGE, (d + (1 << 31)) as u32),
            LateConst::TypeId(t) => (NS_TYPE_ID, t),
            LateConst::ContBody(t) => (NS_CONT_BODY, t),
        };
        UserExternalName { namespace, index }
    }

    /// The late constant a relocation names, if it names one.
    pub fn from_name(name: &UserExternalName) -> Option<LateConst> {
        match name.namespace {
            NS_IMAGE => Some(LateConst::Image(name.index as i64 - (1 << 31))),
            NS_TYPE_ID => Some(LateConst::TypeId(name.index)),
            NS_CONT_BODY => Some(LateConst::ContBody(name.index)),
            _ => None,
        }
    }

    /// Its value in this process, for `info`'s code; `None` when the
    /// module has no such type or body (a corrupt cache entry).
    pub fn value(
        self,
        info: &ModuleInfo,
        cont_bodies: &std::collections::HashMap<u32, usize>,
    ) -> Option<u64> {
        match self {
            LateConst::Image(d) => Some((image_anchor() as i64 + d) as u64),
            LateConst::TypeId(t) => info.types.get(t as usize).map(|&id| id as u64),
            LateConst::ContBody(t) => cont_bodies.get(&t).map(|&b| b as u64),
        }
    }
}

impl FuncTranslator<'_, '_> {
    /// `c` as an i64 value.
    pub(in crate::compile) fn late_const(&mut self, c: LateConst) -> ir::Value {
        let name = self.builder.func.declare_imported_user_function(c.name());
        let symbol = self
            .builder
            .create_global_value(ir::GlobalValueData::Symbol {
                name: ExternalName::user(name),
                offset: ir::immediates::Imm64::new(0),
                colocated: false,
                tls: false,
            });
        self.builder.ins().symbol_value(types::I64, symbol)
    }

    /// The address of host routine or static `addr` as an i64 value.
    pub(in crate::compile) fn host_address(&mut self, addr: usize) -> ir::Value {
        self.late_const(LateConst::image(addr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_address_survives_its_relocation_name() {
        for addr in [
            crate::vm::libcalls::memory_grow as *const () as usize,
            crate::vm::registry::clock_address(),
        ] {
            let c = LateConst::image(addr);
            let back = LateConst::from_name(&c.name()).unwrap();
            let LateConst::Image(d) = back else { panic!() };
            assert_eq!((image_anchor() as i64 + d) as usize, addr, "{c:?}");
        }
    }
}
