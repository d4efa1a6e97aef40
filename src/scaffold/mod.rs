//! Scaffold: the starting project `callassign init` writes for a team that
//! adopts callassign in its own repository. A rule file that extends the
//! built-in default and shows every edit in comments, rule tests that pass
//! and make every step decide once, a context template, and a CI job. The
//! texts are templates beside this file, with `{{integration}}` filled in.

use std::path::PathBuf;

const RULES: &str = include_str!("templates/integration.rules");
const TESTS: &str = include_str!("templates/integration.tests.yaml");
const CONTEXT: &str = include_str!("templates/integration.context.yaml");
const WORKFLOW: &str = include_str!("templates/callassign.workflow.yml");
const PROJECT: &str = include_str!("templates/callassign.toml");

/// Where this repository is published (`repository` in Cargo.toml): the
/// CI job builds callassign from there until a release exists.
pub const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

/// The integration `init` starts from when none is named.
pub const DEFAULT_INTEGRATION: &str = "crm";

/// One file of the project, its path relative to the project folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaffoldFile {
    pub path: PathBuf,
    pub text: String,
    /// Whether the file serves every integration of the project (the CI
    /// job, the project file): one already there is kept as it is when
    /// another integration is added.
    pub shared: bool,
}

/// Why a name cannot name an integration's rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadName {
    pub message: String,
    pub help: String,
}

/// The files of a new project for `integration`, in the order they are
/// listed to the user.
///
/// ```
/// let files = crate::scaffold::project("hubspot").unwrap();
/// assert_eq!(files[0].path, std::path::Path::new("rules/hubspot.rules"));
/// assert!(callassign::compile_text("hubspot.rules", &files[0].text).findings.is_empty());
/// assert!(crate::scaffold::project("hub spot").is_err());
/// ```
pub fn project(integration: &str) -> Result<Vec<ScaffoldFile>, BadName> {
    check_name(integration)?;
    let fill = |template: &str| {
        template
            .replace("{{integration}}", integration)
            .replace("{{repository}}", REPOSITORY)
    };
    let rules = fill(RULES);
    // The grammar has the last word on names (keywords cannot be ruleset
    // names): a template that does not compile is a name it refuses.
    if has_errors(integration, &rules) {
        return Err(BadName {
            message: format!("`{integration}` cannot name a ruleset"),
            help: "a word like `if` or `step` is part of the rule language; name the integration, as in `--integration hubspot`".into(),
        });
    }
    let file = |path: String, text: String, shared: bool| ScaffoldFile {
        path: PathBuf::from(path),
        text,
        shared,
    };
    Ok(vec![
        file(format!("rules/{integration}.rules"), rules, false),
        file(
            format!("rules/tests/{integration}.yaml"),
            fill(TESTS),
            false,
        ),
        file(format!("contexts/{integration}.yaml"), fill(CONTEXT), false),
        // `crate::project::FILE_NAME`, which needs the `cli` feature.
        file("callassign.toml".to_string(), fill(PROJECT), true),
        file(
            ".github/workflows/callassign.yml".to_string(),
            fill(WORKFLOW),
            true,
        ),
    ])
}

fn has_errors(integration: &str, rules: &str) -> bool {
    callassign::compile_text(&format!("{integration}.rules"), rules).has_errors()
}

/// A ruleset name: a letter, then letters, digits, `_` and `-` (the
/// grammar's identifier), and not `default`, which it extends.
fn check_name(integration: &str) -> Result<(), BadName> {
    let mut chars = integration.chars();
    let well_formed = chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    // File names have limits (255 bytes on most systems), names of
    // integrations are short.
    if !well_formed || integration.len() > 64 {
        return Err(BadName {
            message: format!("`{integration}` cannot name a ruleset"),
            help: "use at most 64 letters, digits, `_` and `-`, starting with a letter, as in `--integration hubspot`".into(),
        });
    }
    if integration == "default" {
        return Err(BadName {
            message: "`default` is the built-in priority the new rules extend".into(),
            help: "name the integration, as in `--integration hubspot`".into(),
        });
    }
    Ok(())
}
