//! WASI preview 1 (being written: this placeholder only has the API shape).

/// Per-store WASI state.
pub struct WasiCtx {
    _args: Vec<String>,
    _env: Vec<(String, String)>,
}

impl WasiCtx {
    /// A context with the program's arguments and environment.
    pub fn new(args: Vec<String>, env: Vec<(String, String)>) -> WasiCtx {
        WasiCtx {
            _args: args,
            _env: env,
        }
    }
}

/// Defines the supported `wasi_snapshot_preview1` functions in `linker`.
pub fn add_to_linker<T: 'static>(_linker: &mut crate::Linker<T>, _get: fn(&mut T) -> &mut WasiCtx) {
}
