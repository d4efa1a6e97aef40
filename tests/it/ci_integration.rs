//! The files a team's CI uses: the composite GitHub Action (`action.yml`)
//! and the pre-commit hooks (`.pre-commit-hooks.yaml`). Their scripts are
//! run here with bash against the real binary, as a runner would.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use serde_yaml::Value;

use crate::common::{folder, git, github_step, path_with_binary, repo};

/// What `${{ … }}` expressions of the action stand for in a pull request
/// event: inputs (their defaults, overridden by `inputs`) and a few of the
/// `github` context.
fn expand(text: &str, action: &Value, inputs: &HashMap<&str, &str>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("a closed expression") + start;
        let expression = rest[start + 3..end].trim();
        let value = if let Some(name) = expression.strip_prefix("inputs.") {
            inputs
                .get(name)
                .map(|value| value.to_string())
                .unwrap_or_else(|| {
                    action["inputs"][name]["default"]
                        .as_str()
                        .unwrap_or_else(|| panic!("no input `{name}`"))
                        .to_string()
                })
        } else {
            match expression {
                "github.base_ref" => "main".to_string(),
                "github.event.pull_request.number" => "7".to_string(),
                "github.token" => "token".to_string(),
                "github.repository" => "team/rules".to_string(),
                other => panic!("the test does not know `{other}`"),
            }
        };
        out.push_str(&expand(&value, action, inputs));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

struct StepRun {
    name: String,
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs every step of `action.yml` but the install steps in `dir`, as a
/// pull request would, with a `gh` that records what it was asked. The
/// pull request already has the impact comments `existing` (their ids).
fn run_action(dir: &Path, inputs: &HashMap<&str, &str>) -> Vec<StepRun> {
    run_action_with_comments(dir, inputs, &[])
}

fn run_action_with_comments(
    dir: &Path,
    inputs: &HashMap<&str, &str>,
    existing: &[&str],
) -> Vec<StepRun> {
    let action: Value =
        serde_yaml::from_str(&std::fs::read_to_string(repo().join("action.yml")).unwrap()).unwrap();
    assert_eq!(action["runs"]["using"], "composite");
    let temp = folder(&[]);
    let fake_bin = temp.path().join("bin");
    std::fs::create_dir(&fake_bin).unwrap();
    std::fs::write(
        temp.path().join("gh-existing"),
        existing
            .iter()
            .map(|id| format!("{id}\n"))
            .collect::<String>(),
    )
    .unwrap();
    let gh = fake_bin.join("gh");
    // The list of comments prints the ids `--jq` would select; an update
    // (`api --method PATCH … -F body=@FILE`) and a new comment (`pr comment
    // N --body-file FILE`) keep the body they were given.
    std::fs::write(
        &gh,
        format!(
            "#!/bin/sh\necho \"$@\" >> {0}/gh-args\ncase \"$1 $2 $3\" in\n  'api --method PATCH') for arg in \"$@\"; do case \"$arg\" in body=@*) cat \"${{arg#body=@}}\" > {0}/gh-body;; esac; done ;;\n  api*) cat {0}/gh-existing ;;\n  pr*) cat \"$5\" > {0}/gh-body ;;\nesac\n",
            temp.path().display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut runs = Vec::new();
    for step in action["runs"]["steps"].as_sequence().unwrap() {
        let name = step["name"].as_str().unwrap().to_string();
        if name.starts_with("Install") {
            continue;
        }
        assert_eq!(step["shell"], "bash", "{name}");
        if let Some(condition) = step["if"].as_str() {
            // `inputs.X != ''`, optionally with the pull-request event.
            let input = condition
                .split("inputs.")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .expect("a condition on an input");
            if expand(&format!("${{{{ inputs.{input} }}}}"), &action, inputs).is_empty() {
                continue;
            }
        }
        let script = step["run"].as_str().unwrap();
        let mut command = github_step(script, dir, &[&fake_bin]);
        command.env("RUNNER_TEMP", temp.path());
        if let Some(env) = step["env"].as_mapping() {
            for (key, value) in env {
                command.env(
                    key.as_str().unwrap(),
                    expand(value.as_str().unwrap(), &action, inputs),
                );
            }
        }
        let output = command.output().unwrap();
        runs.push(StepRun {
            name,
            code: output.status.code().unwrap(),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        });
    }
    if let Ok(body) = std::fs::read_to_string(temp.path().join("gh-body")) {
        let args = std::fs::read_to_string(temp.path().join("gh-args")).unwrap();
        runs.push(StepRun {
            name: "gh".into(),
            code: 0,
            stdout: body,
            stderr: args,
        });
    }
    runs
}

/// A team repository: the shipped rules and tests, a context per rule
/// file that has one, and a history, committed as `origin/main`.
fn team_repository() -> tempfile::TempDir {
    let dir = folder(&[]);
    let root = dir.path();
    for name in ["default", "hubspot", "zendesk"] {
        let rules = format!("rules/{name}.rules");
        let text = std::fs::read_to_string(repo().join(&rules)).unwrap();
        std::fs::create_dir_all(root.join("rules/tests")).unwrap();
        std::fs::write(root.join(&rules), text).unwrap();
    }
    std::fs::create_dir_all(root.join("contexts")).unwrap();
    std::fs::copy(
        repo().join("examples/hubspot.context.yaml"),
        root.join("contexts/hubspot.yaml"),
    )
    .unwrap();
    std::fs::write(
        root.join("rules/tests/hubspot.yaml"),
        std::fs::read_to_string(repo().join("rules/tests/hubspot.yaml"))
            .unwrap()
            .replace(
                "../../examples/hubspot.context.yaml",
                "../../contexts/hubspot.yaml",
            )
            .replace("../../examples/", "../../history/"),
    )
    .unwrap();
    std::fs::create_dir_all(root.join("history")).unwrap();
    for example in ["call.json", "call.yaml", "calls.jsonl"] {
        std::fs::copy(
            repo().join("examples").join(example),
            root.join("history").join(example),
        )
        .unwrap();
    }
    git(root, &["init", "-q"]);
    git(root, &["config", "user.name", "Test"]);
    git(root, &["config", "user.email", "test@example.com"]);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "rules"]);
    git(root, &["update-ref", "refs/remotes/origin/main", "HEAD"]);
    dir
}

#[test]
fn the_action_checks_tests_and_posts_the_impact_of_a_pull_request() {
    let dir = team_repository();
    // The pull request: HubSpot's missed calls now go unassigned.
    let hubspot = dir.path().join("rules/hubspot.rules");
    let text = std::fs::read_to_string(&hubspot).unwrap();
    std::fs::write(
        &hubspot,
        format!("{}\nfallback unassigned\n", text.trim_end()),
    )
    .unwrap();

    let inputs = HashMap::from([
        ("history", "history/calls.jsonl"),
        ("junit", "junit.xml"),
        ("tests", "rules/tests"),
    ]);
    let runs = run_action(dir.path(), &inputs);
    let names: Vec<&str> = runs.iter().map(|run| run.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Check rule files",
            "Format-check rule files",
            "Run rule tests",
            "Impact of the rule change",
            "gh"
        ],
        "{}{}",
        runs[3].stdout,
        runs[3].stderr
    );
    for run in &runs[..2] {
        assert_eq!(run.code, 0, "{}: {}{}", run.name, run.stdout, run.stderr);
    }
    // The changed fallback makes a rule test fail, which fails the job.
    assert_eq!(runs[2].code, 1, "{}", runs[2].stdout);
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert!(roxmltree::Document::parse(&junit).is_ok());
    assert_eq!(runs[3].code, 0, "{}{}", runs[3].stdout, runs[3].stderr);
    let comment = runs
        .get(4)
        .unwrap_or_else(|| panic!("no comment: {}", runs[3].stderr));
    // No impact comment yet: one is made, after looking for one.
    assert!(
        comment
            .stderr
            .starts_with("api repos/team/rules/issues/7/comments --paginate --jq ")
            && comment.stderr.contains("\npr comment 7 --body-file "),
        "{}",
        comment.stderr
    );
    assert!(
        comment.stdout.starts_with("<!-- callassign impact -->\n"),
        "{}",
        comment.stdout
    );
    assert!(
        comment.stdout.contains("rules/hubspot.rules"),
        "{}",
        comment.stdout
    );
    assert!(
        comment.stdout.contains("fallback unassigned"),
        "{}",
        comment.stdout
    );
}

#[test]
fn the_action_annotates_findings_with_the_context_of_each_rule_file() {
    let dir = team_repository();
    std::fs::write(
        dir.path().join("rules/hubspot.rules"),
        "ruleset hubspot extends default\nstep user \"ghost@acme.com\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("rules/zendesk.rules"),
        "ruleset zendesk extends default\nstep favourite_agent\n",
    )
    .unwrap();
    let inputs = HashMap::from([("tests", "")]);
    let runs = run_action(dir.path(), &inputs);
    let check = &runs[0];
    assert_eq!(check.code, 1);
    let annotations: Vec<&str> = check.stdout.lines().collect();
    assert_eq!(annotations.len(), 2, "{}", check.stdout);
    assert!(
        annotations[0].starts_with("::warning file=rules/hubspot.rules,line=2,"),
        "{}",
        annotations[0]
    );
    assert!(annotations[0].contains("title=callassign%3A%3Auser_not_in_context"));
    assert!(
        annotations[1].starts_with("::error file=rules/zendesk.rules,line=2,"),
        "{}",
        annotations[1]
    );
    // No tests input, no history: only check and fmt ran.
    assert_eq!(runs.len(), 2);
}

#[test]
fn every_pre_commit_hook_passes_on_the_shipped_rules_and_fails_on_a_bad_file() {
    let hooks: Value = serde_yaml::from_str(
        &std::fs::read_to_string(repo().join(".pre-commit-hooks.yaml")).unwrap(),
    )
    .unwrap();
    let hooks = hooks.as_sequence().unwrap();
    let ids: Vec<&str> = hooks
        .iter()
        .map(|hook| hook["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["callassign-check", "callassign-fmt", "callassign-test"]
    );
    let rule_files: Vec<String> = callassign::semantics::load::rule_files(&repo().join("rules"))
        .unwrap()
        .iter()
        .map(|path| path.strip_prefix(repo()).unwrap().display().to_string())
        .collect();
    let run_hook = |hook: &Value, cwd: &Path, files: &[String]| {
        assert_eq!(hook["language"], "rust");
        let entry = hook["entry"].as_str().unwrap();
        let pass_filenames = hook["pass_filenames"].as_bool().unwrap_or(true);
        let mut script = entry.to_string();
        if pass_filenames {
            let pattern = hook["files"].as_str().unwrap();
            assert_eq!(
                pattern, "\\.rules$",
                "{entry}: the test matches only rule files"
            );
            for file in files {
                script.push(' ');
                script.push_str(file);
            }
        }
        Command::new("bash")
            .args(["-c", &script])
            .current_dir(cwd)
            .env("PATH", path_with_binary())
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    for hook in hooks {
        let output = run_hook(hook, &repo(), &rule_files);
        assert!(output.status.success(), "{:?}: {output:?}", hook["id"]);
    }
    // A misspelt step fails check; a badly laid out file fails fmt.
    let dir = folder(&[
        (
            "rules/a.rules",
            "ruleset a\nstep favourite_agent\nfallback integration\n",
        ),
        (
            "rules/b.rules",
            "ruleset  b\nstep favorite_agent\nfallback integration\n",
        ),
    ]);
    let check = run_hook(&hooks[0], dir.path(), &["rules/a.rules".to_string()]);
    assert_eq!(check.status.code(), Some(1));
    let fmt = run_hook(&hooks[1], dir.path(), &["rules/b.rules".to_string()]);
    assert_eq!(fmt.status.code(), Some(1));
}

#[test]
fn the_action_updates_its_one_comment_on_every_push() {
    let dir = team_repository();
    let hubspot = dir.path().join("rules/hubspot.rules");
    let original = std::fs::read_to_string(&hubspot).unwrap();
    std::fs::write(
        &hubspot,
        format!("{}\nfallback unassigned\n", original.trim_end()),
    )
    .unwrap();
    let inputs = HashMap::from([("history", "history/calls.jsonl"), ("tests", "")]);
    // A later push: the comment of the first is updated, not added to.
    let runs = run_action_with_comments(dir.path(), &inputs, &["42"]);
    let gh = runs.last().unwrap();
    assert_eq!(gh.name, "gh");
    assert!(
        gh.stderr
            .contains("\napi --method PATCH repos/team/rules/issues/comments/42 -F body=@"),
        "{}",
        gh.stderr
    );
    assert!(!gh.stderr.contains("pr comment"), "{}", gh.stderr);
    assert!(
        gh.stdout
            .starts_with("<!-- callassign impact -->\n### Impact of"),
        "{}",
        gh.stdout
    );
    // A push that moves no call any more says so in the same comment.
    std::fs::write(&hubspot, &original).unwrap();
    let runs = run_action_with_comments(dir.path(), &inputs, &["42"]);
    let gh = runs.last().unwrap();
    assert!(gh.stderr.contains("issues/comments/42"), "{}", gh.stderr);
    assert!(
        gh.stdout.contains("**No call changes assignee**"),
        "{}",
        gh.stdout
    );
    // Nothing moved and no comment to update: nothing is posted.
    let runs = run_action_with_comments(dir.path(), &inputs, &[]);
    let last = runs.last().unwrap();
    assert_eq!(
        last.name, "Impact of the rule change",
        "a comment body was written"
    );
    assert_eq!(last.code, 0, "{}", last.stderr);
}
