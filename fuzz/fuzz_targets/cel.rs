#![no_main]
//! See `_core::fuzzing::cel` (src/fuzzing.rs) for what this target does with an input.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| _core::fuzzing::cel(data));
