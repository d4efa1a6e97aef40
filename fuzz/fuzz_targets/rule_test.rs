//! Arbitrary text as a rule-test file: loaded (contexts and calls inline,
//! or files that do not exist) or refused with a problem, never a panic.
#![no_main]

use std::path::Path;

use callassign::rule_test;
use callassign::semantics::load::Loader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file) = rule_test::from_text(Path::new("fuzz/tests.yaml"), text) else {
        return;
    };
    let _ = rule_test::run(&file, &mut Loader::new());
});
