//! `callassign plan`: the resolved steps of a rule file, in order.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;

use super::shared::load_plan;
use super::{CliResult, EXIT_OK};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Human,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The rule file
    file: PathBuf,
    /// Output: numbered steps with their conditions and where each is
    /// written, or JSON for tools
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    format: PlanFormat,
}

pub fn run(args: Args) -> CliResult {
    let plan = load_plan(&args.file)?;
    match args.format {
        PlanFormat::Human => out!("{}", callassign::semantics::plan::render_human(&plan)),
        PlanFormat::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&callassign::semantics::plan::render_json(&plan))
                .expect("plan serializes")
        ),
    }
    Ok(ExitCode::from(EXIT_OK))
}
