//! Which rulesets there are to serve: every `NAME.rules` directly in the
//! rules folder, each with its context `NAME.yaml` (or `.yml`, `.json`)
//! from the contexts folder; or the one rule file and context given.

use std::fs;
use std::path::{Path, PathBuf};

use crate::cli::CliError;

/// Where the rules and contexts come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// `--rules DIR --contexts DIR`.
    Folder { rules: PathBuf, contexts: PathBuf },
    /// `--rules FILE --context FILE`.
    File { rules: PathBuf, context: PathBuf },
}

/// A rule file found, and its context if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The file's stem, which the checker requires to be its ruleset name.
    pub name: String,
    pub rules: PathBuf,
    pub context: Result<PathBuf, String>,
}

/// The extensions a context may have, in the order looked for.
const CONTEXT_EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

impl Source {
    /// Refuses what cannot work at all: a folder that is a file, a missing
    /// path.
    pub fn check(&self) -> Result<(), CliError> {
        let expect = |path: &Path, folder: bool, flag: &str| -> Result<(), CliError> {
            let metadata = fs::metadata(path).map_err(|error| CliError::io(path, &error))?;
            match (folder, metadata.is_dir()) {
                (true, false) => Err(CliError::new(format!(
                    "`{}` is not a folder",
                    path.display()
                ))
                .help(format!(
                    "{flag} names a folder; to serve one rule file, use `--rules FILE --context FILE`"
                ))),
                (false, true) => Err(CliError::new(format!("`{}` is a folder", path.display()))
                    .help(format!(
                        "{flag} names a file; to serve a folder, use `--rules DIR --contexts DIR`"
                    ))),
                _ => Ok(()),
            }
        };
        match self {
            Source::Folder { rules, contexts } => {
                expect(rules, true, "with --contexts, --rules")?;
                expect(contexts, true, "--contexts")
            }
            Source::File { rules, context } => {
                expect(rules, false, "with --context, --rules")?;
                expect(context, false, "--context")
            }
        }
    }

    /// The folder rule files live in: what `POST /v1/check` sees beside
    /// the files it is sent.
    pub fn rules_folder(&self) -> PathBuf {
        match self {
            Source::Folder { rules, .. } => rules.clone(),
            Source::File { rules, .. } => rules
                .parent()
                .filter(|parent| !parent.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf(),
        }
    }

    /// The rule files there are now, sorted by name. A folder that cannot
    /// be read gives none (what is served keeps serving).
    pub fn scan(&self) -> Vec<Candidate> {
        match self {
            Source::File { rules, context } => vec![Candidate {
                name: rules
                    .file_stem()
                    .map(|stem| stem.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                rules: rules.clone(),
                context: Ok(context.clone()),
            }],
            Source::Folder { rules, contexts } => {
                let mut found: Vec<Candidate> = rule_files(rules)
                    .into_iter()
                    .map(|(name, path)| {
                        let context = context_for(contexts, &name);
                        Candidate {
                            name,
                            rules: path,
                            context,
                        }
                    })
                    .collect();
                found.sort_by(|a, b| a.name.cmp(&b.name));
                found
            }
        }
    }
}

/// The `.rules` files directly in `folder` (following links), by stem.
fn rule_files(folder: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = fs::read_dir(folder) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let path = entry.path();
            if path.extension()? != "rules" || !fs::metadata(&path).ok()?.is_file() {
                return None;
            }
            let name = path.file_stem()?.to_str()?.to_string();
            // Editors' hidden temporaries (`.hubspot.rules.swp` has another
            // extension; `.#x.rules` is a lock link).
            (!name.starts_with('.')).then_some((name, path))
        })
        .collect()
}

/// The context of ruleset `name`: exactly one of `NAME.yaml`, `NAME.yml`,
/// `NAME.json` in `folder`.
fn context_for(folder: &Path, name: &str) -> Result<PathBuf, String> {
    let found: Vec<PathBuf> = CONTEXT_EXTENSIONS
        .iter()
        .map(|extension| folder.join(format!("{name}.{extension}")))
        .filter(|path| fs::metadata(path).is_ok())
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(format!(
            "no context: `{}` is not there",
            folder.join(format!("{name}.yaml")).display()
        )),
        several => Err(format!(
            "{} contexts, {}: keep one",
            several.len(),
            several
                .iter()
                .map(|path| format!("`{}`", path.display()))
                .collect::<Vec<_>>()
                .join(" and ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_offers_each_rule_file_with_its_context() {
        let dir = tempfile::tempdir().unwrap();
        let rules = dir.path().join("rules");
        let contexts = dir.path().join("contexts");
        fs::create_dir_all(rules.join("tests")).unwrap();
        fs::create_dir_all(&contexts).unwrap();
        for name in ["default", "hubspot", "zendesk", "pipedrive"] {
            fs::write(rules.join(format!("{name}.rules")), "").unwrap();
        }
        fs::write(rules.join("tests/nested.rules"), "").unwrap();
        fs::write(rules.join("notes.txt"), "").unwrap();
        fs::write(contexts.join("hubspot.yaml"), "").unwrap();
        fs::write(contexts.join("zendesk.json"), "").unwrap();
        fs::write(contexts.join("pipedrive.yaml"), "").unwrap();
        fs::write(contexts.join("pipedrive.yml"), "").unwrap();

        let found = Source::Folder {
            rules: rules.clone(),
            contexts: contexts.clone(),
        }
        .scan();
        let names: Vec<&str> = found.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["default", "hubspot", "pipedrive", "zendesk"]);
        assert!(found[0]
            .context
            .as_ref()
            .unwrap_err()
            .starts_with("no context"));
        assert_eq!(found[1].context, Ok(contexts.join("hubspot.yaml")));
        assert!(found[2].context.as_ref().unwrap_err().contains("keep one"));
        assert_eq!(found[3].context, Ok(contexts.join("zendesk.json")));
    }
}
