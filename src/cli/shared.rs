//! What several subcommands share: the arguments that name the rules, the
//! context and the calls, and reading each of them with one error wording.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::Serialize;

use callassign::diagnostics::report;
use callassign::impact::history::{for_each_call, for_each_call_in_document, Unreadable};
use callassign::model::context::MAX_CONTEXT_BYTES;
use callassign::model::{Call, Context};
use callassign::semantics::load::{folder_of, FileSystem, Nothing, RuleSource, RULE_EXTENSION};
use callassign::semantics::plan::Plan;

use super::{print_findings_to_stderr, CliError, InputArg, ReportFormat};

/// `--rules`, `--context` and `--input`: what `eval` and `stats` decide
/// calls with. Each defaults to what the project file (`callassign.toml`)
/// says.
#[derive(Debug, clap::Args)]
pub struct Deciding {
    /// The rule file [default: the project's `ruleset`]
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// The integration context (YAML or JSON) [default: the project's context of the rule file]
    #[arg(long)]
    pub context: Option<PathBuf>,
    /// What the calls are [default: the project's `input`, else native]
    #[arg(long = "input", value_name = "FORMAT", value_enum)]
    input_format: Option<InputArg>,
}

impl Deciding {
    /// The context (its warnings noted on stderr) and the compiled plan.
    pub fn load(&self) -> Result<(Context, Plan), CliError> {
        let rules = self.rules()?;
        let context = load_context(&context_for(self.context.as_deref(), &rules)?)?;
        let plan = load_plan(&rules)?;
        Ok((context, plan))
    }

    /// The rule file: `--rules`, else the project's `ruleset`.
    pub fn rules(&self) -> Result<PathBuf, CliError> {
        if let Some(rules) = &self.rules {
            return Ok(rules.clone());
        }
        match super::project()? {
            Some(project) => project.default_rules().ok_or_else(|| {
                CliError::new(format!(
                    "no `--rules`, and `{}` names no `ruleset`",
                    project.file.display()
                ))
                .help("give `--rules FILE`, or add `ruleset = \"NAME\"` to the project file")
            }),
            None => Err(CliError::new(
                "no `--rules`, and no project file (`callassign.toml`) names a ruleset",
            )
            .help("give `--rules FILE`; `callassign init` writes a project file")),
        }
    }

    /// `--input`, else the project's `input`, else native calls.
    pub fn input_format(&self) -> InputArg {
        input_or_project(self.input_format)
    }
}

/// `--input` when given, else the project's `input`, else native calls.
pub fn input_or_project(given: Option<InputArg>) -> InputArg {
    given
        .or_else(|| {
            super::project().ok().flatten().and_then(|project| {
                project.input.map(|input| match input {
                    callassign::runtime::batch::InputFormat::Native => InputArg::Native,
                    callassign::runtime::batch::InputFormat::CloudTalk => InputArg::Cloudtalk,
                })
            })
        })
        .unwrap_or(InputArg::Native)
}

/// `--context` when given, else the project's context of `rules`.
pub fn context_for(given: Option<&Path>, rules: &Path) -> Result<PathBuf, CliError> {
    if let Some(context) = given {
        return Ok(context.to_path_buf());
    }
    match super::project()? {
        Some(project) => project.context_of(rules).ok_or_else(|| {
            let name = rules
                .file_stem()
                .map_or_else(String::new, |stem| stem.to_string_lossy().into_owned());
            CliError::new(format!(
                "no `--context`, and no `{}` for `{}` (from `{}`)",
                project.contexts.join(format!("{name}.yaml")).display(),
                rules.display(),
                project.file.display()
            ))
            .help("give `--context FILE`, or save the integration's context there")
        }),
        None => Err(CliError::new(
            "no `--context`, and no project file (`callassign.toml`) says where contexts are",
        )
        .help("give `--context FILE`; `callassign init` writes a project file")),
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
        match &problems[0].help {
            None => error,
            Some(help) => error.help(help),
        }
    })
}

/// A history of calls: JSON Lines (a file, or `-` for stdin), or a
/// CloudTalk `.json` document read whole.
pub enum History {
    Lines(Box<dyn BufRead>),
    CloudTalkDocument(String),
}

