//! `callassign check`: findings for rule files, for people and for CI.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use callassign::diagnostics::finding::{sort_and_dedup, Severity};
use callassign::diagnostics::report::{self, Style};
use callassign::semantics::load::Loader;

use super::{
    expand_rule_paths, use_color, CliError, CliResult, FindingFormat, EXIT_OK, EXIT_PROBLEMS,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rule files or folders of rule files [default: rules]
    paths: Vec<PathBuf>,
    /// How to print findings
    #[arg(long, value_enum, default_value_t = FindingFormat::Human)]
    format: FindingFormat,
    /// Fail (exit 1) on warnings too
    #[arg(long)]
    deny_warnings: bool,
}

pub fn run(args: Args) -> CliResult {
    let files = expand_rule_paths(&args.paths)?;
    let mut loader = Loader::new();
    let mut findings = Vec::new();
    for file in &files {
        let compiled = callassign::compile_with(&mut loader, file)
            .map_err(|error| CliError::io(file, &error))?;
        findings.extend(compiled.findings);
    }
    sort_and_dedup(&mut findings);

    match args.format {
        FindingFormat::Human => {
            let style = Style {
                color: use_color(std::io::stdout().is_terminal()),
                width: 100,
            };
            for finding in &findings {
                out!("{}", report::human(finding, style));
            }
            let noun = if files.len() == 1 { "file" } else { "files" };
            eprintln!(
                "checked {} {noun}: {}",
                files.len(),
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
        .any(|finding| finding.severity == Severity::Error || args.deny_warnings);
    Ok(ExitCode::from(if failing {
        EXIT_PROBLEMS
    } else {
        EXIT_OK
    }))
}
