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

/// The fixture folder of every code: `tests/fixtures/findings/CODE/`, one
/// folder per code (as ruff keeps one fixture per rule), holding the rule
/// files of a case that raises it. The file checked is `a.rules`, the only
/// file, or the one `check.txt` names.
fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/findings")
}

/// A case: its rule files (name, bytes) and the one checked.
type Case = (Vec<(String, Vec<u8>)>, String);

fn fixture(code: Code) -> Option<Case> {
    let name = code.as_str().trim_start_matches("callassign::");
    let folder = fixtures().join(name);
    if !folder.is_dir() {
        return None;
    }
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "rules")
        })
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    let target = match fs::read_to_string(folder.join("check.txt")) {
        Ok(named) => named.trim().to_string(),
        Err(_) if files.len() == 1 => files[0].0.clone(),
        Err(_) => "a.rules".to_string(),
    };
    Some((files, target))
}

/// Codes whose case is not a fixture folder: a rule file over 1 MiB is
/// made by the test rather than kept in the repository, the codes found
/// only against a context are in check_context.rs, and unreadable_extends
/// needs a base that is no file (below).
const NOT_FIXTURES: [Code; 4] = [
    Code::FileTooLarge,
    Code::UserNotInContext,
    Code::IntegrationMismatch,
    Code::UnreadableExtends,
];

/// The case raises its code, the report a user sees is the snapshot named
/// after the code, and the shipped rules never raise it.
fn assert_case(code: Code, files: &[(String, Vec<u8>)], target: &str) {
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(name, text)| (name.as_str(), text.as_slice()))
        .collect();
    let (findings, prefix) = findings_for(&files, target);
    let matching: Vec<Finding> = findings
        .iter()
        .filter(|f| f.code() == code)
        .cloned()
        .collect();
    assert!(
        !matching.is_empty(),
        "{code} did not fire; got {:?}",
        findings.iter().map(|f| f.code()).collect::<Vec<_>>()
    );
    let name = code.as_str().trim_start_matches("callassign::");
    insta::assert_snapshot!(name, render(&matching, &prefix));
}

#[test]
fn every_code_has_a_fixture_that_raises_it_and_the_shipped_rules_do_not() {
    let shipped = shipped_findings();
    for code in Code::ALL {
        if NOT_FIXTURES.contains(&code) {
            assert!(
                fixture(code).is_none(),
                "{code} has a fixture folder and is listed as having none"
            );
            continue;
        }
        let (files, target) = fixture(code).unwrap_or_else(|| {
            panic!(
                "no fixture for {code}: add tests/fixtures/findings/{}/",
                code.as_str().trim_start_matches("callassign::")
            )
        });
        assert_case(code, &files, &target);
        assert!(
            !shipped.iter().any(|f| f.code() == code),
            "the shipped rules raise {code}"
        );
    }
    // No folder is left over from a code that is gone.
    for entry in fs::read_dir(fixtures()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            Code::from_name(&format!("callassign::{name}")).is_some(),
            "tests/fixtures/findings/{name}/ is no code"
        );
    }
}

#[test]
fn file_too_large() {
    let text = format!("ruleset a\n{}\n", "#".repeat(2 << 20));
    assert_case(
        Code::FileTooLarge,
        &[("a.rules".to_string(), text.into_bytes())],
        "a.rules",
    );
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
    let codes: Vec<Code> = findings.iter().map(|f| f.code()).collect();
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
        compiled
            .findings
            .iter()
            .map(|f| f.code())
            .collect::<Vec<_>>(),
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
    let codes: Vec<Code> = findings.iter().map(|f| f.code()).collect();
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
            findings.iter().map(|f| f.message()).collect::<Vec<_>>()
        );
        assert_eq!(findings[0].message(), message, "{statement}");
        let got_help = findings[0].help().unwrap_or("");
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
    assert_eq!(findings[0].code(), Code::MissingExtends);
    assert_eq!(
        findings[0].help(),
        Some("create `zzz.rules` beside this file, or extend one of: (no rule files here)")
    );
}

#[test]
fn an_e_mail_field_compared_with_a_non_address_is_an_invalid_value() {
    let (findings, _) = findings_for(&[("a.rules", b"ruleset a\nstep favorite_agent when agent == \"bob\" or contact.favorite_agent in [\"x@y.z\", \"ops\"] or agent starts_with \"bob\"\nfallback integration\n")], "a.rules");
    let messages: Vec<&str> = findings.iter().map(|f| f.message()).collect();
    assert_eq!(
        messages,
        [
            "`bob` is not an e-mail address",
            "`ops` is not an e-mail address"
        ]
    );
    assert!(findings.iter().all(|f| f.code() == Code::InvalidValue));
}

#[test]
fn a_base_that_is_there_but_cannot_be_read_is_not_called_missing() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.rules"), "ruleset a extends base\n").unwrap();
    // A folder where the base file should be: it exists, but is no file.
    fs::create_dir(dir.path().join("base.rules")).unwrap();
    let compiled = callassign::compile_file(&dir.path().join("a.rules")).unwrap();
    let codes: Vec<Code> = compiled.findings.iter().map(|f| f.code()).collect();
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

/// The codes of problems outside rule files (a context, a rule test, a
/// command's input, a call) are explained too: a user meets them in the
/// same messages and SARIF logs.
#[test]
fn explain_knows_the_codes_of_problems_outside_rule_files() {
    use callassign::diagnostics::problem::ProblemCode;
    for code in ProblemCode::ALL {
        let short = code.name().trim_start_matches("callassign::");
        for written in [code.name(), short] {
            let run = crate::common::callassign(&["explain", written]);
            assert_eq!(run.code, 0, "{written}: {run:?}");
            assert!(
                run.stdout.starts_with(&format!(
                    "{} (an error outside rule files)\n\n",
                    code.name()
                )),
                "{}",
                run.stdout
            );
            assert!(run.stdout.len() > 150, "{}", run.stdout);
        }
    }
}
