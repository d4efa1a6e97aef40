//! `callassign stats`: how often each step of a rule file decides.

use std::path::PathBuf;
use std::process::ExitCode;

use callassign::impact::history::Unreadable;
use callassign::impact::stats::Tally;
use callassign::runtime::evaluate::Engine;

use super::shared::{
    note_unreadable, open_history, print_report, require_some_call, require_some_line, Deciding,
};
use super::{CliResult, ReportFormat, EXIT_OK};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    deciding: Deciding,
    /// The calls: JSON Lines, or - for stdin; with `--input cloudtalk`, also a `.json` response
    #[arg(default_value = "-")]
    input: PathBuf,
    /// How to print the report
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    format: ReportFormat,
}

pub fn run(args: Args) -> CliResult {
    let (context, plan) = args.deciding.load()?;
    let evaluator = Engine::new(plan, context);
    let history = open_history(&args.input, args.deciding.input_format())?;
    let mut tally = Tally::new(&evaluator);
    let mut unreadable = Unreadable::default();
    history.for_each_call(
        &args.input,
        args.deciding.input_format(),
        evaluator.context(),
        &mut unreadable,
        |call| tally.add(call),
    )?;
    let report = tally.finish(unreadable);
    require_some_line(&args.input, report.calls + report.unreadable.lines)?;
    print_report(
        args.format,
        &report,
        || report.render_human(),
        || report.render_markdown(),
    );
    note_unreadable(report.unreadable.lines);
    require_some_call(&args.input, report.calls, report.unreadable.lines)?;
    Ok(ExitCode::from(EXIT_OK))
}
