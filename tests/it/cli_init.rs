//! `callassign init`: a project a team starts from, in an empty folder,
//! that passes `check`, `test` and `fmt --check` as written.

use std::path::Path;

use crate::common::{callassign_in, folder, github_step};

const FILES: [&str; 5] = [
    "rules/hubspot.rules",
    "rules/tests/hubspot.yaml",
    "contexts/hubspot.yaml",
    "callassign.toml",
    ".github/workflows/callassign.yml",
];

fn init(dir: &Path, args: &[&str]) -> crate::common::Run {
    let mut full = vec!["init"];
    full.extend_from_slice(args);
    callassign_in(dir, &full, b"")
}

#[test]
fn init_in_an_empty_folder_passes_check_test_and_fmt_check() {
    let dir = folder(&[]);
    let run = init(dir.path(), &["--integration", "hubspot"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for file in FILES {
        assert!(
            run.stdout.contains(&format!("created {file}\n")),
            "{}",
            run.stdout
        );
        assert!(dir.path().join(file).is_file(), "{file}");
    }
    // No default.rules is written: `extends default` finds the built-in one.
    assert!(!dir.path().join("rules/default.rules").exists());

    let check = callassign_in(dir.path(), &["check", "--deny-warnings"], b"");
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    let fmt = callassign_in(dir.path(), &["fmt", "--check"], b"");
    assert_eq!(fmt.code, 0, "{}{}", fmt.stdout, fmt.stderr);
    let test = callassign_in(dir.path(), &["test"], b"");
    assert_eq!(test.code, 0, "{}{}", test.stdout, test.stderr);
    assert!(
        test.stdout.ends_with("6 passed, 0 failed\n"),
        "{}",
        test.stdout
    );
    // Every step of the plan decides one of the cases.
    assert!(!test.stdout.contains("note:"), "{}", test.stdout);
    let fit = callassign_in(
        dir.path(),
        &[
            "check",
            "--deny-warnings",
            "--context",
            "contexts/hubspot.yaml",
            "rules/hubspot.rules",
        ],
        b"",
    );
    assert_eq!(fit.code, 0, "{}{}", fit.stdout, fit.stderr);

    // What an editor checks them with agrees.
    for (file, schema) in [
        ("contexts/hubspot.yaml", callassign::schema::context()),
        ("rules/tests/hubspot.yaml", callassign::schema::test()),
    ] {
        let schema: serde_json::Value = serde_json::from_str(&schema).unwrap();
        let document: serde_json::Value =
            serde_yaml::from_str(&std::fs::read_to_string(dir.path().join(file)).unwrap()).unwrap();
        assert!(jsonschema::is_valid(&schema, &document), "{file}");
    }
}

#[test]
fn the_commented_edits_compile_when_uncommented() {
    let dir = folder(&[]);
    assert_eq!(init(dir.path(), &["--integration", "pipedrive"]).code, 0);
    let path = dir.path().join("rules/pipedrive.rules");
    let text = std::fs::read_to_string(&path).unwrap();
    let edits: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("# "))
        .filter(|line| {
            ["disable ", "move ", "step ", "fallback "]
                .iter()
                .any(|keyword| line.starts_with(keyword))
        })
        .collect();
    assert_eq!(edits.len(), 9, "{edits:?}");
    // One file may have one fallback: each fallback example on its own,
    // with every other edit.
    let fallbacks: Vec<&str> = edits
        .iter()
        .copied()
        .filter(|e| e.starts_with("fallback"))
        .collect();
    assert_eq!(fallbacks.len(), 2);
    for fallback in fallbacks {
        let mut uncommented = text.clone();
        for edit in &edits {
            if !edit.starts_with("fallback") || *edit == fallback {
                uncommented = uncommented.replace(&format!("# {edit}\n"), &format!("{edit}\n"));
            }
        }
        std::fs::write(&path, &uncommented).unwrap();
        let check = callassign_in(dir.path(), &["check", "rules/pipedrive.rules"], b"");
        assert_eq!(
            check.code, 0,
            "{fallback}:\n{uncommented}\n{}",
            check.stdout
        );
        let plan = callassign_in(dir.path(), &["plan", "rules/pipedrive.rules"], b"");
        assert!(
            plan.stdout.contains("user \"sales-ops@example.com\""),
            "{}",
            plan.stdout
        );
        assert!(
            !plan.stdout.contains("contact_owner"),
            "disabled: {}",
            plan.stdout
        );
    }
}

#[test]
fn init_refuses_to_overwrite_and_writes_nothing_then() {
    let dir = folder(&[("contexts/hubspot.yaml", "integration: hubspot # ours\n")]);
    let run = init(dir.path(), &["--integration", "hubspot"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: `contexts/hubspot.yaml` already exists; `init` overwrites nothing\n  help: move it away, or run `init` with another `--integration` or folder\n"
    );
    assert!(!dir.path().join("rules").exists());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("contexts/hubspot.yaml")).unwrap(),
        "integration: hubspot # ours\n"
    );
    // Another integration beside it is fine.
    assert_eq!(init(dir.path(), &["--integration", "zendesk"]).code, 0);
}

