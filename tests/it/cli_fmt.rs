//! `callassign fmt`: canonical layout, run through the real binary.

use std::path::Path;

use crate::common;

use common::{callassign_in, folder, Run};

/// Runs the binary in `dir` with colour off and nothing on stdin.
fn callassign(dir: &Path, args: &[&str]) -> Run {
    common::callassign_in(dir, args, b"")
}

const MESSY: &str = "\
# Pipedrive, written in a hurry.
ruleset   pipedrive extends default


move contact_owner before last_step_agent   # owners first
# VIP callers:
step user \"sales-ops@acme.com\"
   when \"vip\" in tags and direction==incoming # sales ops
move user \"sales-ops@acme.com\"  first
fallback integration
";

fn folder_with(name: &str, text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/default.rules"),
        dir.path().join("default.rules"),
    )
    .unwrap();
    std::fs::write(dir.path().join(name), text).unwrap();
    dir
}

#[test]
fn shipped_rules_are_formatted() {
    let run = callassign(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["fmt", "--check", "rules"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "");
}

#[test]
fn check_shows_a_diff_and_changes_nothing() {
    let dir = folder_with("pipedrive.rules", MESSY);
    let run = callassign(dir.path(), &["fmt", "--check", "."]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!("fmt_check_diff", run.stdout);
    assert_eq!(
        run.stderr,
        "1 of 2 files not formatted; run `callassign fmt` to fix\n"
    );
    let after = std::fs::read_to_string(dir.path().join("pipedrive.rules")).unwrap();
    assert_eq!(after, MESSY);
}

#[test]
fn fmt_rewrites_once_and_keeps_the_plan() {
    let dir = folder_with("pipedrive.rules", MESSY);
    let plan_before = callassign(dir.path(), &["plan", "--format", "json", "pipedrive.rules"]);

    let run = callassign(dir.path(), &["fmt", "pipedrive.rules"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "formatted 1 file\n");
    let formatted = std::fs::read_to_string(dir.path().join("pipedrive.rules")).unwrap();
    insta::assert_snapshot!("fmt_rewritten", formatted);

    // Idempotent: a second run changes nothing.
    let again = callassign(dir.path(), &["fmt", "--check", "pipedrive.rules"]);
    assert_eq!((again.code, again.stdout.as_str()), (0, ""));

    // The same steps in the same order; only the lines they are written at moved.
    let plan_after = callassign(dir.path(), &["plan", "--format", "json", "pipedrive.rules"]);
    let steps = |json: &str| {
        let plan: serde_json::Value = serde_json::from_str(json).unwrap();
        let names = |steps: &serde_json::Value| -> Vec<(String, String)> {
            steps
                .as_array()
                .unwrap()
                .iter()
                .map(|step| {
                    (
                        step["step"].to_string(),
                        format!("{}{}", step["when"], step["unless"]),
                    )
                })
                .collect()
        };
        (names(&plan["steps"]), plan["fallback"]["step"].to_string())
    };
    assert_eq!(steps(&plan_after.stdout), steps(&plan_before.stdout));
}

#[test]
fn a_file_with_syntax_errors_is_left_alone() {
    let broken = "ruleset broken\nstep call_agent when status ==\n# keep me\nstep favorite_agent\n";
    let dir = folder_with("broken.rules", broken);
    for args in [
        &["fmt", "broken.rules"][..],
        &["fmt", "--check", "broken.rules"],
    ] {
        let run = callassign(dir.path(), args);
        assert_eq!(run.code, 1);
        assert_eq!(run.stdout, "");
        insta::assert_snapshot!("fmt_syntax_error_stderr", run.stderr);
        let after = std::fs::read_to_string(dir.path().join("broken.rules")).unwrap();
        assert_eq!(after, broken);
    }
}

#[test]
fn stdout_prints_the_canonical_text_and_leaves_the_file_alone() {
    let messy = "ruleset x   # the demo\nstep  call_agent\nfallback    unassigned\n";
    let dir = common::folder(&[("x.rules", messy)]);
    let run = callassign(dir.path(), &["fmt", "--stdout", "x.rules"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "ruleset x  # the demo\nstep call_agent\nfallback unassigned\n"
    );
    assert_eq!(run.stderr, "");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("x.rules")).unwrap(),
        messy
    );
}

#[test]
fn check_says_when_only_line_endings_differ() {
    let dir = common::folder(&[(
        "x.rules",
        "ruleset x\r\nstep call_agent\r\nfallback unassigned\r\n",
    )]);
    let run = callassign(dir.path(), &["fmt", "--check", "x.rules"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with(
            "note: `x.rules` has Windows line endings (CRLF); the formatted file uses LF\n"
        ),
        "{}",
        run.stderr
    );
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_is_formatted_where_it_points_and_stays_a_link() {
    let dir = crate::common::folder(&[(
        "real/a.rules",
        "ruleset a\nstep   call_agent\nfallback integration\n",
    )]);
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    let link = dir.path().join("rules/a.rules");
    std::os::unix::fs::symlink("../real/a.rules", &link).unwrap();
    let run = crate::common::callassign_in(dir.path(), &["fmt", "rules/a.rules"], b"");
    assert_eq!(run.code, 0, "{run:?}");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("real/a.rules")).unwrap(),
        "ruleset a\nstep call_agent\nfallback integration\n"
    );
}

#[test]
fn fmt_dash_formats_stdin() {
    let dir = folder(&[]);
    let messy = b"ruleset y   extends default\n\n\n#c\n";
    let run = callassign_in(dir.path(), &["fmt", "--stdout", "-"], messy);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "ruleset y extends default\n\n#c\n");
    let check = callassign_in(dir.path(), &["fmt", "--check", "-"], messy);
    assert_eq!(check.code, 1, "{check:?}");
    assert!(
        check
            .stdout
            .starts_with("--- <stdin>\n+++ <stdin> (formatted)\n"),
        "{}",
        check.stdout
    );
    let clean = callassign_in(
        dir.path(),
        &["fmt", "--check", "-"],
        b"ruleset y extends default\n",
    );
    assert_eq!(clean.code, 0, "{clean:?}");
    let broken = callassign_in(
        dir.path(),
        &["fmt", "--stdout", "-"],
        b"ruleset y\nstep (\n",
    );
    assert_eq!(broken.code, 1, "{broken:?}");
    assert!(
        broken.stderr.contains("`<stdin>` was not formatted"),
        "{}",
        broken.stderr
    );
    // Nothing to rewrite.
    let rewrite = callassign_in(dir.path(), &["fmt", "-"], messy);
    assert_eq!(rewrite.code, 2);
    assert!(
        rewrite.stderr.contains("fmt --stdout -"),
        "{}",
        rewrite.stderr
    );
}
