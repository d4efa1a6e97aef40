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

#[test]
fn check_fix_applies_the_one_fix_of_each_finding_and_reports_the_rest() {
    use crate::common::{callassign_in, folder};
    let dir = folder(&[
        (
            "rules/team.rules",
            "ruleset team\nstep favourite_agent\nstep user \"a@b.c\" when status = missed\nstep call_agent  # callassign: allow unreachable_step\nstep last_step_agent\nfallback integration\n",
        ),
        // Nothing near enough: left for a person.
        ("rules/other.rules", "ruleset other\nstep xyz\nfallback integration\n"),
    ]);
    let run = callassign_in(dir.path(), &["check", "--fix", "rules"], b"");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("fixed 3 problems in `rules/team.rules`"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("unknown step `xyz`"), "{}", run.stdout);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("rules/team.rules")).unwrap(),
        "ruleset team\nstep favorite_agent\nstep user \"a@b.c\" when status == missed\nstep call_agent\nstep last_step_agent\nfallback integration\n"
    );
    // A second run has nothing to fix.
    let again = callassign_in(dir.path(), &["check", "--fix", "rules/team.rules"], b"");
    assert_eq!(again.code, 0, "{again:?}");
    assert!(!again.stderr.contains("fixed"), "{}", again.stderr);
}

#[cfg(unix)]
#[test]
fn check_fix_that_cannot_write_leaves_the_file_whole_and_fails() {
    use crate::common::{callassign_in, folder};
    use std::os::unix::fs::PermissionsExt;
    let dir = folder(&[(
        "rules/team.rules",
        "ruleset team extends default\nstep user \"a@b.c\" when status = missed\n",
    )]);
    let rules = dir.path().join("rules");
    std::fs::set_permissions(&rules, std::fs::Permissions::from_mode(0o555)).unwrap();
    let run = callassign_in(dir.path(), &["check", "--fix", "rules"], b"");
    std::fs::set_permissions(&rules, std::fs::Permissions::from_mode(0o755)).unwrap();
    // Root writes anywhere: then the fix simply lands.
    let text = std::fs::read_to_string(rules.join("team.rules")).unwrap();
    if text.contains("==") {
        return;
    }
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("the file is unchanged"),
        "{}",
        run.stderr
    );
    assert!(text.contains("status = missed"));
}
