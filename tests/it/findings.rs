//! Every finding code: a bad rule file that raises it (with a snapshot of
//! the report a user sees), and proof that the shipped rules do not.

use std::fs;
use std::path::Path;

use callassign::diagnostics::finding::{sort_and_dedup, Code, Finding};
use callassign::diagnostics::report::{human, Style};
use callassign::semantics::load::Loader;

/// Writes `files` into a fresh rule folder, compiles `target` and returns
/// every finding with the folder's path shortened to `rules/`.
fn findings_for(files: &[(&str, &[u8])], target: &str) -> (Vec<Finding>, String) {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    fs::create_dir(&rules).unwrap();
    for (name, text) in files {
        fs::write(rules.join(name), text).unwrap();
    }
    let compiled = callassign::compile_with(&mut Loader::new(), &rules.join(target)).unwrap();
    let mut findings = compiled.findings;
    sort_and_dedup(&mut findings);
    let prefix = format!("{}/", dir.path().display());
    (findings, prefix)
}

fn render(findings: &[Finding], prefix: &str) -> String {
    findings
        .iter()
        .map(|finding| human(finding, Style::PLAIN))
        .collect::<String>()
        .replace(prefix, "")
}

fn shipped_findings() -> Vec<Finding> {
    let mut loader = Loader::new();
    let mut findings = Vec::new();
    for file in callassign::semantics::load::rule_files(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("rules")
            .as_path(),
    )
    .unwrap()
    {
        findings.extend(
            callassign::compile_with(&mut loader, &file)
                .unwrap()
                .findings,
        );
    }
    findings
}

const DEFAULT: &str = "ruleset default\nstep call_agent unless direction == incoming and status in [missed, voicemail]\nstep last_step_agent\nstep voicemail_email\nstep contact_owner\nstep favorite_agent\nfallback integration\n";

/// One test per code: the bad input fires the code, the report snapshot
/// shows where and how to fix it, and the shipped rules never fire it.
macro_rules! finding_cases {
    ($($test:ident: $code:expr => [$($name:expr => $text:expr),+ $(,)?] check $target:expr;)+) => {
        $(
            #[test]
            fn $test() {
                let owned: Vec<(&str, Vec<u8>)> = vec![$(($name, AsRef::<[u8]>::as_ref(&$text).to_vec())),+];
                let files: Vec<(&str, &[u8])> = owned.iter().map(|(name, text)| (*name, text.as_slice())).collect();
                let (findings, prefix) = findings_for(&files, $target);
                let matching: Vec<Finding> = findings.iter().filter(|f| f.code == $code).cloned().collect();
                assert!(!matching.is_empty(), "{} did not fire; got {:?}", $code, findings.iter().map(|f| f.code).collect::<Vec<_>>());
                insta::assert_snapshot!(render(&matching, &prefix));
                assert!(
                    !shipped_findings().iter().any(|f| f.code == $code),
                    "the shipped rules raise {}", $code
                );
            }
        )+

        #[test]
        fn every_code_has_a_case() {
            // Codes found only against a context are covered in check_context.rs.
            // unreadable_extends needs a base that is no file: below.
            let covered = [$($code),+, Code::UserNotInContext, Code::IntegrationMismatch, Code::UnreadableExtends];
            for code in Code::ALL {
                assert!(covered.contains(&code), "no test case for {code}");
            }
        }
    };
}

