//! The project file, `callassign.toml`: where a repository keeps its rule
//! files, contexts and rule tests, and which ruleset its calls are decided
//! by, so that commands need no flags.
//!
//! ```toml
//! # callassign.toml (paths are relative to this file)
//! rules = "rules"            # the rule files: check, fmt, and eval/stats/diff's --rules
//! contexts = "contexts"      # contexts/NAME.yaml is the context of rules/NAME.rules
//! tests = "rules/tests"      # what `callassign test` runs
//! ruleset = "hubspot"        # what eval and stats decide by when --rules is not given
//! input = "native"           # or "cloudtalk": what the calls are
//! ```
//!
//! Commands look for it in the working folder, then in each folder above,
//! as ruff looks for its `ruff.toml`, and stop after the folder that holds
//! `.git` (the repository's root): the first found is the project. A flag
//! always wins over the file; every key may be left out (the defaults are
//! those above, without `ruleset`).
//!
//! `check`, `fmt`, `test`, `eval`, `stats`, `diff` and `serve` read it
//! (see docs/project-file.md).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use callassign::runtime::batch::InputFormat;

/// The file's name.
pub const FILE_NAME: &str = "callassign.toml";

/// The most a project file may hold; it is a handful of lines.
pub const MAX_PROJECT_BYTES: usize = 64 * 1024;

/// What the file says, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a project file: `rules`, `contexts`, `tests`, `ruleset`, `input`"
)]
struct Raw {
    rules: Option<String>,
    contexts: Option<String>,
    tests: Option<String>,
    ruleset: Option<String>,
    input: Option<InputFormat>,
}

/// A project: its file and what it says, paths joined to its folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The file, as reports name it (`callassign.toml`, `../callassign.toml`).
    pub file: PathBuf,
    /// The folder of rule files.
    pub rules: PathBuf,
    /// The folder of contexts: `NAME.yaml` (or `.yml`, `.json`) goes with
    /// `NAME.rules`.
    pub contexts: PathBuf,
    /// The rule tests: a folder or a file.
    pub tests: PathBuf,
    /// The ruleset calls are decided by when no rule file is named.
    pub ruleset: Option<String>,
    /// What the calls are, when no `--input` says.
    pub input: Option<InputFormat>,
}

/// A project file that cannot be used: which file, what, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{}` {message}", file.display())]
pub struct ProjectError {
    pub file: PathBuf,
    pub message: String,
    pub help: String,
}

impl Project {
    /// Looks for the project file in `start` and the folders above it (up
    /// to and with the one holding `.git`); `Ok(None)` when there is none.
    /// Paths are relative to `start` as given: `start` itself is the empty
    /// path or `.`, and the folder above it `..`.
    ///
    /// ```
    /// use crate::project::Project;
    ///
    /// let repository = tempfile::tempdir().unwrap();
    /// std::fs::create_dir_all(repository.path().join(".git")).unwrap();
    /// std::fs::create_dir_all(repository.path().join("rules/tests")).unwrap();
    /// std::fs::write(repository.path().join("callassign.toml"), "ruleset = \"hubspot\"\n").unwrap();
    /// // From a folder inside the repository, with the paths as seen from there.
    /// let project = Project::discover_from(&repository.path().join("rules/tests"), std::path::Path::new("")).unwrap().unwrap();
    /// assert_eq!(project.file, std::path::Path::new("../../callassign.toml"));
    /// assert_eq!(project.default_rules().unwrap(), std::path::Path::new("../../rules/hubspot.rules"));
    /// ```
    pub fn discover_from(start: &Path, shown: &Path) -> Result<Option<Project>, ProjectError> {
        let mut folder = start.to_path_buf();
        let mut up = shown.to_path_buf();
        loop {
            let file = folder.join(FILE_NAME);
            if file.is_file() {
                return Project::load(&file, &up).map(Some);
            }
            if folder.join(".git").exists() {
                return Ok(None);
            }
            let Some(parent) = folder.parent() else {
                return Ok(None);
            };
            folder = parent.to_path_buf();
            up = up.join("..");
        }
    }

    /// [`Project::discover_from`] the working folder.
    pub fn discover() -> Result<Option<Project>, ProjectError> {
        match std::env::current_dir() {
            Ok(here) => Project::discover_from(&here, Path::new("")),
            Err(_) => Ok(None),
        }
    }

