//! `callassign completions SHELL` and `callassign man`: shell completion
//! scripts and man pages, generated from the same command definitions that
//! parse the arguments, so they cannot fall behind.

use std::path::PathBuf;
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
            std::fs::create_dir_all(&dir).map_err(|error| CliError::io(&dir, &error))?;
            for (name, page) in pages {
                let path = dir.join(name);
                std::fs::write(&path, page).map_err(|error| {
                    CliError::new(format!(
                        "cannot write man pages to `{}`: {error}",
                        dir.display()
                    ))
                })?;
            }
            noteln!("wrote man pages to {}", dir.display());
        }
        None => {
            let page = super::man::main_page()
                .map_err(|error| CliError::new(format!("cannot render the man page: {error}")))?;
            out!("{}", String::from_utf8_lossy(&page));
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}