finding_cases! {
    syntax: Code::Syntax => ["a.rules" => "ruleset a\nstep favorite_agent when status ==\nfallback integration\n"] check "a.rules";
    nesting_too_deep: Code::NestingTooDeep => ["a.rules" => format!("ruleset a\nstep favorite_agent when {}status == missed{}\nfallback integration\n", "(".repeat(40), ")".repeat(40))] check "a.rules";
    file_too_large: Code::FileTooLarge => ["a.rules" => format!("ruleset a\n{}\n", "#".repeat(2 << 20))] check "a.rules";
    not_utf8: Code::NotUtf8 => ["a.rules" => b"ruleset a\nstep favorite_agent # caf\xe9\nfallback integration\n"] check "a.rules";
    ruleset_name_mismatch: Code::RulesetNameMismatch => ["zendesk.rules" => "ruleset zendsk\nstep favorite_agent\nfallback integration\n"] check "zendesk.rules";
    unknown_step: Code::UnknownStep => ["a.rules" => "ruleset a\nstep favourite_agent\nstep integration_fallback\nfallback integraton\n"] check "a.rules";
    duplicate_step: Code::DuplicateStep => [
        "default.rules" => DEFAULT,
        "a.rules" => "ruleset a extends default\nstep contact_owner when \"vip\" in tags\n",
    ] check "a.rules";
    duplicate_fallback: Code::DuplicateFallback => ["a.rules" => "ruleset a\nstep favorite_agent\nfallback integration\nfallback unassigned\n"] check "a.rules";
    missing_fallback: Code::MissingFallback => ["a.rules" => "ruleset a\nstep favorite_agent\n"] check "a.rules";
    unknown_step_reference: Code::UnknownStepReference => [
        "default.rules" => DEFAULT,
        "a.rules" => "ruleset a extends default\ndisable contact_owner\nmove contact_owner first\nmove user \"ops@acme.com\" last\n",
    ] check "a.rules";
    invalid_move: Code::InvalidMove => [
        "default.rules" => DEFAULT,
        "a.rules" => "ruleset a extends default\nmove favorite_agent after favorite_agent\n",
    ] check "a.rules";
    unreachable_step: Code::UnreachableStep => ["a.rules" => "ruleset a\nstep contact_owner\nfallback integration\nstep favorite_agent\n"] check "a.rules";
    missing_extends: Code::MissingExtends => [
        "default.rules" => DEFAULT,
        "a.rules" => "ruleset a extends defualt\n",
    ] check "a.rules";
    extends_cycle: Code::ExtendsCycle => [
        "a.rules" => "ruleset a extends b\n",
        "b.rules" => "ruleset b extends c\n",
        "c.rules" => "ruleset c extends a\nstep favorite_agent\nfallback integration\n",
    ] check "a.rules";
    extends_outside_folder: Code::ExtendsOutsideFolder => ["a.rules" => "ruleset a extends ../shared/default\n"] check "a.rules";
    extends_too_deep: Code::ExtendsTooDeep => [
        "r0.rules" => "ruleset r0\nstep favorite_agent\nfallback integration\n",
        "r1.rules" => "ruleset r1 extends r0\n", "r2.rules" => "ruleset r2 extends r1\n", "r3.rules" => "ruleset r3 extends r2\n",
        "r4.rules" => "ruleset r4 extends r3\n", "r5.rules" => "ruleset r5 extends r4\n", "r6.rules" => "ruleset r6 extends r5\n",
        "r7.rules" => "ruleset r7 extends r6\n", "r8.rules" => "ruleset r8 extends r7\n", "r9.rules" => "ruleset r9 extends r8\n",
        "r10.rules" => "ruleset r10 extends r9\n", "r11.rules" => "ruleset r11 extends r10\n", "r12.rules" => "ruleset r12 extends r11\n",
        "r13.rules" => "ruleset r13 extends r12\n", "r14.rules" => "ruleset r14 extends r13\n", "r15.rules" => "ruleset r15 extends r14\n",
        "r16.rules" => "ruleset r16 extends r15\n",
    ] check "r16.rules";
    unknown_field: Code::UnknownField => ["a.rules" => "ruleset a\nstep favorite_agent when stauts == missed or missed == status\nfallback integration\n"] check "a.rules";
    unknown_value: Code::UnknownValue => ["a.rules" => "ruleset a\nstep favorite_agent when status == mised or direction in [incomming]\nfallback integration\n"] check "a.rules";
    unknown_flow_step_type: Code::UnknownFlowStepType => ["a.rules" => "ruleset a\nstep last_step_agent when last_step == voicemial\nfallback integration\n"] check "a.rules";
    type_mismatch: Code::TypeMismatch => ["a.rules" => "ruleset a\nstep favorite_agent when duration > \"long\" or status == \"missed\" or agent == bob or tags == \"vip\" or 30 < duration\nfallback integration\n"] check "a.rules";
    invalid_operator: Code::InvalidOperator => ["a.rules" => "ruleset a\nstep favorite_agent when status < missed or status = missed\nfallback integration\n"] check "a.rules";
    invalid_value: Code::InvalidValue => ["a.rules" => "ruleset a\nstep user \"sales-ops\"\nstep favorite_agent when started_at > \"2026-02-30T00:00:00Z\"\nfallback integration\n"] check "a.rules";
    mixed_script_address: Code::MixedScriptAddress => ["a.rules" => "ruleset a\nstep user \"p\u{0430}ypal@acme.com\"\nfallback user \"\u{043E}ps@acme.com\"\n"] check "a.rules";
    unknown_allow: Code::UnknownAllow => ["a.rules" => "ruleset a\nstep favorite_agent  # callassign: allow unreachable_stp\nstep call_agent  # callassign: allow unknown_step\nfallback integration  # callassign: ignore unreachable_step\n"] check "a.rules";
    unused_allow: Code::UnusedAllow => ["a.rules" => "ruleset a\n# callassign: allow unreachable_step -- nothing below the fallback any more\nstep favorite_agent\nfallback integration\n"] check "a.rules";
}

