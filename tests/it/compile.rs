//! How `extends` and the edits resolve into one plan: each case is a set
//! of rule files and the steps of the resulting plan, in order.

use std::fs;

use callassign::semantics::plan::Plan;

const DEFAULT: &str = "ruleset default
step call_agent unless direction == incoming and status in [missed, voicemail]
step last_step_agent
step voicemail_email
step contact_owner
step favorite_agent
fallback integration
";

fn plan(files: &[(&str, &str)], target: &str) -> Plan {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("default.rules"), DEFAULT).unwrap();
    for (name, text) in files {
        fs::write(dir.path().join(name), text).unwrap();
    }
    let compiled = callassign::compile_file(&dir.path().join(target)).unwrap();
    compiled.plan.unwrap_or_else(|| {
        panic!(
            "{:?}",
            compiled
                .findings
                .iter()
                .map(|f| f.message())
                .collect::<Vec<_>>()
        )
    })
}

/// The plan as one line: steps in order, then the fallback.
fn order(plan: &Plan) -> String {
    let mut names: Vec<String> = plan
        .steps
        .iter()
        .map(|step| step.step.to_string())
        .collect();
    names.push(format!("| fallback {}", plan.fallback.fallback));
    names.join(" ")
}

#[test]
fn edits_resolve_in_order() {
    let cases = [
        ("ruleset a extends default\n", "call_agent last_step_agent voicemail_email contact_owner favorite_agent | fallback integration"),
        ("ruleset a extends default\ndisable contact_owner\n", "call_agent last_step_agent voicemail_email favorite_agent | fallback integration"),
        ("ruleset a extends default\nmove contact_owner before last_step_agent\n", "call_agent contact_owner last_step_agent voicemail_email favorite_agent | fallback integration"),
        ("ruleset a extends default\nmove call_agent after favorite_agent\n", "last_step_agent voicemail_email contact_owner favorite_agent call_agent | fallback integration"),
        ("ruleset a extends default\nmove favorite_agent first\n", "favorite_agent call_agent last_step_agent voicemail_email contact_owner | fallback integration"),
        ("ruleset a extends default\nmove call_agent last\n", "last_step_agent voicemail_email contact_owner favorite_agent call_agent | fallback integration"),
        // A new step lands after the inherited steps, before the fallback.
        ("ruleset a extends default\nstep user \"ops@acme.com\"\n", "call_agent last_step_agent voicemail_email contact_owner favorite_agent user \"ops@acme.com\" | fallback integration"),
        ("ruleset a extends default\nstep user \"ops@acme.com\"\nmove user \"OPS@acme.com\" first\n", "user \"ops@acme.com\" call_agent last_step_agent voicemail_email contact_owner favorite_agent | fallback integration"),
        ("ruleset a extends default\nfallback unassigned\n", "call_agent last_step_agent voicemail_email contact_owner favorite_agent | fallback unassigned"),
        ("ruleset a extends default\nfallback user \"lead@acme.com\"\nmove favorite_agent before fallback\n", "call_agent last_step_agent voicemail_email contact_owner favorite_agent | fallback user \"lead@acme.com\""),
        // Redefining a step: disable it, then add it again (with a condition).
        ("ruleset a extends default\ndisable call_agent\nstep call_agent when status == answered\nmove call_agent first\n", "call_agent last_step_agent voicemail_email contact_owner favorite_agent | fallback integration"),
    ];
    for (text, expected) in cases {
        assert_eq!(
            order(&plan(&[("a.rules", text)], "a.rules")),
            expected,
            "{text}"
        );
    }
}

#[test]
fn chains_apply_base_first() {
    let plan = plan(
        &[
            ("helpdesk.rules", "ruleset helpdesk extends default\ndisable contact_owner\n"),
            ("freshdesk.rules", "ruleset freshdesk extends helpdesk\nmove favorite_agent first\nfallback unassigned\n"),
        ],
        "freshdesk.rules",
    );
    assert_eq!(
        order(&plan),
        "favorite_agent call_agent last_step_agent voicemail_email | fallback unassigned"
    );
    let chain: Vec<String> = plan
        .chain
        .iter()
        .map(|path| {
            std::path::Path::new(path)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        chain,
        ["default.rules", "helpdesk.rules", "freshdesk.rules"]
    );
    // Every step remembers where it was written.
    let origins: Vec<String> = plan.steps.iter().map(|step| step.origin.short()).collect();
    assert_eq!(
        origins,
        [
            "default.rules:6",
            "default.rules:2",
            "default.rules:3",
            "default.rules:4"
        ]
    );
    assert_eq!(plan.fallback.origin.short(), "freshdesk.rules:3");
}

#[test]
fn conditions_are_kept_in_canonical_form() {
    let plan = plan(&[("a.rules", "ruleset a extends default\nstep user \"x@y.z\" when\n   \"vip\"  in tags and(status==missed  or duration>30)\n")], "a.rules");
    let guard = plan.steps.last().unwrap().guard.as_ref().unwrap();
    assert_eq!(
        guard.text,
        "\"vip\" in tags and (status == missed or duration > 30)"
    );
}

#[test]
fn steps_after_the_fallback_are_kept_aside_as_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("a.rules"),
        "ruleset a\nstep call_agent\nfallback integration\nstep favorite_agent\n",
    )
    .unwrap();
    let compiled = callassign::compile_file(&dir.path().join("a.rules")).unwrap();
    let plan = compiled.plan.expect("a warning does not stop compiling");
    assert_eq!(order(&plan), "call_agent | fallback integration");
    assert_eq!(
        plan.unreachable
            .iter()
            .map(|step| step.step.to_string())
            .collect::<Vec<_>>(),
        ["favorite_agent"]
    );
}
