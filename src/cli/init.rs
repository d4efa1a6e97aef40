//! `callassign init [--integration NAME] [DIR]`: write the starting project
//! of `crate::scaffold`, refusing to overwrite anything; the files
//! every integration shares are kept when they are there, so a second
//! integration can be added to a project.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::scaffold::{self, DEFAULT_INTEGRATION};

use super::{CliError, CliResult, EXIT_OK};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The integration the rules are for; names the rule, test and context files
    #[arg(long, value_name = "NAME", default_value = DEFAULT_INTEGRATION)]
    integration: String,
    /// The repository to write into (`rules/`, `contexts/` and
    /// `.github/workflows/` inside it) [default: .]
    dir: Option<PathBuf>,
}

pub fn run(args: Args) -> CliResult {
    // Paths are shown as the user would type them: `rules/…` in the
    // current folder, `DIR/rules/…` elsewhere.
    let place = |relative: &PathBuf| match &args.dir {
        Some(dir) => dir.join(relative),
        None => relative.clone(),
    };
    let files = scaffold::project(&args.integration)
        .map_err(|bad| CliError::new(bad.message).help(bad.help))?;
    // A file every integration shares (the CI job, the project file) that
    // is there already is kept: adding an integration to a project works.
    let (kept, files): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|file| file.shared && place(&file.path).symlink_metadata().is_ok());
    // Nothing is written unless everything can be: a half-written project
    // would be worse than none.
    let existing: Vec<String> = files
        .iter()
        .map(|file| place(&file.path))
        .filter(|path| path.symlink_metadata().is_ok())
        .map(|path| format!("`{}`", path.display()))
        .collect();
    if !existing.is_empty() {
        let verb = if existing.len() == 1 {
            "exists"
        } else {
            "exist"
        };
        return Err(CliError::new(format!(
            "{} already {verb}; `init` overwrites nothing",
            existing.join(", ")
        ))
        .help("move it away, or run `init` with another `--integration` or folder"));
    }
    // Written as one: on any failure, the files written and the folders
    // created so far are removed again, so a second `init` can succeed.
    let mut created_folders: Vec<PathBuf> = Vec::new();
    let mut written: Vec<PathBuf> = Vec::new();
    let result = (|| -> Result<(), CliError> {
        for file in &files {
            let path = place(&file.path);
            if let Some(folder) = path
                .parent()
                .filter(|folder| !folder.as_os_str().is_empty())
            {
                let missing: Vec<PathBuf> = folder
                    .ancestors()
                    .take_while(|ancestor| {
                        !ancestor.as_os_str().is_empty() && ancestor.symlink_metadata().is_err()
                    })
                    .map(PathBuf::from)
                    .collect();
                std::fs::create_dir_all(folder).map_err(|error| {
                    CliError::new(format!("cannot create `{}`: {error}", folder.display()))
                })?;
                created_folders.extend(missing.into_iter().rev());
            }
            // `create_new` keeps the promise even if a file appeared meanwhile.
            let mut out = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|error| {
                    CliError::new(format!("cannot write `{}`: {error}", path.display()))
                })?;
            written.push(path.clone());
            std::io::Write::write_all(&mut out, file.text.as_bytes()).map_err(|error| {
                CliError::new(format!("cannot write `{}`: {error}", path.display()))
            })?;
        }
        Ok(())
    })();
    if let Err(error) = result {
        for path in &written {
            let _ = std::fs::remove_file(path);
        }
        for folder in created_folders.iter().rev() {
            let _ = std::fs::remove_dir(folder);
        }
        return Err(error.help("nothing was left behind; fix the cause and run `init` again"));
    }
    for path in &written {
        outln!("created {}", path.display());
    }
    for file in &kept {
        outln!(
            "kept {} (already there; it serves every integration of the project)",
            place(&file.path).display()
        );
    }
    let context = files
        .iter()
        .find(|file| file.path.starts_with("contexts"))
        .map(|file| place(&file.path));
    let enter = match &args.dir {
        Some(dir) if dir.as_os_str() != "." => {
            format!("cd {} && ", shell_word(&dir.display().to_string()))
        }
        _ => String::new(),
    };
    outln!(
        "\nnext: list the users of {} in {}, then run\n  {enter}callassign check && callassign test",
        args.integration,
        context.unwrap_or_default().display()
    );
    let workflow = written
        .iter()
        .find(|path| path.ends_with(".github/workflows/callassign.yml"));
    if let (Some(workflow), true) = (workflow, scaffold::REPOSITORY.contains("/OWNER/")) {
        outln!(
            "note: {} builds callassign from {}, a placeholder until callassign is published: set CALLASSIGN_GIT there to where you get it",
            workflow.display(),
            scaffold::REPOSITORY
        );
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// `text` as one word a shell reads back as itself: as is when plain,
/// else in single quotes.
fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"_./-+:@".contains(&byte));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}
