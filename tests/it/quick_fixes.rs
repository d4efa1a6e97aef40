//! Structured fixes: a finding that knows its fix carries it as an edit
//! (span + replacement), which an editor's quick fix applies. Applying the
//! edit must make that finding go away, and nothing else must break.

use callassign::compile_text;
use callassign::diagnostics::finding::Finding;

/// The findings of `text` as the file `team.rules`, sorted by position.
fn findings(text: &str) -> Vec<Finding> {
    let mut findings = compile_text("team.rules", text).findings;
    findings.sort_by_key(|finding| finding.span().start);
    findings
}

fn apply_first_fix(text: &str, finding: &Finding) -> String {
    let fix = finding
        .suggestions()
        .first()
        .unwrap_or_else(|| panic!("no fix for {}: {}", finding.code(), finding.message()));
    let mut fixed = text.to_string();
    fixed.replace_range(fix.span.range(), &fix.replacement);
    fixed
}

#[test]
fn each_fix_removes_its_finding() {
    let base = "ruleset team\nstep call_agent\nstep last_step_agent\nfallback integration\n";
    // (code, file text, the fix's title)
    let cases = [
        (
            "invalid_operator",
            "ruleset team\nstep call_agent when status = missed\nfallback integration\n",
            "replace with `==`",
        ),
        (
            "unknown_step",
            "ruleset team\nstep last_step_agnet\nfallback integration\n",
            "replace with `last_step_agent`",
        ),
        (
            "unknown_step",
            "ruleset team\nstep call_agent\nfallback integratoin\n",
            "replace with `integration`",
        ),
        (
            "unknown_field",
            "ruleset team\nstep call_agent when stauts == missed\nfallback integration\n",
            "replace with `status`",
        ),
        (
            "unknown_value",
            "ruleset team\nstep call_agent when status == mised\nfallback integration\n",
            "replace with `missed`",
        ),
        (
            "type_mismatch",
            "ruleset team\nstep call_agent when status == \"missed\"\nfallback integration\n",
            "replace with `missed`",
        ),
        (
            "type_mismatch",
            "ruleset team\nstep call_agent when agent == bob\nfallback integration\n",
            "replace with `\"bob\"`",
        ),
        (
            "unknown_flow_step_type",
            "ruleset team\nstep call_agent when last_step == voicemial\nfallback integration\n",
            "replace with `voicemail`",
        ),
        (
            "ruleset_name_mismatch",
            "ruleset teams\nstep call_agent\nfallback integration\n",
            "replace with `team`",
        ),
        (
            "invalid_value",
            "ruleset team extends default.rules\n",
            "replace with `default`",
        ),
        (
            "missing_extends",
            "ruleset team extends defualt\n",
            "extend `default`",
        ),
        (
            "duplicate_step",
            &format!("{base}step call_agent\n"),
            "remove the duplicate step",
        ),
        (
            "unknown_step_reference",
            &format!("{base}step user \"ops@acme.com\"\ndisable user \"ops@acme.co\"\n"),
            "replace with `user \"ops@acme.com\"`",
        ),
    ];
    for (code, text, title) in cases {
        let before = findings(text);
        let finding = before
            .iter()
            .find(|finding| finding.code().as_str() == format!("callassign::{code}"))
            .unwrap_or_else(|| panic!("no {code} in {text:?}: {before:?}"));
        assert_eq!(finding.suggestions()[0].title, title, "{text:?}");
        let fixed = apply_first_fix(text, finding);
        let after = findings(&fixed);
        assert!(
            after.iter().all(|later| later.code() != finding.code()),
            "{code}: the fix left {after:?} in {fixed:?}"
        );
    }
}

#[test]
fn removing_a_duplicate_step_takes_its_whole_line() {
    let text = "ruleset team\nstep call_agent\nstep call_agent   # again\nfallback integration\n";
    let finding = &findings(text)[0];
    assert_eq!(
        apply_first_fix(text, finding),
        "ruleset team\nstep call_agent\nfallback integration\n"
    );
}

#[test]
fn findings_without_a_sure_fix_offer_none() {
    // Nothing close to `frobnicate`: a guess would be wrong more often than right.
    let found = findings("ruleset team\nstep frobnicate\nfallback integration\n");
    assert_eq!(found[0].code().as_str(), "callassign::unknown_step");
    assert!(
        found[0].suggestions().is_empty(),
        "{:?}",
        found[0].suggestions()
    );
}

#[test]
fn a_finding_is_a_miette_diagnostic_with_code_help_and_label() {
    use miette::Diagnostic;

    let found =
        findings("ruleset team\nstep call_agent when status = missed\nfallback integration\n");
    let finding: &dyn Diagnostic = &found[0];
    assert_eq!(
        finding.code().unwrap().to_string(),
        "callassign::invalid_operator"
    );
    assert_eq!(
        finding.help().unwrap().to_string(),
        "try using `==` instead"
    );
    let labels: Vec<_> = finding.labels().unwrap().collect();
    assert_eq!(labels[0].label(), Some("not an operator"));
    assert_eq!(labels[0].offset(), 41);
    assert_eq!(found[0].to_string(), "`=` is not a valid operator");
}