#[test]
fn the_shipped_rules_have_no_findings_at_all() {
    let findings = shipped_findings();
    assert!(
        findings.is_empty(),
        "{}",
        findings
            .iter()
            .map(|f| human(f, Style::PLAIN))
            .collect::<String>()
    );
}

#[test]
fn a_file_shows_all_its_problems_at_once() {
    let (findings, _) = findings_for(
        &[("a.rules", b"ruleset a\nstep favourite_agent\nstep contact_owner when stauts == missed\nstep voicemail_email when\nfallback integration\n")],
        "a.rules",
    );
    let codes: Vec<Code> = findings.iter().map(|f| f.code).collect();
    assert_eq!(codes, [Code::UnknownStep, Code::UnknownField, Code::Syntax]);
}

#[cfg(unix)]
#[test]
fn a_link_out_of_the_folder_cannot_be_extended() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    fs::create_dir(&rules).unwrap();
    fs::write(
        dir.path().join("secret.rules"),
        DEFAULT.replace("ruleset default", "ruleset secret"),
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret.rules"), rules.join("secret.rules"))
        .unwrap();
    fs::write(rules.join("a.rules"), "ruleset a extends secret\n").unwrap();
    let compiled = callassign::compile_file(&rules.join("a.rules")).unwrap();
    assert!(compiled.plan.is_none());
    assert_eq!(
        compiled.findings.iter().map(|f| f.code).collect::<Vec<_>>(),
        [Code::ExtendsOutsideFolder]
    );
}

#[test]
fn a_broken_base_is_reported_once_and_not_echoed_in_what_extends_it() {
    let (findings, _) = findings_for(
        &[
            (
                "default.rules",
                b"ruleset default\nstep favourite_agent\nfallback integration\n",
            ),
            (
                "a.rules",
                b"ruleset a extends default\ndisable favorite_agent\n",
            ),
        ],
        "a.rules",
    );
    let codes: Vec<Code> = findings.iter().map(|f| f.code).collect();
    assert_eq!(codes, [Code::UnknownStep]);
    assert!(findings[0].file().ends_with("default.rules"));
}

/// The slips people make, and what each is told.
#[test]
fn common_slips_get_a_message_and_help_that_fit() {
    let cases: [(&str, &str, &str); 9] = [
        (
            "step favorite_agent when status == missed and\n",
            "expected a condition, found `fallback`",
            "a condition compares a field with a value",
        ),
        (
            "step favorite_agent when\n",
            "expected a condition, found `fallback`",
            "a condition compares a field with a value",
        ),
        (
            "step user \"alice@acme.com\n",
            "unterminated string",
            "close it with `\"` on the same line",
        ),
        (
            "step favorite_agent when number == \"50%\\r\"\n",
            "unsupported escape `\\r` in a string",
            "only `\\\"` and `\\\\` can be escaped",
        ),
        (
            "step favorite_agent when agent == bob@acme.com\n",
            "expected `and`, `disable`, `fallback`, `move`, `or`, `step` or end of file, found `@`",
            "e-mail addresses are written in double quotes",
        ),
        (
            "step favorite_agent when duration > 3.5\n",
            "expected `and`, `disable`, `fallback`, `move`, `or`, `step` or end of file, found `.`",
            "numbers are whole",
        ),
        (
            "step favorite_agent when status == missed && agent == null\n",
            "expected `and`, `disable`, `fallback`, `move`, `or`, `step` or end of file, found `&`",
            "write `and`",
        ),
        (
            "step favorite_agent when \"vip\" in tag\n",
            "unknown field `tag`",
            "did you mean `tags`?",
        ),
        (
            "step favorite_agent when tags == null\n",
            "`tags` is never null",
            "`tags` is a list, empty when a call has none",
        ),
    ];
    for (statement, message, help) in cases {
        let text = format!("ruleset a\n{statement}fallback integration\n");
        let (findings, _) = findings_for(&[("a.rules", text.as_bytes())], "a.rules");
        assert_eq!(
            findings.len(),
            1,
            "{statement}: {:?}",
            findings.iter().map(|f| &f.message).collect::<Vec<_>>()
        );
        assert_eq!(findings[0].message, message, "{statement}");
        let got_help = findings[0].help.as_deref().unwrap_or("");
        assert!(
            got_help.starts_with(help),
            "{statement}: help was {got_help}"
        );
    }
}

