//! `callassign completions SHELL` and `callassign man`: shell completion
//! scripts and man pages, generated from the same command definitions that
//! parse the arguments, so they cannot fall behind.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::CommandFactory;

use super::{Cli, CliError, CliResult, EXIT_OK};

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write `callassign.1` and a page per subcommand into DIR instead of
    /// printing the main page
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

pub fn completions(args: CompletionsArgs) -> CliResult {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "callassign", &mut script);
    out!("{}", String::from_utf8_lossy(&script));
    Ok(ExitCode::from(EXIT_OK))
}

pub fn man(args: ManArgs) -> CliResult {
    match args.out_dir {
        Some(dir) => {
            let pages = super::man::pages()
                .map_err(|error| CliError::new(format!("cannot render the man pages: {error}")))?;
            if std::fs::metadata(&dir).is_ok_and(|metadata| !metadata.is_dir()) {
                return Err(CliError::new(format!("`{}` is not a folder", dir.display()))
                    .help("`--out-dir` names the folder the pages go into (made if missing), such as `~/.local/share/man/man1`"));
            }
            std::fs::create_dir_all(&dir).map_err(|error| {
                CliError::new(format!(
                    "cannot make the folder `{}`: {error}",
                    dir.display()
                ))
            })?;
            write_all_or_nothing(&dir, &pages).map_err(|error| {
                CliError::new(format!(
                    "cannot write man pages to `{}`: {error}; no page was written",
                    dir.display()
                ))
            })?;
            noteln!("wrote {} man pages to {}", pages.len(), dir.display());
        }
        None => {
            let page = super::man::main_page()
                .map_err(|error| CliError::new(format!("cannot render the man page: {error}")))?;
            out!("{}", String::from_utf8_lossy(&page));
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// Writes the pages into `dir` all or nothing: a page that cannot be
/// written must not leave the others of this version beside those of an
/// older one. Each is written to a staging folder inside `dir` first, and
/// only once all are written (and no page's place is taken by a folder or
/// anything else that is not a file) are they moved into place.
fn write_all_or_nothing(dir: &Path, pages: &[(String, Vec<u8>)]) -> std::io::Result<()> {
    for (name, _) in pages {
        let target = dir.join(name);
        match std::fs::symlink_metadata(&target) {
            Ok(metadata) if !metadata.is_file() => {
                return Err(std::io::Error::other(format!(
                    "`{}` is in the way: it is not a file",
                    target.display()
                )))
            }
            _ => {}
        }
    }
    let staging = dir.join(format!(".callassign-man-{}", std::process::id()));
    std::fs::create_dir(&staging)?;
    let staged = pages.iter().try_for_each(|(name, page)| {
        let mut file = std::fs::File::create(staging.join(name))?;
        file.write_all(page)?;
        file.sync_all()
    });
    let moved = staged.and_then(|()| {
        pages
            .iter()
            .try_for_each(|(name, _)| std::fs::rename(staging.join(name), dir.join(name)))
    });
    let _ = std::fs::remove_dir_all(&staging);
    moved
}
