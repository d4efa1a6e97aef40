//! What several subcommands share: the arguments that name the rules, the
//! context and the calls, and reading each of them with one error wording.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::Serialize;

use callassign::diagnostics::report;
use callassign::runtime::model::Context;
use callassign::semantics::plan::Plan;

use super::{print_findings_to_stderr, CliError, InputArg, ReportFormat};

/// `--rules`, `--context` and `--input`: what `eval` and `stats` decide
/// calls with.
#[derive(Debug, clap::Args)]
pub struct Deciding {
    /// The rule file
    #[arg(long)]
    pub rules: PathBuf,
    /// The integration context (YAML or JSON)
    #[arg(long)]
    pub context: PathBuf,
    /// What the calls are
    #[arg(long = "input", value_name = "FORMAT", value_enum, default_value_t = InputArg::Native)]
    pub input_format: InputArg,
}

impl Deciding {
    /// The context (its warnings noted on stderr) and the compiled plan.
    pub fn load(&self) -> Result<(Context, Plan), CliError> {
        let context = load_context(&self.context)?;
        let plan = load_plan(&self.rules)?;
        Ok((context, plan))
    }
}

/// Prints a report over a history of calls (`diff`, `stats`).
pub fn print_report(
    format: ReportFormat,
    report: &impl Serialize,
    human: impl FnOnce() -> String,
    markdown: impl FnOnce() -> String,
) {
    match format {
        ReportFormat::Human => out!("{}", human()),
        ReportFormat::Markdown => out!("{}", markdown()),
        ReportFormat::Json => outln!(
            "{}",
            serde_json::to_string_pretty(report).expect("a report serializes")
        ),
    }
}

/// Compiles a rule file for a command that needs its plan; findings in
/// error stop the command with exit status 2.
pub fn load_plan(path: &Path) -> Result<Plan, CliError> {
    let compiled = callassign::compile_file(path).map_err(|error| CliError::io(path, &error))?;
    let mut findings = compiled.findings;
    callassign::diagnostics::finding::sort_and_dedup(&mut findings);
    match compiled.plan {
        Some(plan) => {
            // Warnings do not stop evaluation, but are worth seeing.
            print_findings_to_stderr(&findings);
            Ok(plan)
        }
        None => {
            print_findings_to_stderr(&findings);
            Err(CliError::new(format!(
                "`{}` has errors ({})",
                path.display(),
                report::summary(&findings)
            ))
            .help(format!(
                "run `callassign check {}` for the full report",
                path.display()
            )))
        }
    }
}

/// Reads and validates an integration context and the directories it
/// names; says on stderr what is odd but usable (an installer who left).
pub fn load_context(path: &Path) -> Result<Context, CliError> {
    let context = read_context(path)?;
    for warning in context.warnings() {
        noteln!("warning: {}: {warning}", path.display());
    }
    Ok(context)
}

/// Reads and validates an integration context, leaving its warnings to
/// the caller.
pub fn read_context(path: &Path) -> Result<Context, CliError> {
    Context::load(path).map_err(|problems| {
        let mut message = problems[0].message.clone();
        // The first line names the file; the others need not repeat it.
        let named = format!("`{}`: ", path.display());
        for problem in &problems[1..] {
            let rest = problem
                .message
                .strip_prefix(&named)
                .unwrap_or(&problem.message);
            message.push_str(&format!("\n  also: {rest}"));
        }
        let error = CliError::new(message);
        match problems[0].help.as_str() {
            "" => error,
            help => error.help(help),
        }
    })
}

/// A history of calls: a file, or `-` for stdin.
pub fn open_history(path: &Path) -> Result<Box<dyn BufRead>, CliError> {
    // A history is JSON Lines, native or CloudTalk. A `.json` or YAML file
    // holds one document (a CloudTalk list response, one call): read line
    // by line it would give nothing but unreadable lines.
    let extension = path.extension().and_then(|ext| ext.to_str());
    if let Some(ext @ ("json" | "yaml" | "yml")) = extension.map(str::to_ascii_lowercase).as_deref()
    {
        return Err(CliError::new(format!(
            "`{}` is a `.{ext}` file: a history of calls is JSON Lines, one call or record per line",
            path.display()
        ))
        .help("for a CloudTalk list response: `jq -c '.responseData.data[]' calls.json > calls.jsonl`; `eval` reads a `.json` response as it is"));
    }
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufReader::with_capacity(
            256 * 1024,
            io::stdin().lock(),
        )));
    }
    let file = File::open(path).map_err(|error| CliError::io(path, &error))?;
    Ok(Box::new(BufReader::with_capacity(256 * 1024, file)))
}

/// A history with no line at all is an error, before any report is
/// printed: a CI gate on it would otherwise pass having checked nothing.
/// An empty file, a closed stdin and a forgotten history argument (which
/// reads stdin) all give no line.
pub fn require_some_line(path: &Path, lines: u64) -> Result<(), CliError> {
    if lines > 0 {
        return Ok(());
    }
    let (from, help) = if path.as_os_str() == "-" {
        ("stdin".to_string(), "with no history file (or `-`) the calls are read from stdin, and none came; give the history file, or pipe it in")
    } else {
        (
            format!("`{}`", path.display()),
            "the file is empty; a report on no call would check nothing",
        )
    };
    Err(CliError::new(format!("no call was seen in {from}")).help(help))
}

/// A history in which not one call could be read is an error too, after
/// the report that lists its unreadable lines.
pub fn require_some_call(path: &Path, calls: u64, unreadable: u64) -> Result<(), CliError> {
    if calls == 0 && unreadable > 0 {
        let from = if path.as_os_str() == "-" {
            "stdin".to_string()
        } else {
            format!("`{}`", path.display())
        };
        return Err(CliError::new(format!(
            "no call of {from} could be read ({unreadable} unreadable {})",
            if unreadable == 1 { "line" } else { "lines" }
        ))
        .help("check `--input` (native or cloudtalk) and that the file holds one call or record per line"));
    }
    Ok(())
}

/// Says on stderr that history lines were skipped (the report lists them).
pub fn note_unreadable(lines: u64) {
    match lines {
        0 => {}
        1 => noteln!("note: 1 history line could not be read; the report lists it"),
        many => {
            noteln!("note: {many} history lines could not be read; the report lists the first ones")
        }
    }
}
