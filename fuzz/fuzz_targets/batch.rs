//! Arbitrary bytes as a batch: one output line per input line, whatever
//! the bytes, sequentially and in parallel alike.
#![no_main]

use std::sync::OnceLock;

use callassign::runtime::batch::{self, Options, OutputFormat};
use callassign::runtime::evaluate::Engine;
use callassign::model::Context;
use callassign::semantics::plan::Plan;
use libfuzzer_sys::fuzz_target;

const RULES: &str = "ruleset fuzz\n\
step user \"ops@acme.com\" when \"vip\" in tags and duration > 30 or started_at < \"2026-11-23T10:00:00Z\"\n\
step call_agent unless direction == incoming and status in [missed, voicemail]\n\
step last_step_agent when last_step != null\n\
step voicemail_email\n\
step contact_owner when contact.owner != null and not agent == \"x@y.z\"\n\
step favorite_agent\n\
fallback integration\n";

const CONTEXT: &str = "integration: fuzz\ncontact_owner: true\nfallback: installer\ninstaller: hs-1\nusers:\n  - {id: hs-1, email: admin@acme.com}\n  - {id: hs-2, email: Alice@Acme.com}\n  - {id: hs-3, email: ops@acme.com}\n  - {id: hs-7, email: carol@acme.com, active: false}\n";

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let compiled = callassign::compile_text("fuzz.rules", RULES);
        let plan: Plan = compiled.plan.unwrap_or_else(|| panic!("{:?}", compiled.findings));
        Engine::new(plan, Context::from_yaml(CONTEXT).unwrap())
    })
}

fuzz_target!(|data: &[u8]| {
    let evaluator = engine();
    let lines = data.split(|&byte| byte == b'\n').count()
        - usize::from(data.is_empty() || data.ends_with(b"\n"));
    for (format, explain) in [(OutputFormat::Json, false), (OutputFormat::Human, true)] {
        let options = Options { format, explain, ..Options::default() };
        let mut output = Vec::new();
        let summary = batch::run(evaluator, data, &mut output, options, &mut (), |_| {}).unwrap();
        assert_eq!(summary.calls + summary.unreadable, lines as u64);
        if !explain {
            assert_eq!(output.iter().filter(|&&byte| byte == b'\n').count(), lines);
        }
        let mut parallel = Vec::new();
        let again = batch::run_parallel(evaluator, data, &mut parallel, options, 2, |_| {}).unwrap();
        assert_eq!(again, summary);
        assert!(parallel == output);
    }
});
