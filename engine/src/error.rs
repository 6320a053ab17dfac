//! Errors of every stage: compiling, linking, running.

use std::fmt;

use switchyard_frames::Frame;

/// Why Wasm execution stopped abnormally.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrapCode {
    /// `unreachable` was executed.
    Unreachable,
    /// Integer division or remainder by zero.
    IntegerDivideByZero,
    /// Signed division overflow, or a float too large for an integer.
    IntegerOverflow,
    /// NaN converted to an integer.
    BadConversionToInteger,
    /// A memory access outside the memory.
    MemoryOutOfBounds,
    /// A table access outside the table.
    TableOutOfBounds,
    /// `call_indirect` with an index outside the table.
    UndefinedElement,
    /// `call_indirect` through a null entry.
    UninitializedElement,
    /// `call_indirect` to a function of another type.
    IndirectCallTypeMismatch,
    /// `call_ref` or `return_call_ref` on null.
    NullFuncRef,
    /// `ref.as_non_null` on null.
    NullReference,
    /// The Wasm stack limit was reached.
    StackOverflow,
    /// `resume`, `cont.bind` or `switch` on a null continuation.
    NullContinuation,
    /// A continuation was resumed or bound a second time.
    ContinuationAlreadyConsumed,
    /// A suspension found no handler for its tag.
    UnhandledTag,
    /// The limit on live continuations or their stack memory was reached.
    ContinuationLimit,
    /// An exception escaped to the host.
    UncaughtException,
    /// `throw_ref` on null.
    NullExceptionReference,
}

impl TrapCode {
    /// The message the WebAssembly specification's tests use.
    pub fn message(&self) -> &'static str {
        match self {
            TrapCode::Unreachable => "unreachable",
            TrapCode::IntegerDivideByZero => "integer divide by zero",
            TrapCode::IntegerOverflow => "integer overflow",
            TrapCode::BadConversionToInteger => "invalid conversion to integer",
            TrapCode::MemoryOutOfBounds => "out of bounds memory access",
            TrapCode::TableOutOfBounds => "out of bounds table access",
            TrapCode::UndefinedElement => "undefined element",
            TrapCode::UninitializedElement => "uninitialized element",
            TrapCode::IndirectCallTypeMismatch => "indirect call type mismatch",
            TrapCode::NullFuncRef => "null function reference",
            TrapCode::NullReference => "null reference",
            TrapCode::StackOverflow => "call stack exhausted",
            TrapCode::NullContinuation => "null continuation reference",
            TrapCode::ContinuationAlreadyConsumed => "continuation already consumed",
            TrapCode::UnhandledTag => "unhandled tag",
            TrapCode::ContinuationLimit => "too many live continuations",
            TrapCode::UncaughtException => "uncaught exception",
            TrapCode::NullExceptionReference => "null exception reference",
        }
    }

    const ALL: [TrapCode; 18] = [
        TrapCode::Unreachable,
        TrapCode::IntegerDivideByZero,
        TrapCode::IntegerOverflow,
        TrapCode::BadConversionToInteger,
        TrapCode::MemoryOutOfBounds,
        TrapCode::TableOutOfBounds,
        TrapCode::UndefinedElement,
        TrapCode::UninitializedElement,
        TrapCode::IndirectCallTypeMismatch,
        TrapCode::NullFuncRef,
        TrapCode::NullReference,
        TrapCode::StackOverflow,
        TrapCode::NullContinuation,
        TrapCode::ContinuationAlreadyConsumed,
        TrapCode::UnhandledTag,
        TrapCode::ContinuationLimit,
        TrapCode::UncaughtException,
        TrapCode::NullExceptionReference,
    ];

    /// The code as one byte, for trap tables in compiled code.
    pub(crate) fn to_byte(self) -> u8 {
        TrapCode::ALL.iter().position(|c| *c == self).unwrap() as u8 + 1
    }

    pub(crate) fn from_byte(b: u8) -> Option<TrapCode> {
        TrapCode::ALL.get((b as usize).checked_sub(1)?).copied()
    }
}

impl fmt::Display for TrapCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// A trap, with where it happened.
#[derive(Clone, Debug)]
pub struct Trap {
    /// What went wrong.
    pub code: TrapCode,
    /// Extra detail (e.g. the tag of an unhandled suspension).
    pub detail: Option<String>,
    /// The Wasm function that trapped, as `module!function` or `function`.
    pub function: Option<String>,
    /// The faulting program counter, if the trap came from generated code.
    pub pc: Option<usize>,
    /// The frame pointer at the fault, for backtraces.
    pub fp: Option<usize>,
    /// The logical backtrace at the fault, innermost first, across every
    /// continuation down to the host entry. Wasm frames carry no source
    /// locations: whoever reads the module's DWARF fills them in.
    pub backtrace: Vec<Frame>,
}

impl Trap {
    pub(crate) fn new(code: TrapCode) -> Trap {
        Trap {
            code,
            detail: None,
            function: None,
            pc: None,
            fp: None,
            backtrace: Vec::new(),
        }
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.message())?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

/// Any error the engine reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The module is not well-formed or not valid.
    #[error("invalid module: {message} (at offset {offset:#x})")]
    Invalid {
        /// The validator's message.
        message: String,
        /// Byte offset in the binary module.
        offset: usize,
    },
    /// Text that is not valid WebAssembly text format.
    #[error("{0}")]
    Text(String),
    /// The module uses something the engine does not support, or
    /// compilation failed.
    #[error("{0}")]
    Compile(String),
    /// Imports did not match.
    #[error("{0}")]
    Link(String),
    /// Wasm code trapped.
    #[error("wasm trap: {0}")]
    Trap(Trap),
    /// The program called WASI `proc_exit`.
    #[error("exit with status {0}")]
    Exit(i32),
    /// A host function failed.
    #[error("{0}")]
    Host(String),
    /// A call from the host had wrong arguments.
    #[error("{0}")]
    Usage(String),
    /// An exception escaped to the host.
    #[error("uncaught exception")]
    Exception,
}

impl From<wasmparser::BinaryReaderError> for Error {
    fn from(e: wasmparser::BinaryReaderError) -> Error {
        Error::Invalid {
            message: e.message().to_string(),
            offset: e.offset(),
        }
    }
}

impl Error {
    /// The trap, if this error is one.
    pub fn as_trap(&self) -> Option<&Trap> {
        match self {
            Error::Trap(t) => Some(t),
            _ => None,
        }
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