    /// Reads the project file at `path`; `folder` is its folder as paths
    /// are shown (`""` for the working folder).
    pub fn load(path: &Path, folder: &Path) -> Result<Project, ProjectError> {
        let file = folder.join(FILE_NAME);
        let problem = |message: String, help: &str| ProjectError {
            file: file.clone(),
            message,
            help: help.to_string(),
        };
        let text = callassign::files::read_text(path, MAX_PROJECT_BYTES).map_err(|error| {
            let described = error.describe(&file);
            let message = described
                .strip_prefix(&format!("`{}` ", file.display()))
                .unwrap_or(&described)
                .to_string();
            problem(message, "a project file is a few lines of TOML")
        })?;
        let raw: Raw = toml::from_str(&text).map_err(|error| {
            let at = error
                .span()
                .map(|span| {
                    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                    format!(" (line {line})")
                })
                .unwrap_or_default();
            let message = error.message().trim().to_string();
            let help = if message.starts_with("unknown field") {
                "the keys are `rules`, `contexts`, `tests`, `ruleset` and `input`"
            } else {
                "see the example in docs/project-file.md"
            };
            problem(format!("is not a valid project file: {message}{at}"), help)
        })?;
        if let Some(ruleset) = &raw.ruleset {
            if !callassign::syntax::parse::is_name(ruleset) {
                return Err(problem(
                    format!("names `ruleset = \"{ruleset}\"`, which is no ruleset name"),
                    "name a rule file of the rules folder without `.rules`: `ruleset = \"hubspot\"`",
                ));
            }
        }
        let join = |value: Option<String>, default: &str| {
            let value = value.unwrap_or_else(|| default.to_string());
            clean(&folder.join(value))
        };
        Ok(Project {
            file,
            rules: join(raw.rules, "rules"),
            contexts: join(raw.contexts, "contexts"),
            tests: join(raw.tests, "rules/tests"),
            ruleset: raw.ruleset,
            input: raw.input,
        })
    }

    /// The rule file of the project's `ruleset`, if it names one.
    pub fn default_rules(&self) -> Option<PathBuf> {
        self.ruleset
            .as_ref()
            .map(|name| self.rules.join(format!("{name}.rules")))
    }

    /// The context of a rule file: `NAME.yaml`, `NAME.yml` or `NAME.json`
    /// in the contexts folder, for `NAME.rules`, when there is one.
    pub fn context_of(&self, rules: &Path) -> Option<PathBuf> {
        let name = rules.file_stem()?.to_str()?;
        ["yaml", "yml", "json"]
            .iter()
            .map(|extension| self.contexts.join(format!("{name}.{extension}")))
            .find(|path| path.is_file())
    }
}

/// `./rules` → `rules`, `a/../b` left alone: only `.` parts are dropped,
/// so paths read as the user would write them.
fn clean(path: &Path) -> PathBuf {
    let cleaned: PathBuf = path
        .components()
        .filter(|part| *part != std::path::Component::CurDir)
        .collect();
    if cleaned.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Project, ProjectError> {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join(FILE_NAME);
        std::fs::write(&path, text).unwrap();
        Project::load(&path, Path::new(""))
    }

    #[test]
    fn keys_default_and_paths_join_the_project_folder() {
        let project = load("").unwrap();
        assert_eq!(project.rules, Path::new("rules"));
        assert_eq!(project.contexts, Path::new("contexts"));
        assert_eq!(project.tests, Path::new("rules/tests"));
        assert_eq!(project.ruleset, None);
        let project =
            load("rules = \"team/rules\"\nruleset = \"zendesk\"\ninput = \"cloudtalk\"\n").unwrap();
        assert_eq!(
            project.default_rules().unwrap(),
            Path::new("team/rules/zendesk.rules")
        );
        assert_eq!(project.input, Some(InputFormat::CloudTalk));
    }

    #[test]
    fn a_bad_project_file_says_where_and_what() {
        let table = [
            ("rule = \"rules\"\n", "unknown field `rule`", "the keys are"),
            (
                "rules = [\n",
                "is not a valid project file",
                "docs/project-file.md",
            ),
            (
                "ruleset = \"hub spot\"\n",
                "which is no ruleset name",
                "ruleset = \\\"hubspot\\\"",
            ),
            (
                "input = \"csv\"\n",
                "unknown variant `csv`",
                "docs/project-file.md",
            ),
        ];
        for (text, message, help) in table {
            let error = load(text).unwrap_err();
            assert!(error.to_string().contains(message), "{text}: {error}");
            assert!(
                error.to_string().starts_with("`callassign.toml` "),
                "{error}"
            );
            assert!(
                error.help.contains(help.replace("\\\"", "\"").as_str()),
                "{text}: {}",
                error.help
            );
        }
    }
}
