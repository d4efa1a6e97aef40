//! Where rule files come from: the built-in `default`, a folder's own
//! default winning over it, unsaved editor buffers over the disk, and the
//! old rules of a git revision read without a checkout.

use std::path::Path;

use callassign::semantics::compile::compile;
use callassign::semantics::load::{
    GitRevision, Loader, Overlay, RuleSource, BUILTIN_DEFAULT_NAME, BUILTIN_DEFAULT_TEXT,
};

use crate::common::{callassign, callassign_in, folder, git, repo};

const TEAM: &str = "ruleset team extends default\ndisable contact_owner\n";

#[test]
fn extends_default_works_in_a_folder_without_default_rules() {
    let dir = folder(&[("team.rules", TEAM)]);
    let check = callassign_in(dir.path(), &["check", "."], b"");
    assert_eq!(check.code, 0, "{check:?}");

    let plan = callassign_in(dir.path(), &["plan", "team.rules"], b"");
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(
        plan.stdout
            .starts_with("ruleset team (built-in default.rules → team.rules)"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("last_step_agent"));
    assert!(plan.stdout.contains("built-in default.rules:17"));
    assert!(!plan.stdout.contains("contact_owner"), "{}", plan.stdout);
}

#[test]
fn explain_names_the_built_in_default_as_the_origin_of_its_steps() {
    let dir = folder(&[("team.rules", TEAM)]);
    let context = repo().join("examples/hubspot.context.yaml");
    let call = br#"{"id":"c-1","direction":"incoming","status":"missed","flow":[{"type":"call_to_agent","agent":"bob@acme.com"}]}"#;
    let run = callassign_in(
        dir.path(),
        &[
            "eval",
            "--rules",
            "team.rules",
            "--context",
            context.to_str().unwrap(),
            "--explain",
            "--format",
            "human",
            "-",
        ],
        call,
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("last_step_agent                              built-in default.rules:17"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_folders_own_default_rules_wins_over_the_built_in_one() {
    let own = "ruleset default\nstep contact_owner\nstep favorite_agent\nfallback unassigned\n";
    let dir = folder(&[("team.rules", TEAM), ("default.rules", own)]);
    let plan = callassign_in(dir.path(), &["plan", "team.rules"], b"");
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(
        plan.stdout.contains("(default.rules → team.rules)"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("built-in"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("last_step_agent"), "{}", plan.stdout);
}

#[test]
fn a_misspelt_extends_suggests_the_built_in_default() {
    let dir = folder(&[("team.rules", "ruleset team extends defualt\n")]);
    let check = callassign_in(dir.path(), &["check", "."], b"");
    assert_eq!(check.code, 1, "{check:?}");
    assert!(
        check.stdout.contains("did you mean `extends default`?"),
        "{}",
        check.stdout
    );
}

#[test]
fn print_default_prints_the_documented_priority_that_check_accepts() {
    let printed = callassign(&["print-default"]);
    assert_eq!(printed.code, 0);
    assert_eq!(printed.stdout, BUILTIN_DEFAULT_TEXT);
    assert_eq!(
        printed.stdout,
        std::fs::read_to_string(repo().join("rules/default.rules")).unwrap()
    );
    let dir = folder(&[("default.rules", &printed.stdout)]);
    let check = callassign_in(dir.path(), &["check", "--deny-warnings", "."], b"");
    assert_eq!(check.code, 0, "{check:?}");
}

#[test]
fn rule_text_not_in_a_file_can_extend_the_built_in_default() {
    let compiled = callassign::compile_text("team.rules", TEAM);
    assert!(compiled.findings.is_empty(), "{:?}", compiled.findings);
    let plan = compiled.plan.unwrap();
    assert_eq!(plan.steps.len(), 4);
    assert_eq!(plan.steps[0].origin.source.name, BUILTIN_DEFAULT_NAME);
}

#[test]
fn a_file_extending_an_unsaved_buffer_sees_the_unsaved_text() {
    let dir = folder(&[
        (
            "base.rules",
            "ruleset base\nstep call_agent\nfallback integration\n",
        ),
        ("team.rules", "ruleset team extends base\n"),
    ]);
    let base = dir.path().join("base.rules");
    let team = dir.path().join("team.rules");

    let mut overlay = Overlay::new(callassign::semantics::load::FileSystem);
    overlay.open(
        &base,
        "ruleset base\nstep favorite_agent\nfallback unassigned\n",
    );
    let compiled = compile(&Loader::with_source(&overlay).load_chain(&team).unwrap());
    let plan = compiled.plan.expect("compiles");
    assert_eq!(plan.steps[0].step.to_string(), "favorite_agent");

    overlay.close(&base);
    let compiled = compile(&Loader::with_source(&overlay).load_chain(&team).unwrap());
    assert_eq!(
        compiled.plan.unwrap().steps[0].step.to_string(),
        "call_agent"
    );
}

#[test]
fn an_unsaved_new_file_can_be_extended_before_it_exists_on_disk() {
    let dir = folder(&[("team.rules", "ruleset team extends draft\n")]);
    let mut overlay = Overlay::new(callassign::semantics::load::FileSystem);
    overlay.open(
        dir.path().join("draft.rules"),
        "ruleset draft\nstep voicemail_email\nfallback unassigned\n",
    );
    let chain = Loader::with_source(&overlay)
        .load_chain(&dir.path().join("team.rules"))
        .unwrap();
    let compiled = compile(&chain);
    assert!(compiled.findings.is_empty(), "{:?}", compiled.findings);
    assert_eq!(
        compiled.plan.unwrap().steps[0].step.to_string(),
        "voicemail_email"
    );
}

/// A repository with `rules/team.rules` extending `rules/base.rules` and a
/// `rules/outside.rules` that is a link out of the folder, committed; the
/// work tree then changes.
fn repository() -> tempfile::TempDir {
    let dir = folder(&[
        (
            "rules/base.rules",
            "ruleset base\nstep call_agent\nfallback integration\n",
        ),
        ("rules/team.rules", "ruleset team extends base\n"),
        ("rules/linked.rules", "ruleset linked extends outside\n"),
        (
            "shared/outside.rules",
            "ruleset outside\nstep call_agent\nfallback integration\n",
        ),
    ]);
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        "../shared/outside.rules",
        dir.path().join("rules/outside.rules"),
    )
    .unwrap();
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["config", "user.name", "Test"]);
    git(dir.path(), &["config", "user.email", "test@example.com"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "rules"]);
    std::fs::write(
        dir.path().join("rules/base.rules"),
        "ruleset base\nstep favorite_agent\nfallback unassigned\n",
    )
    .unwrap();
    dir
}

#[test]
fn a_git_revision_is_read_from_the_object_store_not_the_work_tree() {
    let dir = repository();
    let source = GitRevision::new(dir.path(), "HEAD");
    let chain = Loader::with_source(&source)
        .load_chain(Path::new("rules/team.rules"))
        .unwrap();
    assert_eq!(chain.files[0].source.name, "HEAD:rules/base.rules");
    let plan = compile(&chain).plan.expect("compiles");
    assert_eq!(plan.steps[0].step.to_string(), "call_agent");
}

#[test]
fn a_git_revision_keeps_the_folder_boundary_and_reports_missing_files() {
    let dir = repository();
    let source = GitRevision::new(dir.path(), "HEAD");
    let mut loader = Loader::with_source(&source);

    let linked = compile(&loader.load_chain(Path::new("rules/linked.rules")).unwrap());
    let codes: Vec<&str> = linked.findings.iter().map(|f| f.code().as_str()).collect();
    assert_eq!(codes, ["callassign::extends_outside_folder"]);
    assert_eq!(linked.findings[0].file(), "HEAD:rules/linked.rules");

    let missing = loader
        .load_chain(Path::new("rules/nothing.rules"))
        .unwrap_err();
    assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
}

#[test]
fn a_revision_that_looks_like_an_option_is_refused_not_passed_to_git() {
    let dir = repository();
    let source = GitRevision::new(dir.path(), "--output=pwned");
    let error = Loader::with_source(&source)
        .load_chain(Path::new("rules/team.rules"))
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(!dir.path().join("pwned").exists());
}

#[test]
fn a_huge_file_at_a_git_revision_is_refused_by_size_without_being_read_whole() {
    let dir = repository();
    let huge = format!(
        "ruleset huge\n# {}\nstep call_agent\nfallback integration\n",
        "x".repeat(callassign::semantics::load::MAX_RULE_FILE_BYTES * 3)
    );
    std::fs::write(dir.path().join("rules/huge.rules"), huge).unwrap();
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "huge"]);
    let source = GitRevision::new(dir.path(), "HEAD");
    let bytes = source.read(Path::new("rules/huge.rules")).unwrap();
    assert_eq!(
        bytes.len(),
        callassign::semantics::load::MAX_RULE_FILE_BYTES + 1
    );
    let compiled = compile(
        &Loader::with_source(&source)
            .load_chain(Path::new("rules/huge.rules"))
            .unwrap(),
    );
    let codes: Vec<&str> = compiled
        .findings
        .iter()
        .map(|f| f.code().as_str())
        .collect();
    assert_eq!(codes, ["callassign::file_too_large"]);
}

/// Kubernetes mounts a ConfigMap as a folder of links into a hidden,
/// versioned subfolder (`hubspot.rules -> ..data/hubspot.rules`, `..data ->
/// ..2026_12_02_10_00_00.1`), swapped at once on an update. `extends`
/// follows such links: the subfolder is inside the folder.
#[test]
fn extends_follows_links_into_a_subfolder_as_a_config_map_mounts_them() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    let version = rules.join("..2026_12_02_10_00_00.1");
    std::fs::create_dir_all(&version).unwrap();
    std::fs::write(
        version.join("default.rules"),
        "ruleset default\nstep favorite_agent\nfallback unassigned\n",
    )
    .unwrap();
    std::fs::write(
        version.join("hubspot.rules"),
        "ruleset hubspot extends default\n",
    )
    .unwrap();
    symlink("..2026_12_02_10_00_00.1", rules.join("..data")).unwrap();
    for name in ["default.rules", "hubspot.rules"] {
        symlink(format!("..data/{name}"), rules.join(name)).unwrap();
    }
    let compiled = callassign::compile_file(&rules.join("hubspot.rules")).unwrap();
    assert!(compiled.findings.is_empty(), "{:?}", compiled.findings);
    let plan = compiled.plan.unwrap();
    // The folder's own default, not the built-in one.
    assert_eq!(plan.steps.len(), 1);
    assert_eq!(plan.steps[0].step.to_string(), "favorite_agent");

    // A link out of the folder is still refused.
    let outside = dir.path().join("elsewhere");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(
        outside.join("base.rules"),
        "ruleset base\nfallback unassigned\n",
    )
    .unwrap();
    symlink(outside.join("base.rules"), rules.join("base.rules")).unwrap();
    std::fs::write(rules.join("team.rules"), "ruleset team extends base\n").unwrap();
    let compiled = callassign::compile_file(&rules.join("team.rules")).unwrap();
    let codes: Vec<&str> = compiled
        .findings
        .iter()
        .map(|f| f.code().as_str())
        .collect();
    assert_eq!(codes, ["callassign::extends_outside_folder"]);
}