#[test]
fn extends_with_the_file_extension_is_told_to_drop_it() {
    let (findings, prefix) = findings_for(
        &[
            ("default.rules", DEFAULT.as_bytes()),
            ("a.rules", b"ruleset a extends default.rules\n"),
        ],
        "a.rules",
    );
    insta::assert_snapshot!(render(&findings, &prefix), @r"
    callassign::invalid_value

      × `extends default.rules` names a file; `extends` takes a ruleset name
       ╭─[rules/a.rules:1:19]
     1 │ ruleset a extends default.rules
       ·                   ──────┬──────
       ·                         ╰── a file name
       ╰────
      help: drop the extension: `extends default`
    ");
}

#[test]
fn a_missing_base_is_never_answered_with_the_file_itself() {
    let (findings, _) = findings_for(&[("a.rules", b"ruleset a extends zzz\n")], "a.rules");
    assert_eq!(findings[0].code, Code::MissingExtends);
    assert_eq!(
        findings[0].help.as_deref(),
        Some("create `zzz.rules` beside this file, or extend one of: (no rule files here)")
    );
}

#[test]
fn an_e_mail_field_compared_with_a_non_address_is_an_invalid_value() {
    let (findings, _) = findings_for(&[("a.rules", b"ruleset a\nstep favorite_agent when agent == \"bob\" or contact.favorite_agent in [\"x@y.z\", \"ops\"] or agent starts_with \"bob\"\nfallback integration\n")], "a.rules");
    let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "`bob` is not an e-mail address",
            "`ops` is not an e-mail address"
        ]
    );
    assert!(findings.iter().all(|f| f.code == Code::InvalidValue));
}

#[test]
fn a_base_that_is_there_but_cannot_be_read_is_not_called_missing() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.rules"), "ruleset a extends base\n").unwrap();
    // A folder where the base file should be: it exists, but is no file.
    fs::create_dir(dir.path().join("base.rules")).unwrap();
    let compiled = callassign::compile_file(&dir.path().join("a.rules")).unwrap();
    let codes: Vec<Code> = compiled.findings.iter().map(|f| f.code).collect();
    assert_eq!(codes, [Code::UnreadableExtends]);
    let prefix = format!("{}/", dir.path().display());
    insta::assert_snapshot!(render(&compiled.findings, &prefix));
}

/// `callassign explain CODE` for every code: its text, and an example
/// that, run live, gives that code, and whose fixed file gives nothing.
#[test]
fn explain_shows_every_code_with_an_example_that_gives_it() {
    use callassign::diagnostics::explain::{explain, Example};
    use callassign::diagnostics::finding::Code;
    for code in Code::ALL {
        for written in [code.as_str(), code.short()] {
            let run = crate::common::callassign(&["explain", written]);
            assert_eq!(run.code, 0, "{written}: {run:?}");
            assert!(
                run.stdout.starts_with(&format!(
                    "{} ({})\n",
                    code.as_str(),
                    code.severity().as_str()
                )),
                "{}",
                run.stdout
            );
        }
        let run = crate::common::callassign(&["explain", code.short()]);
        if let Example::Rules { fixed, .. } = explain(code).example {
            let says = run
                .stdout
                .split_once("` says:\n")
                .unwrap_or_else(|| panic!("{code}: {}", run.stdout))
                .1;
            assert!(
                says.trim_start()
                    .starts_with(&format!("{}\n", code.as_str())),
                "{code}: the example does not give it:\n{}",
                run.stdout
            );
            if fixed.is_some() {
                assert!(
                    run.stdout.trim_end().ends_with("finds nothing in it."),
                    "{code}: the fixed example still has findings:\n{}",
                    run.stdout
                );
            }
        }
    }
    let list = crate::common::callassign(&["explain"]);
    assert_eq!(list.stdout.lines().count(), Code::ALL.len());
    let unknown = crate::common::callassign(&["explain", "unknwn_step"]);
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("did you mean `unknown_step`?"));
}
