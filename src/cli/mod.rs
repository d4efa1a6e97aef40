//! Command-line parsing and the shared plumbing of the subcommands. Each
//! subcommand lives in its own file and calls into the library.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use callassign::diagnostics::finding::Finding;
use callassign::diagnostics::report::{self, Style};

/// `print!` for command output: a reader that went away (`| head`) ends
/// the command quietly instead of panicking, as Unix tools do.
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::write_stdout(format_args!($($arg)*)) };
}

/// `eprint!` for messages: a full or closed stderr (`2>/dev/full`) loses
/// the message instead of panicking; the exit status still says it all.
macro_rules! note {
    ($($arg:tt)*) => { $crate::cli::write_stderr(format_args!($($arg)*)) };
}

/// `eprintln!` for messages; see [`note!`].
macro_rules! noteln {
    ($($arg:tt)*) => { $crate::cli::write_stderr(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `println!` for command output; see [`out!`].
macro_rules! outln {
    () => { $crate::cli::write_stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::write_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

mod check;
mod completions;
#[cfg(feature = "live")]
mod decisions;
mod diff;
mod eval;
mod explain;
mod fmt;
mod init;
mod lsp;
mod man;
mod plan;
mod schema;
mod shared;
mod stats;
mod test;

/// Decide who owns the follow-up of exported phone calls, from rule files.
#[derive(Debug, Parser)]
#[command(name = "callassign", version, about, long_about = None)]
struct Cli {
    /// When to colour reports: `auto` colours a terminal unless `NO_COLOR` is set
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

/// `--color`, on every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// The `--color` of this run, set once before the subcommand runs.
static COLOR: std::sync::OnceLock<ColorChoice> = std::sync::OnceLock::new();

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse and check rule files (default: the `rules` folder)
    Check(check::Args),
    /// Decide who owns calls: one call (.json/.yaml) or a JSON Lines batch
    Eval(eval::Args),
    /// Rewrite rule files in canonical layout (default: the `rules` folder)
    Fmt(fmt::Args),
    /// Show the resolved, flattened steps of a rule file
    Plan(plan::Args),
    /// What a rule change does to a history of calls: who gets which calls now
    #[command(override_usage = diff::USAGE)]
    Diff(diff::Args),
    /// How often each step of a rule file decides on a history of calls
    Stats(stats::Args),
    /// Run rule tests: calls with the assignee each must get
    Test(test::Args),
    /// Explain a finding code: what it means, how to fix it, an example
    /// (without a code: list every code)
    Explain(explain::Args),
    /// Print the built-in default rules that `extends default` uses when
    /// the folder has no default.rules of its own
    PrintDefault,
    /// Language server for editors (LSP over stdin/stdout)
    Lsp(lsp::Args),
    /// Start a project: rules extending the default, rule tests, a context and a CI job
    Init(init::Args),
    /// Serve decisions over HTTP: every ruleset of a folder, reloaded when its files change
    #[cfg(feature = "serve")]
    Serve(Box<crate::serve::Args>),
    /// What the live loop's store holds: calls pending or failed, one call; replay a failed delivery
    #[cfg(feature = "live")]
    Decisions(decisions::Args),
    /// Print the JSON Schema of a call, a context or a rule-test file
    Schema(schema::Args),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    Completions(completions::CompletionsArgs),
    /// Print the man page, or write one per command with --out-dir
    Man(completions::ManArgs),
}

/// Exit statuses, as documented in docs/commands.md.
pub const EXIT_OK: u8 = 0;
/// Findings, unreadable input lines, failing rule tests.
pub const EXIT_PROBLEMS: u8 = 1;
/// Usage, I/O or rule-file errors.
pub const EXIT_ERROR: u8 = 2;

/// An error that stops a command: printed as `error: …` with an optional
/// help line, exit status 2.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub help: Option<String>,
}

impl CliError {
    pub fn new(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            help: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> CliError {
        self.help = Some(help.into());
        self
    }

    /// A file that could not be read.
    pub fn io(path: &Path, error: &std::io::Error) -> CliError {
        let message = match error.kind() {
            std::io::ErrorKind::NotFound => format!("`{}` does not exist", path.display()),
            _ => format!("cannot read `{}`: {error}", path.display()),
        };
        let cli_error = CliError::new(message);
        match callassign::files::irregular_help(error) {
            Some(help) => cli_error.help(help),
            None => cli_error,
        }
    }
}

/// A problem the library found with a command's input, said as every
/// command error is said.
impl From<callassign::Problem> for CliError {
    fn from(problem: callassign::Problem) -> CliError {
        CliError {
            message: problem.message,
            help: problem.help,
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "error: {}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

pub type CliResult = Result<ExitCode, CliError>;

/// What clap has to say instead of a command (help, version, a usage
/// error), with the exit status it means. Help that cannot be written (a
/// full disk) is not a success; a reader that went away (`| head`) is.
fn clap_exit(error: &clap::Error) -> ExitCode {
    let code = u8::try_from(error.exit_code()).unwrap_or(EXIT_ERROR);
    match error.print() {
        Ok(()) => ExitCode::from(code),
        Err(write) if write.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(code),
        Err(write) => {
            noteln!("error: cannot write output: {write}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

pub fn main() -> ExitCode {
    // Past a file-size limit (`ulimit -f`) a write then fails with an error
    // that `fmt` reports, instead of a signal killing it mid-write.
    #[cfg(unix)]
    // SAFETY: ignoring a signal installs no handler code.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return clap_exit(&error),
    };
    COLOR.get_or_init(|| cli.color);
    let writes_stdout = !matches!(&cli.command, Command::Fmt(args) if args.rewrites());
    if writes_stdout && closed_stdout::at_start() {
        noteln!(
            "{}",
            CliError::new("standard output is closed (`>&-`), so the result cannot be written")
                .help("redirect it to a file, or to /dev/null to keep only the exit status")
        );
        return ExitCode::from(EXIT_ERROR);
    }
    let result = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Fmt(args) => fmt::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Stats(args) => stats::run(args),
        Command::Test(args) => test::run(args),
        Command::Explain(args) => explain::run(args),
        Command::PrintDefault => {
            out!("{}", callassign::semantics::load::BUILTIN_DEFAULT_TEXT);
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Lsp(args) => lsp::run(args),
        Command::Init(args) => init::run(args),
        #[cfg(feature = "serve")]
        Command::Serve(args) => crate::serve::run(*args),
        #[cfg(feature = "live")]
        Command::Decisions(args) => decisions::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            noteln!("{error}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Set once the reader of stdout went away; later output is dropped.
static READER_GONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Writes command output to stdout. When the reader goes away (`| head`)
/// the rest of the output is dropped quietly, as Unix tools do, but the
/// command runs to its end: its exit status must still say whether there
/// were findings or failures (a `pipefail` CI gate reads it). Any other
/// write error exits 2 with a message.
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    use std::sync::atomic::Ordering;
    if READER_GONE.load(Ordering::Relaxed) {
        return;
    }
    if let Err(error) = std::io::stdout().write_fmt(args) {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            READER_GONE.store(true, Ordering::Relaxed);
            return;
        }
        noteln!("error: cannot write output: {error}");
        std::process::exit(i32::from(EXIT_ERROR));
    }
}

/// Whether stdout was closed when the process started (`>&-`). Rust's
/// runtime reopens a closed stdout on /dev/null before `main`, after which
/// every write succeeds and the result is silently lost; a constructor
/// looks at the descriptor before that happens.
mod closed_stdout {
    use std::sync::atomic::{AtomicBool, Ordering};

    static CLOSED: AtomicBool = AtomicBool::new(false);

    pub fn at_start() -> bool {
        CLOSED.load(Ordering::Relaxed)
    }

    #[cfg(any(target_os = "linux", target_os = "android", target_os = "macos"))]
    extern "C" fn look() {
        // SAFETY: F_GETFD only queries the descriptor's flags.
        let closed = unsafe { libc::fcntl(libc::STDOUT_FILENO, libc::F_GETFD) } == -1;
        CLOSED.store(closed, Ordering::Relaxed);
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[used]
    #[link_section = ".init_array"]
    static LOOK: extern "C" fn() = look;

    #[cfg(target_os = "macos")]
    #[used]
    #[link_section = "__DATA,__mod_init_func"]
    static LOOK: extern "C" fn() = look;
}

/// Writes a message to stderr; see [`note!`].
pub fn write_stderr(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let _ = std::io::stderr().write_fmt(args);
}

/// `--format` for the reports over a history of calls (`diff`, `stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Human,
    Json,
    /// Fits a pull-request comment
    Markdown,
}

/// `--input`: what the calls are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputArg {
    /// callassign's own call shape
    Native,
    /// CloudTalk API records: call-history items or call-detail records
    Cloudtalk,
}

impl From<InputArg> for callassign::runtime::batch::InputFormat {
    fn from(input: InputArg) -> Self {
        match input {
            InputArg::Native => callassign::runtime::batch::InputFormat::Native,
            InputArg::Cloudtalk => callassign::runtime::batch::InputFormat::CloudTalk,
        }
    }
}

/// `--format` for findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FindingFormat {
    Human,
    Json,
    Github,
    /// SARIF 2.1.0, for code-scanning upload
    Sarif,
}

/// Whether to colour output for a stream: as `--color` says, and for
/// `auto` a terminal with `NO_COLOR` unset.
pub fn use_color(is_terminal: bool) -> bool {
    match COLOR.get().copied().unwrap_or(ColorChoice::Auto) {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_terminal && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
        }
    }
}

/// Prints rule-file findings to stderr, the way commands other than
/// `check` report a rule file they cannot use.
pub fn print_findings_to_stderr(findings: &[Finding]) {
    let style = Style {
        color: use_color(std::io::stderr().is_terminal()),
        width: 100,
    };
    for block in report::human_capped(findings, style) {
        note!("{block}");
    }
}

/// The project file found from the working folder (`callassign.toml`),
/// read once; an error when one is found that cannot be used.
pub fn project() -> Result<Option<&'static crate::project::Project>, CliError> {
    static PROJECT: std::sync::OnceLock<
        Result<Option<crate::project::Project>, crate::project::ProjectError>,
    > = std::sync::OnceLock::new();
    match PROJECT.get_or_init(crate::project::Project::discover) {
        Ok(project) => Ok(project.as_ref()),
        Err(error) => Err(CliError::new(error.to_string()).help(error.help.clone())),
    }
}

/// The rule files `check`/`fmt` arguments stand for; the default is the
/// project's rules folder, else `rules/`.
pub fn expand_rule_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let defaults =
        [project()?.map_or_else(|| PathBuf::from("rules"), |project| project.rules.clone())];
    let paths = if paths.is_empty() {
        &defaults[..]
    } else {
        paths
    };
    let mut files = Vec::new();
    for path in paths {
        let extension = path
            .extension()
            .map(|ext| ext.to_string_lossy().to_ascii_lowercase());
        if let Some(other @ ("yaml" | "yml" | "json" | "jsonl")) = extension.as_deref() {
            let hint = if other.starts_with('y') {
                format!("to run rule tests, `callassign test {}`; ", path.display())
            } else {
                String::new()
            };
            return Err(CliError::new(format!(
                "`{}` is not a rule file: this command reads `.rules` files",
                path.display()
            ))
            .help(format!("{hint}for calls and contexts, `callassign eval`")));
        }
        let callassign::semantics::load::RuleFiles {
            files: found,
            skipped,
        } = callassign::semantics::load::find_rule_files(path)
            .map_err(|error| CliError::io(path, &error))?;
        for skipped in &skipped {
            noteln!(
                "note: `{}` is skipped: rule files end in `.rules`, in lower case; rename it to read it",
                skipped.display()
            );
        }
        if found.is_empty() {
            return Err(CliError::new(format!(
                "no `.rules` files in `{}`",
                path.display()
            )));
        }
        files.extend(found);
    }
    Ok(files)
}
