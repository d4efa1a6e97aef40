//! `callassign lsp`: the language server, for editors to start.

use std::process::ExitCode;

use crate::lsp::{serve_stdio, Ending};

use super::{CliError, CliResult, EXIT_OK, EXIT_PROBLEMS};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Accepted for editors that pass it; stdio is the only transport
    #[arg(long)]
    stdio: bool,
}

pub fn run(_args: Args) -> CliResult {
    match serve_stdio() {
        Ok(Ending::Clean) => Ok(ExitCode::from(EXIT_OK)),
        // The protocol asks for status 1 on `exit` without `shutdown`.
        Ok(Ending::Abrupt) => Ok(ExitCode::from(EXIT_PROBLEMS)),
        Err(error) => Err(CliError::new(format!("language server stopped: {error}"))
            .help("the editor sent something that is not the language server protocol")),
    }
}
