//! The man pages: clap_mangen's sections (name, synopsis, description,
//! options, subcommands) from the command definitions, then EXIT STATUS
//! and EXAMPLES, which man readers look for and clap does not know.

use clap::CommandFactory;

use super::Cli;

/// What each exit status means, per command, as docs/commands.md's table says.
fn exit_status(command: &str) -> &'static [(&'static str, &'static str)] {
    match command {
        "callassign" => &[
            ("0", "The command did what was asked and found nothing wrong."),
            ("1", "The command ran and found problems: findings (check), unreadable input lines (eval), failing rule tests (test), unformatted files (fmt --check), calls that change assignee (diff --fail-on-change)."),
            ("2", "Usage, I/O, context or rule-file error: nothing (or not everything) could be done. Each command's page says more."),
        ],
        "check" => &[
            ("0", "No errors (and no warnings with --deny-warnings)."),
            ("1", "Findings."),
            ("2", "Usage or I/O error, a context or project file that cannot be used, a file --fix cannot write (it is left unchanged)."),
        ],
        "eval" => &[
            ("0", "Every call was decided (unassigned counts as decided)."),
            ("1", "Some input lines could not be read; every other line is still written."),
            ("2", "Usage, I/O, context or rule-file error."),
        ],
        "fmt" => &[
            ("0", "Formatted (with --check: already formatted)."),
            ("1", "--check found unformatted files, or a file has syntax errors."),
            ("2", "Usage or I/O error, or a file that could not be read or written (the others are still formatted)."),
        ],
        "plan" => &[
            ("0", "The plan was printed."),
            ("2", "Usage, I/O or rule-file error."),
        ],
        "diff" => &[
            ("0", "Done (with --fail-on-change: no assignee changed); unreadable history lines are listed in the report."),
            ("1", "--fail-on-change and a call changed assignee."),
            ("2", "Usage, I/O, git, context or rule-file error; a native history given as one .json or YAML document, or in which no call could be read."),
        ],
        "stats" => &[
            ("0", "Done; unreadable history lines are listed in the report."),
            ("2", "Usage, I/O, context or rule-file error; a native history given as one .json or YAML document, or in which no call could be read."),
        ],
        "test" => &[
            ("0", "Every case passed."),
            ("1", "A case failed, or could not run."),
            ("2", "A test file could not be run (not valid YAML, a missing file, rule-file errors), or --filter matched no case."),
        ],
        "lsp" => &[
            ("0", "The editor sent shutdown, then exit."),
            ("1", "exit without shutdown, or the editor closed the pipe."),
            ("2", "The editor sent something that is not the protocol's framing, or a message over 8 MiB."),
        ],
        "init" => &[
            ("0", "The project was written (files every integration shares that were there are kept)."),
            ("2", "A file of the integration exists (nothing is written), a name that cannot name a ruleset, or an I/O error."),
        ],
        "explain" => &[
            ("0", "The explanation (or the list of codes) was printed."),
            ("2", "Not a finding code, or an I/O error."),
        ],
        _ => &[
            ("0", "Printed."),
            ("2", "Usage or I/O error."),
        ],
    }
}