#[test]
fn init_adds_an_integration_to_a_project_keeping_the_shared_files() {
    let dir = folder(&[]);
    assert_eq!(init(dir.path(), &["--integration", "hubspot"]).code, 0);
    let workflow = dir.path().join(".github/workflows/callassign.yml");
    // The team's own edit of the CI job is kept.
    let edited = format!("{}# ours\n", std::fs::read_to_string(&workflow).unwrap());
    std::fs::write(&workflow, &edited).unwrap();
    let run = init(dir.path(), &["--integration", "freshdesk"]);
    assert_eq!(run.code, 0, "{run:?}");
    for file in [
        "rules/freshdesk.rules",
        "rules/tests/freshdesk.yaml",
        "contexts/freshdesk.yaml",
    ] {
        assert!(
            run.stdout.contains(&format!("created {file}\n")),
            "{}",
            run.stdout
        );
    }
    for file in ["callassign.toml", ".github/workflows/callassign.yml"] {
        assert!(
            run.stdout.contains(&format!(
                "kept {file} (already there; it serves every integration of the project)\n"
            )),
            "{}",
            run.stdout
        );
    }
    assert_eq!(std::fs::read_to_string(&workflow).unwrap(), edited);
    // Both integrations pass, each against its context.
    let check = callassign_in(dir.path(), &["check", "--deny-warnings"], b"");
    assert_eq!(check.code, 0, "{check:?}");
    assert!(check.stderr.contains("checked 2 files"), "{}", check.stderr);
    let test = callassign_in(dir.path(), &["test"], b"");
    assert!(
        test.stdout.ends_with("12 passed, 0 failed\n"),
        "{}",
        test.stdout
    );
    // The same integration twice is still refused, naming its files.
    let again = init(dir.path(), &["--integration", "freshdesk"]);
    assert_eq!(again.code, 2);
    assert!(
        again.stderr.contains("`rules/freshdesk.rules`"),
        "{}",
        again.stderr
    );
}

#[test]
fn the_ci_job_builds_callassign_from_where_it_is_published_and_caches_it() {
    let dir = folder(&[]);
    assert_eq!(init(dir.path(), &["--integration", "hubspot"]).code, 0);
    let text =
        std::fs::read_to_string(dir.path().join(".github/workflows/callassign.yml")).unwrap();
    let workflow: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let job = &workflow["jobs"]["rules"];
    // The crate is not on crates.io: it is built from the repository named
    // once, in Cargo.toml.
    assert_eq!(job["env"]["CALLASSIGN_GIT"], env!("CARGO_PKG_REPOSITORY"));
    let steps = job["steps"].as_sequence().unwrap();
    let step = |id: &str| {
        steps
            .iter()
            .find(|step| step["id"] == id)
            .unwrap_or_else(|| panic!("no step {id}: {text}"))
    };
    // Built at the commit the default branch is at, and cached by it: a
    // new commit there is built once (a cache by version kept old builds).
    assert_eq!(
        step("cache")["with"]["key"],
        "callassign-${{ runner.os }}-${{ runner.arch }}-${{ steps.rev.outputs.rev }}"
    );
    assert_eq!(step("cache")["with"]["path"], "~/.callassign");
    let build = steps
        .iter()
        .find(|step| {
            step["run"]
                .as_str()
                .is_some_and(|run| run.starts_with("cargo install"))
        })
        .unwrap();
    assert_eq!(
        build["run"],
        "cargo install --locked --root ~/.callassign --git \"$CALLASSIGN_GIT\" --rev \"${{ steps.rev.outputs.rev }}\" callassign"
    );
    assert_eq!(build["if"], "steps.cache.outputs.cache-hit != 'true'");

    // The commit step, run: a repository it can reach gives its commit;
    // one it cannot (the OWNER placeholder) fails saying what to set.
    let script = step("rev")["run"].as_str().unwrap();
    let published = folder(&[("README", "x\n")]);
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .args(args)
            .current_dir(published.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@t")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@t")
            .output()
            .unwrap();
        assert!(status.status.success(), "{status:?}");
        String::from_utf8(status.stdout).unwrap()
    };
    git(&["init", "-q"]);
    git(&["add", "README"]);
    git(&["commit", "-qm", "x"]);
    let head = git(&["rev-parse", "HEAD"]);
    let output_file = dir.path().join("github-output");
    let found = crate::common::github_step(script, dir.path(), &[])
        .env("CALLASSIGN_GIT", published.path())
        .env("GITHUB_OUTPUT", &output_file)
        .output()
        .unwrap();
    assert!(found.status.success(), "{found:?}");
    assert_eq!(
        std::fs::read_to_string(&output_file).unwrap(),
        format!("rev={}", head)
    );
    let unreachable = crate::common::github_step(script, dir.path(), &[])
        .env("CALLASSIGN_GIT", dir.path().join("nowhere"))
        .env("GITHUB_OUTPUT", &output_file)
        .output()
        .unwrap();
    assert!(!unreachable.status.success());
    assert!(
        String::from_utf8_lossy(&unreachable.stdout).contains("::error::cannot reach"),
        "{unreachable:?}"
    );
}

