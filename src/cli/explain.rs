//! `callassign explain [CODE]`: what a finding code means, why it
//! matters, how to fix it, and its example run live; without a code, the
//! list of codes.

use std::path::Path;
use std::process::ExitCode;

use callassign::diagnostics::explain::{explain, Example};
use callassign::diagnostics::finding::{sort_and_dedup, Code, Finding};
use callassign::diagnostics::problem::ProblemCode;
use callassign::diagnostics::report::{self, Style};
use callassign::diagnostics::suggest::did_you_mean;
use callassign::model::Context;
use callassign::semantics::compile::compile;
use callassign::semantics::fit::context_findings;
use callassign::semantics::load::{Loader, Overlay};

use super::{CliError, CliResult, EXIT_OK};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A finding code: `unknown_step` or `callassign::unknown_step` [default: list every code]
    code: Option<String>,
}

pub fn run(args: Args) -> CliResult {
    let Some(written) = args.code else {
        for code in Code::ALL {
            let text = explain(code).text;
            let paragraph = text.split("\n\n").next().unwrap_or(text);
            let first = paragraph.split(". ").next().unwrap_or(paragraph);
            outln!(
                "{:<40} {:<8} {}",
                code.as_str(),
                code.severity().as_str(),
                first.trim_end_matches('.')
            );
        }
        return Ok(ExitCode::from(EXIT_OK));
    };
    // A problem code (a context, a rule test, a command's input) is not a
    // finding of a rule file, but it is a code a user may meet and ask about.
    let short = written.trim().trim_start_matches("callassign::");
    if let Some(problem) = ProblemCode::from_name(&format!("callassign::{short}")) {
        outln!("{problem} (an error outside rule files)\n");
        outln!("{}", wrap(problem.explanation(), 80));
        return Ok(ExitCode::from(EXIT_OK));
    }
    let code = Code::from_written(written.trim()).ok_or_else(|| {
        let short = written.trim().trim_start_matches("callassign::");
        let error = CliError::new(format!("`{written}` is not a finding code"));
        match did_you_mean(short, Code::ALL.map(Code::short)) {
            Some(suggestion) => error.help(format!("did you mean `{suggestion}`?")),
            None => error.help("`callassign explain` lists every code"),
        }
    })?;
    let explanation = explain(code);
    outln!("{} ({})\n", code.as_str(), code.severity().as_str());
    for paragraph in explanation.text.split("\n\n") {
        outln!("{}\n", wrap(paragraph, 80));
    }
    match explanation.example {
        Example::Described(text) => outln!("Example: {}", wrap(text, 80)),
        Example::Rules {
            files,
            fixed,
            context,
        } => {
            let (name, text) = files[0];
            outln!("Example: rules/{name}\n{}", indent(text));
            for (other, text) in &files[1..] {
                outln!("\nbeside it, {other}\n{}", indent(text));
            }
            let command = match context {
                Some(context) => {
                    outln!("\nand the context hubspot.yaml\n{}", indent(context));
                    format!("callassign check --context hubspot.yaml rules/{name}")
                }
                None => format!("callassign check rules/{name}"),
            };
            let found = run_example(files, files[0].1, context);
            outln!("\n`{command}` says:\n");
            let style = Style {
                color: false,
                width: 100,
            };
            for finding in found.iter().filter(|finding| finding.code() == code) {
                out!("{}", report::human(finding, style));
            }
            if let Some(fixed) = fixed {
                outln!("\nFixed:\n{}", indent(fixed));
                let left = run_example(files, fixed, context);
                if left.is_empty() {
                    outln!("`{command}` finds nothing in it.");
                } else {
                    outln!("`{command}` still says: {}", report::summary(&left));
                    for finding in &left {
                        out!("{}", report::human(finding, style));
                    }
                }
            }
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// The findings `check` gives the example's first file, with `first` as
/// its text and the other files beside it, against the context if any.
fn run_example(
    files: &[(&'static str, &'static str)],
    first: &str,
    context: Option<&str>,
) -> Vec<Finding> {
    // In a folder, as on disk: files at the root of an in-memory source
    // have no folder to be inside.
    let folder = Path::new("rules");
    let mut documents = Overlay::in_memory();
    documents.open(folder.join(files[0].0), first);
    for (name, text) in &files[1..] {
        documents.open(folder.join(name), *text);
    }
    let Ok(chain) = Loader::with_source(documents).load_chain(&folder.join(files[0].0)) else {
        return Vec::new();
    };
    let compiled = compile(&chain);
    let mut findings = compiled.findings;
    if let (Some(plan), Some(context)) = (&compiled.plan, context) {
        if let Ok(context) = Context::from_yaml(context) {
            findings.extend(context_findings(&chain, plan, &context, "hubspot.yaml"));
        }
    }
    sort_and_dedup(&mut findings);
    findings
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Words of `text` in lines of at most `width` characters (a longer word
/// has a line of its own).
fn wrap(text: &str, width: usize) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines.join("\n")
}
