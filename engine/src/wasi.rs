//! WASI preview 1 (filled in separately).
