//! `callassign diff`: what a rule change does to a history of calls.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use callassign::impact::diff::{Comparison, Names};
use callassign::impact::history::Unreadable;
use callassign::runtime::evaluate::Engine;
use callassign::semantics::compile::compile;
use callassign::semantics::load::{GitRevision, Loader, RULE_EXTENSION};
use callassign::semantics::plan::Plan;

use super::shared::{
    context_for, input_or_project, load_context, load_plan, note_unreadable, open_history,
    print_report, require_some_call, require_some_line,
};
use super::{
    print_findings_to_stderr, CliError, CliResult, InputArg, ReportFormat, EXIT_OK, EXIT_PROBLEMS,
};

/// How `diff` is called, shown in `--help` and usage errors.
pub const USAGE: &str =
    "callassign diff [--context <FILE>] [OPTIONS] OLD.rules NEW.rules [CALLS.jsonl]
       callassign diff [--context <FILE>] [OPTIONS] --base <REV> NEW.rules [CALLS.jsonl]";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// OLD.rules NEW.rules, then the calls (JSON Lines, `-` or nothing for stdin;
    /// with `--input cloudtalk`, also a `.json` response).
    /// With --base, only NEW.rules and the calls
    #[arg(value_name = "FILE", required = true, num_args = 1..=3)]
    files: Vec<PathBuf>,
    /// Read the old rules from this git revision of NEW.rules (and the files it extends)
    #[arg(long, value_name = "REV")]
    base: Option<String>,
    /// The integration context (YAML or JSON) [default: the project's context of NEW.rules]
    #[arg(long, value_name = "FILE")]
    context: Option<PathBuf>,
    /// What the calls are [default: the project's `input`, else native]
    #[arg(long, value_name = "FORMAT", value_enum)]
    input: Option<InputArg>,
    /// How to print the report
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    format: ReportFormat,
    /// How many assignee-to-assignee moves to list
    #[arg(long, value_name = "N", default_value_t = 10)]
    top: usize,
    /// Exit 1 when any call changes assignee (for CI gates)
    #[arg(long)]
    fail_on_change: bool,
}

pub fn run(args: Args) -> CliResult {
    let (old_path, new_path, calls_path) = split_files(&args)?;
    let input = input_or_project(args.input);
    let context = load_context(&context_for(args.context.as_deref(), &new_path)?)?;
    let (old_plan, old_name) = match &args.base {
        Some(revision) => plan_at_revision(&new_path, revision)?,
        None => {
            let old_path = old_path.expect("split_files gives OLD without --base");
            (load_plan(&old_path)?, old_path.display().to_string())
        }
    };
    let new_plan = load_plan(&new_path)?;
    // Both plans decide with one context, shared rather than copied.
    let context = std::sync::Arc::new(context);
    let old = Engine::new(old_plan, context.clone());
    let new = Engine::new(new_plan, context);
    let names = Names {
        old: old_name,
        new: new_path.display().to_string(),
    };
    let history = open_history(&calls_path, input)?;
    let mut comparison = Comparison::new(&old, &new);
    let mut unreadable = Unreadable::default();
    // Both engines see one context: a history is read once.
    history.for_each_call(&calls_path, input, new.context(), &mut unreadable, |call| {
        comparison.add(call)
    })?;
    let mut report = comparison.finish(names, unreadable);
    report.keep_top_assignee_moves(args.top);
    require_some_line(&calls_path, report.calls + report.unreadable.lines)?;
    print_report(
        args.format,
        &report,
        || report.render_human(),
        || report.render_markdown(),
    );
    let moved = args.fail_on_change && report.anything_moves();
    if moved {
        let calls = match report.reassigned {
            1 => "1 call changes".to_string(),
            many => format!(
                "{} calls change",
                callassign::diagnostics::terminal::thousands(many)
            ),
        };
        noteln!("{calls} assignee (--fail-on-change)");
    }
    note_unreadable(report.unreadable.lines);
    require_some_call(&calls_path, report.calls, report.unreadable.lines)?;
    // Exit 1 means one thing only, so a CI gate can rely on it: a call
    // changes assignee. Unreadable history lines are listed in the report.
    Ok(ExitCode::from(if moved { EXIT_PROBLEMS } else { EXIT_OK }))
}

/// OLD, NEW and the history, from the positional arguments.
fn split_files(args: &Args) -> Result<(Option<PathBuf>, PathBuf, PathBuf), CliError> {
    let stdin = PathBuf::from("-");
    let usage = |message: String| CliError::new(message).help(format!("usage: {USAGE}"));
    let (old, new, calls) = match (&args.base, args.files.as_slice()) {
        (None, [old, new]) => (Some(old.clone()), new.clone(), stdin),
        (None, [old, new, calls]) => (Some(old.clone()), new.clone(), calls.clone()),
        (None, _) => {
            return Err(usage(
                "give the old and the new rule file, or `--base REV` and the new one".into(),
            ))
        }
        (Some(_), [new]) => (None, new.clone(), stdin),
        (Some(_), [new, calls]) => (None, new.clone(), calls.clone()),
        (Some(revision), _) => {
            return Err(usage(format!(
                "with `--base {revision}` give only the new rule file and the calls"
            )))
        }
    };
    if calls.extension().is_some_and(|ext| ext == RULE_EXTENSION) {
        return Err(CliError::new(format!(
            "`{}` is a rule file, but the calls to evaluate go there",
            calls.display()
        ))
        .help(format!("usage: {USAGE}")));
    }
    Ok((old, new, calls))
}

/// Compiles a rule file as it was at a git revision, with the files it
/// extends as they were then, read from git's object store by the same
/// loader as files on disk. Returns the plan and what reports call it:
/// `origin/main:rules/hubspot.rules`.
fn plan_at_revision(path: &Path, revision: &str) -> Result<(Plan, String), CliError> {
    let (source, relative) = GitRevision::of_file(path, revision)?;
    let name = source.spec(&relative);
    let compiled = match Loader::with_source(&source).load_chain(&relative) {
        Ok(chain) => compile(&chain),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(CliError::new(format!(
                "`{}` did not exist at `{revision}`",
                relative.display()
            ))
            .help("a new rule file has nothing to compare with; compare it with another one: `callassign diff OTHER.rules NEW.rules …`"));
        }
        Err(error) => {
            return Err(CliError::new(format!("cannot read `{name}`: {error}"))
                .help("`--base` reads the old rules from git; check that git works here"))
        }
    };
    match compiled.plan {
        Some(plan) => Ok((plan, name)),
        None => {
            let mut findings = compiled.findings;
            callassign::diagnostics::finding::sort_and_dedup(&mut findings);
            print_findings_to_stderr(&findings);
            Err(CliError::new(format!(
                "`{}` has errors at `{revision}`",
                relative.display()
            ))
            .help("the old rules must compile to be compared; give an older `--base`, or the old rule file as a path"))
        }
    }
}
