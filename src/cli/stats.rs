//! `callassign stats`: how often each step of a rule file decides.

use std::path::PathBuf;
use std::process::ExitCode;

use callassign::runtime::evaluate::Evaluator;

use super::diff::open_history;
use super::eval::load_context;
use super::{load_plan, CliError, CliResult, InputArg, ReportFormat, EXIT_OK};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The rule file
    #[arg(long)]
    rules: PathBuf,
    /// The integration context (YAML or JSON)
    #[arg(long)]
    context: PathBuf,
    /// The calls: JSON Lines, or - for stdin
    #[arg(default_value = "-")]
    input: PathBuf,
    /// What the calls are
    #[arg(long = "input", value_name = "FORMAT", value_enum, default_value_t = InputArg::Native)]
    input_format: InputArg,
    /// How to print the report
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    format: ReportFormat,
}

pub fn run(args: Args) -> CliResult {
    let context = load_context(&args.context)?;
    let plan = load_plan(&args.rules)?;
    let evaluator = Evaluator::new(&plan, &context);
    let input = open_history(&args.input)?;
    let report = callassign::impact::stats::tally(&evaluator, input, args.input_format.into())
        .map_err(|error| {
            CliError::new(format!("cannot read `{}`: {error}", args.input.display()))
        })?;
    match args.format {
        ReportFormat::Human => out!("{}", report.render_human()),
        ReportFormat::Markdown => out!("{}", report.render_markdown()),
        ReportFormat::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&report).expect("a report serializes")
        ),
    }
    super::diff::note_unreadable(report.unreadable.lines);
    Ok(ExitCode::from(EXIT_OK))
}