impl History {
    /// Hands every call of the history to `visit`; unreadable lines or
    /// items go to `unreadable`. `path` names the history in messages.
    pub fn for_each_call(
        self,
        path: &Path,
        input: InputArg,
        context: &Context,
        unreadable: &mut Unreadable,
        visit: impl FnMut(&Call<'_>),
    ) -> Result<(), CliError> {
        match self {
            History::Lines(lines) => {
                for_each_call(lines, input.into(), context, unreadable, visit).map_err(|error| {
                    CliError::new(format!("cannot read `{}`: {error}", path.display()))
                })
            }
            History::CloudTalkDocument(text) => {
                for_each_call_in_document(&text, context, unreadable, visit).map_err(|error| {
                    CliError::new(format!("`{}` {error}", path.display())).help(
                        "a CloudTalk `.json` holds a list response of `/api/calls/index.json`, a list of records, or one record",
                    )
                })
            }
        }
    }
}

/// A history of calls: a file, or `-` for stdin. With `--input
/// cloudtalk`, a `.json` file is one document (a list response), read as
/// `eval` reads it.
pub fn open_history(path: &Path, input: InputArg) -> Result<History, CliError> {
    // A history is JSON Lines, native or CloudTalk. A `.json` or YAML file
    // holds one document (a CloudTalk list response, one call): read line
    // by line it would give nothing but unreadable lines.
    let extension = path.extension().and_then(|ext| ext.to_str());
    match (extension.map(str::to_ascii_lowercase).as_deref(), input) {
        (Some("json"), InputArg::Cloudtalk) => {
            let text = callassign::files::read_text(path, MAX_CONTEXT_BYTES).map_err(|error| {
                let cli_error = CliError::new(error.describe(path));
                match error.help() {
                    Some(help) => cli_error.help(help),
                    None => cli_error,
                }
            })?;
            return Ok(History::CloudTalkDocument(text));
        }
        (Some(ext @ ("json" | "yaml" | "yml")), _) => {
            return Err(CliError::new(format!(
                "`{}` is a `.{ext}` file: a history of calls is JSON Lines, one call or record per line",
                path.display()
            ))
            .help("a CloudTalk `.json` response is read as it is with `--input cloudtalk`; native calls go one per line: `jq -c '.[]' calls.json > calls.jsonl`"));
        }
        _ => {}
    }
    if path.as_os_str() == "-" {
        return Ok(History::Lines(Box::new(BufReader::with_capacity(
            256 * 1024,
            io::stdin().lock(),
        ))));
    }
    let file = File::open(path).map_err(|error| CliError::io(path, &error))?;
    Ok(History::Lines(Box::new(BufReader::with_capacity(
        256 * 1024,
        file,
    ))))
}

/// A history with no line at all is an error, before any report is
/// printed: a CI gate on it would otherwise pass having checked nothing.
/// An empty file, a closed stdin, a forgotten history argument (which
/// reads stdin) and a CloudTalk `.json` with an empty list all give no
/// line.
pub fn require_some_line(path: &Path, lines: u64) -> Result<(), CliError> {
    if lines > 0 {
        return Ok(());
    }
    let (from, help) = if path.as_os_str() == "-" {
        ("stdin".to_string(), "with no history file (or `-`) the calls are read from stdin, and none came; give the history file, or pipe it in")
    } else {
        (
            format!("`{}`", path.display()),
            "it holds no call or record (an empty file, or a CloudTalk `.json` with an empty list); a report on no call would check nothing",
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

/// A rule file read from standard input (`check -`, `fmt --stdout -`),
/// bounded as a rule file on disk is. With `--stdin-filename PATH` it is
/// read as the file at PATH would be (`extends` beside it, the ruleset
/// named after it); without, on its own, as an editor's unsaved buffer:
/// named after its `ruleset`, reaching only the built-in default.
pub struct StdinRules {
    /// Where the text is read as being.
    pub path: PathBuf,
    /// What reports call it: the file name given, or `<stdin>`.
    pub shown: String,
    text: String,
    /// Whether files beside it on disk are seen (`--stdin-filename`).
    on_disk: bool,
}

impl StdinRules {
    pub fn read(filename: Option<&Path>) -> Result<StdinRules, CliError> {
        use callassign::files::{read_text_from, TextError};
        use callassign::semantics::load::MAX_RULE_FILE_BYTES;
        let text =
            read_text_from(io::stdin().lock(), MAX_RULE_FILE_BYTES).map_err(
                |error| match error {
                    TextError::TooLarge { limit } => CliError::new(format!(
                    "standard input is larger than {limit} bytes, the most a rule file may have"
                )),
                    TextError::NotUtf8 { byte } => {
                        CliError::new(format!("standard input is not valid UTF-8 (byte {byte})"))
                            .help("rule files are UTF-8 text")
                    }
                    TextError::Io(error) => {
                        CliError::new(format!("cannot read standard input: {error}"))
                    }
                },
            )?;
        Ok(match filename {
            Some(path) => StdinRules {
                path: path.to_path_buf(),
                shown: path.display().to_string(),
                text,
                on_disk: true,
            },
            None => {
                let name = callassign::syntax::parse::parse(&std::sync::Arc::new(
                    callassign::diagnostics::source::Source::new("", text.as_str()),
                ))
                .file
                .map(|file| file.name.node)
                .filter(|name| callassign::semantics::check::is_plain_name(name))
                .unwrap_or_else(|| "stdin".to_string());
                StdinRules {
                    path: PathBuf::from(format!("{name}.{RULE_EXTENSION}")),
                    shown: "<stdin>".to_string(),
                    text,
                    on_disk: false,
                }
            }
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    fn is_it(&self, path: &Path) -> bool {
        callassign::semantics::load::normalize(path)
            == callassign::semantics::load::normalize(&self.path)
    }
}

/// The rules a command reads: from disk, with a rule file from standard
/// input over it when there is one.
impl RuleSource for StdinRules {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        if self.is_it(path) {
            Ok(self.text.clone().into_bytes())
        } else if self.on_disk {
            FileSystem.read(path)
        } else {
            Nothing.read(path)
        }
    }

    fn identity(&self, path: &Path) -> io::Result<PathBuf> {
        if self.is_it(path) {
            // Where the file would be, whether or not it exists on disk.
            return match FileSystem.identity(path) {
                Ok(identity) if self.on_disk => Ok(identity),
                _ => {
                    let folder = folder_of(&self.path);
                    let folder = match FileSystem.identity(&folder) {
                        Ok(identity) if self.on_disk => identity,
                        _ => folder,
                    };
                    Ok(folder.join(self.path.file_name().unwrap_or_default()))
                }
            };
        }
        if !self.on_disk {
            let folder = folder_of(&self.path);
            if callassign::semantics::load::normalize(path) == folder {
                return Ok(folder);
            }
            return Nothing.identity(path);
        }
        FileSystem.identity(path)
    }

    fn rule_names(&self, folder: &Path) -> Vec<String> {
        let mut names = if self.on_disk {
            FileSystem.rule_names(folder)
        } else {
            Vec::new()
        };
        if let Some(stem) = self.path.file_stem().and_then(|stem| stem.to_str()) {
            names.push(stem.to_string());
        }
        names.sort();
        names.dedup();
        names
    }

    fn display_name(&self, path: &Path) -> String {
        if self.is_it(path) {
            self.shown.clone()
        } else {
            path.display().to_string()
        }
    }
}

/// Rule files from disk, or a rule file from standard input over it.
pub enum RulesFrom<'a> {
    Disk,
    Stdin(&'a StdinRules),
}

impl RuleSource for RulesFrom<'_> {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        match self {
            RulesFrom::Disk => FileSystem.read(path),
            RulesFrom::Stdin(stdin) => stdin.read(path),
        }
    }

    fn identity(&self, path: &Path) -> io::Result<PathBuf> {
        match self {
            RulesFrom::Disk => FileSystem.identity(path),
            RulesFrom::Stdin(stdin) => stdin.identity(path),
        }
    }

    fn rule_names(&self, folder: &Path) -> Vec<String> {
        match self {
            RulesFrom::Disk => FileSystem.rule_names(folder),
            RulesFrom::Stdin(stdin) => stdin.rule_names(folder),
        }
    }

    fn display_name(&self, path: &Path) -> String {
        match self {
            RulesFrom::Disk => FileSystem.display_name(path),
            RulesFrom::Stdin(stdin) => stdin.display_name(path),
        }
    }
}

/// The rule file on standard input when `paths` is `-`; `-` among other
/// paths is refused, as is `--stdin-filename` without `-`.
pub fn read_stdin_rules(
    paths: &[PathBuf],
    filename: Option<&Path>,
) -> Result<Option<StdinRules>, CliError> {
    let dash = paths.iter().any(|path| path.as_os_str() == "-");
    match (dash, paths.len(), filename) {
        (false, _, None) => Ok(None),
        (false, _, Some(_)) => Err(CliError::new(
            "`--stdin-filename` names the rule file read from stdin, but no `-` reads it",
        )
        .help("give `-` as the path to read a rule file from stdin")),
        (true, 1, filename) => {
            if filename.is_some_and(|path| {
                path.extension().and_then(|ext| ext.to_str()) != Some(RULE_EXTENSION)
            }) {
                return Err(
                    CliError::new("`--stdin-filename` must name a `.rules` file")
                        .help("as in `--stdin-filename rules/hubspot.rules`"),
                );
            }
            StdinRules::read(filename).map(Some)
        }
        (true, _, _) => Err(
            CliError::new("`-` reads one rule file from stdin; give it alone")
                .help("check the files on disk in another run"),
        ),
    }
}
