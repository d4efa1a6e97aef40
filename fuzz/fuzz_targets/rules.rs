//! Rule text → parse, check, compile, and every report format.
#![no_main]

use callassign::diagnostics::report::{self, Style};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let compiled = callassign::compile_text("fuzz.rules", text);
    for finding in &compiled.findings {
        let _ = report::human(finding, Style { color: false, width: 80 });
        let _ = report::github(finding);
    }
    let _ = report::json(&compiled.findings);
    if let Some(plan) = &compiled.plan {
        let _ = callassign::semantics::plan::render_human(plan);
        let _ = callassign::semantics::plan::render_json(plan);
    }
});