#[test]
fn init_writes_into_a_named_folder_with_a_default_integration() {
    let dir = folder(&[]);
    let run = init(dir.path(), &["team-rules"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("created team-rules/rules/crm.rules\n"),
        "{}",
        run.stdout
    );
    // The next step says to go there first, and that the CI job's source
    // is a placeholder until callassign is published.
    assert!(
        run.stdout
            .contains("\n  cd team-rules && callassign check && callassign test\n"),
        "{}",
        run.stdout
    );
    if env!("CARGO_PKG_REPOSITORY").contains("/OWNER/") {
        assert!(
            run.stdout
                .contains("a placeholder until callassign is published: set CALLASSIGN_GIT"),
            "{}",
            run.stdout
        );
    }
    let project = dir.path().join("team-rules");
    let test = callassign_in(&project, &["test"], b"");
    assert_eq!(test.code, 0, "{}", test.stdout);
}

#[test]
fn a_name_that_cannot_name_a_ruleset_is_refused() {
    let dir = folder(&[]);
    for (name, message) in [
        ("hub spot", "error: `hub spot` cannot name a ruleset"),
        ("1crm", "error: `1crm` cannot name a ruleset"),
        ("step", "error: `step` cannot name a ruleset"),
        (
            "default",
            "error: `default` is the built-in priority the new rules extend",
        ),
    ] {
        let run = init(dir.path(), &["--integration", name]);
        assert_eq!(run.code, 2, "{name}");
        assert!(run.stderr.starts_with(message), "{name}: {}", run.stderr);
        assert!(run.stderr.contains("help: "), "{}", run.stderr);
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn the_ci_job_runs_green_on_the_new_project() {
    let dir = folder(&[]);
    assert_eq!(init(dir.path(), &["--integration", "hubspot"]).code, 0);
    let workflow: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(dir.path().join(".github/workflows/callassign.yml")).unwrap(),
    )
    .unwrap();
    let mut ran = Vec::new();
    for step in workflow["jobs"]["rules"]["steps"].as_sequence().unwrap() {
        let (Some(name), Some(script)) = (step["name"].as_str(), step["run"].as_str()) else {
            continue;
        };
        if name.starts_with("Install") {
            continue;
        }
        let output = github_step(script, dir.path(), &[]).output().unwrap();
        assert!(output.status.success(), "{name}: {output:?}");
        ran.push(name.to_string());
    }
    assert_eq!(ran.len(), 3, "{ran:?}");
}

#[test]
fn a_failure_half_way_leaves_nothing_behind_so_init_can_run_again() {
    let dir = crate::common::folder(&[]);
    let project = dir.path().join("p");
    std::fs::create_dir(&project).unwrap();
    // A file where `.github/` must go: the last of the four files fails.
    std::fs::write(project.join(".github"), "").unwrap();
    let run = crate::common::callassign_in(dir.path(), &["init", "p"], b"");
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("nothing was left behind"),
        "{}",
        run.stderr
    );
    let mut left: Vec<String> = std::fs::read_dir(&project)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, [".github"]);

    std::fs::remove_file(project.join(".github")).unwrap();
    let again = crate::common::callassign_in(dir.path(), &["init", "p"], b"");
    assert_eq!(again.code, 0, "{again:?}");
}

#[test]
fn an_integration_name_too_long_for_a_file_name_is_refused_before_writing() {
    let dir = crate::common::folder(&[]);
    let name = "a".repeat(300);
    let run = crate::common::callassign_in(dir.path(), &["init", "--integration", &name, "x"], b"");
    assert_eq!(run.code, 2, "{run:?}");
    assert!(!dir.path().join("x").exists());
}