/// Examples per command: the command line, then what it does.
fn examples(command: &str) -> &'static [(&'static str, &'static str)] {
    match command {
        "callassign" => &[
            ("callassign init --integration hubspot", "Start a project: rules, rule tests, a context, callassign.toml and a CI job."),
            ("callassign check && callassign test && callassign fmt --check", "What CI runs on a change of the rules."),
            ("callassign eval --explain --format human calls.jsonl", "Who owns each call, and why, with the project's rules and context."),
            ("callassign diff --base origin/main rules/hubspot.rules calls.jsonl", "What a rule change does to real calls."),
        ],
        "check" => &[
            ("callassign check", "Every rule file of the project (rules/), each against its context."),
            ("callassign check --format github --deny-warnings rules", "Annotations for GitHub Actions; warnings fail too."),
            ("callassign check --context contexts/hubspot.yaml rules/hubspot.rules", "Also against the integration's users."),
            ("callassign check --fix", "Apply the quick fixes an editor offers, then report the rest."),
            ("generate-rules | callassign check --stdin-filename rules/x.rules -", "A rule file from stdin, as if it were rules/x.rules."),
        ],
        "eval" => &[
            ("callassign eval --rules rules/hubspot.rules --context contexts/hubspot.yaml calls.jsonl", "One assignment line per call, JSON Lines."),
            ("callassign eval --explain --format human call.json", "One call with every step tried and why (rules and context from callassign.toml)."),
            ("export-calls | callassign eval --jobs 4 - > assignments.jsonl", "A batch from stdin on four threads."),
            ("callassign eval --input cloudtalk calls.json", "A saved CloudTalk response, one line per record, then a summary."),
        ],
        "fmt" => &[
            ("callassign fmt", "Rewrite every rule file of the project in canonical layout."),
            ("callassign fmt --check rules", "Change nothing; show a diff of what is not formatted, exit 1 if anything is."),
            ("callassign fmt --stdout - < rules/hubspot.rules", "Print the formatted text of stdin (for editors)."),
        ],
        "plan" => &[
            ("callassign plan rules/pipedrive.rules", "The resolved steps, each with the file and line that wrote it."),
            ("callassign plan --format json rules/hubspot.rules", "The same as data."),
        ],
        "diff" => &[
            ("callassign diff rules/hubspot.rules rules/hubspot-new.rules calls.jsonl", "Two rule files on one history."),
            ("callassign diff --base origin/main --format markdown rules/hubspot.rules calls.jsonl", "A pull request against its base branch, as a comment."),
            ("callassign diff --base origin/main --fail-on-change rules/hubspot.rules calls.jsonl", "A CI gate: exit 1 when any call changes assignee."),
        ],
        "stats" => &[
            ("callassign stats calls.jsonl", "How often each step decides, and the dead rules."),
            ("callassign stats --format markdown --input cloudtalk calls.json", "A CloudTalk response, as Markdown."),
        ],
        "test" => &[
            ("callassign test", "Every rule test of the project (rules/tests)."),
            ("callassign test --format junit > rule-tests.xml", "JUnit XML for a CI test reporter."),
            ("callassign test --filter \"missed call\"", "Only the cases whose name contains the text."),
        ],
        "lsp" => &[
            ("callassign lsp", "Started by an editor, which speaks LSP on stdin and stdout; see editors/README.md."),
        ],
        "init" => &[
            ("callassign init --integration hubspot", "Start a project in the current folder."),
            ("callassign init --integration zendesk", "Add an integration to it; the shared files are kept."),
        ],
        "explain" => &[
            ("callassign explain", "Every finding code, with its severity."),
            ("callassign explain unreachable_step", "What the code means, how to fix it, and its example run live."),
        ],
        "schema" => &[("callassign schema test > schema/test.schema.json", "The JSON Schema of rule-test files, for an editor.")],
        "completions" => &[("callassign completions bash > ~/.local/share/bash-completion/completions/callassign", "Completion for bash.")],
        "man" => &[
            ("callassign man | man -l -", "Read this page."),
            ("callassign man --out-dir ~/.local/share/man/man1", "Install a page per command."),
        ],
        "print-default" => &[("callassign print-default > rules/default.rules", "Start from a copy of the built-in default.")],
        _ => &[],
    }
}

/// Text in roff: backslashes and hyphens escaped, and a line never
/// starting with a control character.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// The EXIT STATUS and EXAMPLES sections of a command's page.
fn extra_sections(command: &str) -> String {
    let mut roff = String::from(".SH \"EXIT STATUS\"\n");
    for (code, meaning) in exit_status(command) {
        roff.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", roff_text(meaning)));
    }
    let examples = examples(command);
    if !examples.is_empty() {
        roff.push_str(".SH EXAMPLES\n");
        for (line, what) in examples {
            roff.push_str(&format!(
                ".TP\n\\fB{}\\fR\n{}\n",
                roff_text(line),
                roff_text(what)
            ));
        }
    }
    roff
}

/// One page: clap_mangen's sections, then ours before VERSION.
fn page(command: clap::Command, name: &str) -> std::io::Result<Vec<u8>> {
    let man = clap_mangen::Man::new(command.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    if command.get_arguments().any(|arg| !arg.is_hide_set()) {
        man.render_options_section(&mut out)?;
    }
    if command.has_subcommands() {
        man.render_subcommands_section(&mut out)?;
    }
    if command.get_after_long_help().is_some() || command.get_after_help().is_some() {
        man.render_extra_section(&mut out)?;
    }
    out.extend_from_slice(extra_sections(name).as_bytes());
    if command.get_version().is_some() || command.get_long_version().is_some() {
        man.render_version_section(&mut out)?;
    }
    Ok(out)
}

/// The main page, `callassign.1`.
pub fn main_page() -> std::io::Result<Vec<u8>> {
    page(Cli::command(), "callassign")
}

/// Every page: `callassign.1`, then `callassign-COMMAND.1` for each
/// command, as (file name, roff).
pub fn pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let mut pages = vec![(
        "callassign.1".to_string(),
        page(command.clone(), "callassign")?,
    )];
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        let name = sub.get_name().to_string();
        let file = format!(
            "{}.1",
            sub.get_display_name()
                .unwrap_or(&format!("callassign-{name}"))
        );
        pages.push((file, page(sub.clone(), &name)?));
    }
    Ok(pages)
}
