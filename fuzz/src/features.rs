//! What the generated modules may use: the one place that grows as the
//! engine gains features. Relaxed SIMD is supported by the engine but not
//! generated: its results may differ between conforming engines.

use wasm_smith::Config;

/// Linear memories are capped at this many 64 KiB pages in both engines,
/// so that `memory.grow` succeeds and fails alike.
pub const MAX_MEMORY_PAGES: u64 = 256;

/// Table sizes are capped at this many elements in both engines (the
/// engine's own limit).
pub const MAX_TABLE_ELEMENTS: usize = 10_000_000;

/// Fuel of a generated module: every loop iteration and call spends one,
/// and the module traps (`unreachable`) when it runs out, so that no case
/// runs for long.
pub const FUEL: u32 = 2_000;

/// The wasm-smith configuration: the features the engine supports, and
/// shapes that keep a case small and deterministic.
pub fn smith_config(rng: &mut fastrand::Rng) -> Config {
    Config {
        // Supported and generated.
        bulk_memory_enabled: true,
        reference_types_enabled: true,
        multi_value_enabled: true,
        saturating_float_to_int_enabled: true,
        sign_extension_ops_enabled: true,
        exceptions_enabled: true,
        tail_call_enabled: true,
        extended_const_enabled: true,
        max_memories: 2,
        max_tables: 3,
        // 64-bit memories and tables.
        memory64_enabled: true,
        simd_enabled: true,
        // Not generated: relaxed SIMD (see above); the rest the engine does
        // not support.
        relaxed_simd_enabled: false,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        gc_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        custom_descriptors_enabled: false,
        // Both engines see the same instance: no imports to provide.
        max_imports: 0,
        min_funcs: 1,
        max_funcs: 1 + rng.usize(..30),
        max_instructions: 50 + rng.usize(..1000),
        max_memory32_bytes: MAX_MEMORY_PAGES * 65536,
        max_memory64_bytes: u128::from(MAX_MEMORY_PAGES) * 65536,
        max_table_elements: 1000,
        max_data_segments: 20,
        max_element_segments: 20,
        // Everything observable from the host, so that final state can be
        // compared.
        export_everything: true,
        // NaN bits are not specified; canonical NaNs make results and
        // memory comparable bit for bit.
        canonicalize_nans: true,
        allow_start_export: true,
        ..Config::default()
    }
}
