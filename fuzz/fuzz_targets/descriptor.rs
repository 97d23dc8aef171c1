#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| stackferry::fuzzing::descriptor(data));
