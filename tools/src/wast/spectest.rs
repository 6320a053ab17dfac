//! The `spectest` module that specification scripts import from.

use std::io::Write;

use switchyard_engine::{
    AddrType, Error, Extern, FuncType, Global, GlobalType, Limits, Linker, Memory, MemoryType,
    RefType, Store, Table, TableType, Val, ValType,
};

/// Where the `print*` functions write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PrintTo {
    Stdout,
    /// Used with `--format json`, so that stdout holds only the document.
    Stderr,
}

/// Defines `spectest` in `linker`, creating its globals, table and memory in
/// `store`.
pub(crate) fn define(
    linker: &mut Linker<()>,
    store: &mut Store<()>,
    print_to: PrintTo,
) -> Result<(), Error> {
    use ValType::{F32, F64, I32, I64};
    let prints: [(&str, &[ValType]); 7] = [
        ("print", &[]),
        ("print_i32", &[I32]),
        ("print_i64", &[I64]),
        ("print_f32", &[F32]),
        ("print_f64", &[F64]),
        ("print_i32_f32", &[I32, F32]),
        ("print_f64_f64", &[F64, F64]),
    ];
    for (name, params) in prints {
        let ty = FuncType::new(params.iter().copied(), []);
        linker.func_new("spectest", name, ty, move |_, args, _| {
            print_args(print_to, args);
            Ok(())
        });
    }

    let globals = [
        ("global_i32", Val::I32(666)),
        ("global_i64", Val::I64(666)),
        ("global_f32", Val::F32(666.6f32.to_bits())),
        ("global_f64", Val::F64(666.6f64.to_bits())),
    ];
    for (name, value) in globals {
        let content = match value {
            Val::I32(_) => I32,
            Val::I64(_) => I64,
            Val::F32(_) => F32,
            _ => F64,
        };
        let ty = GlobalType {
            content,
            mutable: false,
        };
        let global = Global::new(&mut *store, ty, value)?;
        linker.define("spectest", name, Extern::Global(global));
    }

    let table_ty = TableType {
        addr: AddrType::I32,
        element: RefType::FUNCREF,
        limits: Limits {
            min: 10,
            max: Some(20),
        },
    };
    let table = Table::new(&mut *store, table_ty, Val::FuncRef(None))?;
    linker.define("spectest", "table", Extern::Table(table));

    let memory_ty = MemoryType {
        addr: AddrType::I32,
        limits: Limits {
            min: 1,
            max: Some(2),
        },
    };
    let memory = Memory::new(&mut *store, memory_ty)?;
    linker.define("spectest", "memory", Extern::Memory(memory));
    Ok(())
}

/// Prints one `VALUE : TYPE` line per argument, as the reference
/// interpreter does.
fn print_args(print_to: PrintTo, args: &[Val]) {
    let mut text = String::new();
    for arg in args {
        let line = match arg {
            Val::I32(v) => format!("{v} : i32"),
            Val::I64(v) => format!("{v} : i64"),
            Val::F32(bits) => format!("{} : f32", f32::from_bits(*bits)),
            Val::F64(bits) => format!("{} : f64", f64::from_bits(*bits)),
            other => format!("{other:?}"),
        };
        text.push_str(&line);
        text.push('\n');
    }
    // A closed pipe must not turn a print into a trap.
    let _ = match print_to {
        PrintTo::Stdout => std::io::stdout().lock().write_all(text.as_bytes()),
        PrintTo::Stderr => std::io::stderr().lock().write_all(text.as_bytes()),
    };
}
