//! `callassign schema call|context|test`: the JSON Schema of a file teams
//! write, for editors and validators.

use std::process::ExitCode;

use super::{CliResult, EXIT_OK};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which file's schema
    #[arg(value_enum)]
    file: SchemaFile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaFile {
    /// A native call (.json, .yaml, or a line of a .jsonl batch)
    Call,
    /// An integration context
    Context,
    /// A rule-test file
    Test,
}

pub fn run(args: Args) -> CliResult {
    out!(
        "{}",
        match args.file {
            SchemaFile::Call => callassign::schema::call(),
            SchemaFile::Context => callassign::schema::context(),
            SchemaFile::Test => callassign::schema::test(),
        }
    );
    Ok(ExitCode::from(EXIT_OK))
}
