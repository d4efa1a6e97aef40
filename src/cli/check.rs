//! `callassign check`: findings for rule files, for people and for CI.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use callassign::diagnostics::finding::{sort_and_dedup, Severity};
use callassign::diagnostics::fix;
use callassign::diagnostics::report::{self, Style};
use callassign::diagnostics::source::Source;
use callassign::diagnostics::terminal::counted;
use callassign::model::context::ContextWarning;
use callassign::model::Context;
use callassign::semantics::compile::compile;
use callassign::semantics::fit::{context_file_findings, context_findings};
use callassign::semantics::load::Loader;

use super::shared::{read_context, read_stdin_rules, RulesFrom};

use super::{
    expand_rule_paths, use_color, CliError, CliResult, FindingFormat, EXIT_OK, EXIT_PROBLEMS,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rule files or folders of rule files, or - for one rule file on stdin [default: rules]
    paths: Vec<PathBuf>,
    /// With -: check stdin as the rule file at this path (`extends`
    /// beside it, named after it) [default: on its own, as `<stdin>`]
    #[arg(long, value_name = "PATH")]
    stdin_filename: Option<PathBuf>,
    /// How to print findings
    #[arg(long, value_enum, default_value_t = FindingFormat::Human)]
    format: FindingFormat,
    /// Fail (exit 1) on warnings too
    #[arg(long)]
    deny_warnings: bool,
    /// Also check the rules against this integration context: fixed users
    /// it lacks, and rules for another integration [default: each rule
    /// file against its context in the project (`callassign.toml`)]
    #[arg(long, value_name = "FILE")]
    context: Option<PathBuf>,
    /// Apply the quick fixes an editor offers (those with one fix: a
    /// did-you-mean, `=` → `==`, a duplicate step removed), rewriting the
    /// files, then report what is left
    #[arg(long)]
    fix: bool,
}

pub fn run(args: Args) -> CliResult {
    let stdin = read_stdin_rules(&args.paths, args.stdin_filename.as_deref())?;
    let files = match &stdin {
        Some(stdin) => vec![stdin.path.clone()],
        None => expand_rule_paths(&args.paths)?,
    };
    if args.fix && stdin.is_some() {
        return Err(
            CliError::new("`--fix` rewrites rule files, and stdin is none")
                .help("save the text to a file and run `check --fix FILE`"),
        );
    }
    if args.fix {
        fix_files(&files)?;
    }
    let mut loader = Loader::with_source(stdin.as_ref().map_or(RulesFrom::Disk, RulesFrom::Stdin));
    let mut findings = Vec::new();
    // Each rule file is checked against `--context`, or else against its
    // own context in the project (`contexts/NAME.yaml`), read once each.
    let project = if args.context.is_none() {
        super::project()?
    } else {
        None
    };
    let mut contexts: Vec<(PathBuf, Context)> = Vec::new();
    for file in &files {
        let context_path = match (&args.context, project) {
            (Some(path), _) => Some(path.clone()),
            (None, Some(project)) => project.context_of(file),
            (None, None) => None,
        };
        let context = match context_path {
            Some(path) => {
                if !contexts.iter().any(|(known, _)| *known == path) {
                    let context = read_context(&path)?;
                    // `user_map` links are reported in the context file,
                    // like any finding; the other warnings as `eval`
                    // gives them.
                    let text = std::fs::read_to_string(&path)
                        .map_err(|error| CliError::io(&path, &error))?;
                    findings.extend(context_file_findings(
                        &context,
                        &Arc::new(Source::from_path(&path, text)),
                    ));
                    for warning in context.warnings() {
                        if !matches!(warning, ContextWarning::UserMapTarget { .. }) {
                            noteln!("warning: {}: {warning}", path.display());
                        }
                    }
                    contexts.push((path.clone(), context));
                }
                contexts.iter().find(|(known, _)| *known == path)
            }
            None => None,
        };
        let chain = loader
            .load_chain(file)
            .map_err(|error| CliError::io(file, &error))?;
        let compiled = compile(&chain);
        if let (Some(plan), Some((path, context))) = (&compiled.plan, context) {
            findings.extend(context_findings(
                &chain,
                plan,
                context,
                &path.display().to_string(),
            ));
        }
        findings.extend(compiled.findings);
    }
    sort_and_dedup(&mut findings);
    if stdin.as_ref().is_some_and(|stdin| stdin.shown == "<stdin>")
        && findings
            .iter()
            .any(|finding| finding.code() == callassign::diagnostics::finding::Code::MissingExtends)
    {
        noteln!("note: stdin is checked on its own; `--stdin-filename rules/NAME.rules` checks it beside the files it extends");
    }

    match args.format {
        FindingFormat::Human => {
            let style = Style {
                color: use_color(std::io::stdout().is_terminal()),
                width: 100,
            };
            for block in report::human_capped(&findings, style) {
                out!("{block}");
            }
            noteln!(
                "checked {}: {}",
                counted(files.len() as u64, "file", "files"),
                report::summary(&findings)
            );
        }
        FindingFormat::Json => outln!("{}", report::json(&findings)),
        FindingFormat::Github => {
            for finding in &findings {
                outln!("{}", report::github(finding));
            }
        }
        FindingFormat::Sarif => outln!("{}", report::sarif(&findings)),
    }

    let failing = findings
        .iter()
        .any(|finding| finding.severity() == Severity::Error || args.deny_warnings);
    Ok(ExitCode::from(if failing {
        EXIT_PROBLEMS
    } else {
        EXIT_OK
    }))
}

/// Applies the quick fixes of the files' findings, rewriting each file
/// whole (a temporary file renamed over it), in rounds until none is left
/// to apply: a fix can uncover another (a misspelt step, then a duplicate).
fn fix_files(files: &[PathBuf]) -> Result<(), CliError> {
    const ROUNDS: usize = 8;
    let mut fixed: Vec<(PathBuf, usize)> = Vec::new();
    for _ in 0..ROUNDS {
        let mut loader = Loader::new();
        let mut findings = Vec::new();
        for file in files {
            let chain = loader
                .load_chain(file)
                .map_err(|error| CliError::io(file, &error))?;
            findings.extend(compile(&chain).findings);
        }
        let mut any = false;
        for file in files {
            let Ok(loaded) = loader.load_chain(file) else {
                continue;
            };
            let Some(leaf) = loaded.files.last() else {
                continue;
            };
            let source = &leaf.source;
            let (text, count) = fix::apply(&source.text, &source.name, &findings);
            if count == 0 || text == *source.text {
                continue;
            }
            // Only text that still reads as rules is written back.
            if callassign::syntax::parse::parse(&Arc::new(Source::new(
                source.name.as_str(),
                text.as_str(),
            )))
            .file
            .is_none()
            {
                continue;
            }
            // A link is fixed where it points, as `fmt` writes it.
            let target = std::fs::canonicalize(file).unwrap_or_else(|_| file.clone());
            callassign::files::write_atomically(&target, text.as_bytes()).map_err(|error| {
                CliError::new(format!(
                    "cannot write `{}`: {error}; the file is unchanged",
                    file.display()
                ))
            })?;
            match fixed.iter_mut().find(|(path, _)| path == file) {
                Some((_, total)) => *total += count,
                None => fixed.push((file.clone(), count)),
            }
            any = true;
        }
        if !any {
            break;
        }
    }
    for (file, count) in &fixed {
        noteln!(
            "fixed {} in `{}`",
            counted(*count as u64, "problem", "problems"),
            file.display()
        );
    }
    Ok(())
}
