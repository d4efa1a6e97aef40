//! `callassign eval`: decide who owns calls.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ValueEnum;

use callassign::model::context::MAX_CONTEXT_BYTES;
use callassign::runtime::batch::{self, DocumentFormat, NotOneCall, Options, OutputFormat};
use callassign::runtime::evaluate::Engine;

use super::shared::Deciding;
use super::{CliError, CliResult, EXIT_OK, EXIT_PROBLEMS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Json,
    Human,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    deciding: Deciding,
    /// A call (.json, .yaml) or a batch (.jsonl, or - for stdin)
    #[arg(default_value = "-")]
    input: PathBuf,
    /// Output: JSON Lines, or readable text
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Show every step of the plan and why it did or did not decide
    #[arg(long)]
    explain: bool,
    /// No summary on stderr after a batch
    #[arg(long, short)]
    quiet: bool,
    /// Evaluate a batch on this many threads (output order is kept) [default: the available cores, at most 8]
    #[arg(long, short, value_parser = clap::value_parser!(u16).range(1..=256))]
    jobs: Option<u16>,
}

/// What kind of input a path holds.
enum Input {
    Batch,
    JsonCall,
    YamlCall,
}

fn input_kind(path: &Path) -> Result<Input, CliError> {
    if path.as_os_str() == "-" {
        return Ok(Input::Batch);
    }
    match path.extension().and_then(|ext| ext.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("jsonl" | "ndjson") => Ok(Input::Batch),
        Some("json") => Ok(Input::JsonCall),
        Some("yaml" | "yml") => Ok(Input::YamlCall),
        _ => Err(CliError::new(format!("cannot tell what `{}` holds from its name", path.display()))
            .help("name one call `.json` or `.yaml`, a batch `.jsonl`, or pass `-` to read a batch from stdin")),
    }
}

pub fn run(args: Args) -> CliResult {
    let kind = input_kind(&args.input)?;
    let (context, plan) = args.deciding.load()?;
    let evaluator = Engine::new(plan, context);
    let options = Options {
        format: match args.format {
            Format::Json => OutputFormat::Json,
            Format::Human => OutputFormat::Human,
        },
        explain: args.explain,
        input: args.deciding.input_format().into(),
    };
    let stdout = io::stdout();
    let mut output = BufWriter::with_capacity(
        64 * 1024,
        WatchedOutput {
            stdout: stdout.lock(),
            failed: false,
        },
    );
    let write_failed = |error: io::Error| CliError::new(format!("cannot write output: {error}"));

    match kind {
        Input::Batch => {
            let reader: Box<dyn BufRead + Send> = if args.input.as_os_str() == "-" {
                Box::new(BufReader::with_capacity(256 * 1024, io::stdin()))
            } else {
                Box::new(BufReader::with_capacity(
                    256 * 1024,
                    File::open(&args.input).map_err(|error| CliError::io(&args.input, &error))?,
                ))
            };
            // Progress goes to a terminal that shows nothing else: when the
            // output goes to the same terminal, the counter would be written
            // in the middle of its lines.
            let show_progress =
                !args.quiet && io::stderr().is_terminal() && !io::stdout().is_terminal();
            let jobs = args.jobs.map_or_else(default_jobs, usize::from);
            let mut shown = 0;
            let result =
                batch::run_parallel(&evaluator, reader, &mut output, options, jobs, |done| {
                    if show_progress {
                        let text = format!("{done} lines…");
                        shown = text.chars().count();
                        note!("\r{text}");
                    }
                });
            let summary = match result {
                Ok(summary) => summary,
                // The reader went away (`| head`): stop quietly, as Unix
                // tools do.
                Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {
                    return Ok(ExitCode::from(EXIT_OK))
                }
                // A full disk is the output's fault, not the input's.
                Err(error) if output.get_ref().failed => return Err(write_failed(error)),
                Err(error) => {
                    return Err(CliError::new(format!(
                        "cannot read `{}`: {error}",
                        args.input.display()
                    )))
                }
            };
            if shown > 0 {
                // The counter is wiped, so the summary starts on a clean line.
                note!("\r{}\r", " ".repeat(shown));
            }
            if !args.quiet {
                note!("{}", summary.render());
            }
            Ok(ExitCode::from(if summary.unreadable > 0 {
                EXIT_PROBLEMS
            } else {
                EXIT_OK
            }))
        }
        Input::JsonCall | Input::YamlCall => {
            let text = read_limited(&args.input, MAX_CONTEXT_BYTES)?;
            let format = match kind {
                Input::YamlCall => DocumentFormat::Yaml,
                _ => DocumentFormat::Json,
            };
            let mut counted = Counted::default();
            let written = evaluator
                .assign_document(&text, format, options, &mut output, &mut counted)
                .map_err(|refusal| not_one_call(&args.input, refusal))?
                .map_err(write_failed)?;
            output.flush().map_err(write_failed)?;
            if !args.quiet {
                // A CloudTalk `.json` holds a batch of records: its summary
                // is a batch's. One native call needs only its odd keys.
                match options.input {
                    batch::InputFormat::CloudTalk => note!("{}", counted.0.render()),
                    batch::InputFormat::Native => note!("{}", counted.0.render_unknown_keys()),
                }
            }
            Ok(ExitCode::from(if written.unreadable > 0 {
                EXIT_PROBLEMS
            } else {
                EXIT_OK
            }))
        }
    }
}

/// Counts what a document's calls were decided by (and the keys they do
/// not read), for the summary after it.
#[derive(Default)]
struct Counted(batch::Summary);

impl batch::Observer for Counted {
    fn decided(
        &mut self,
        call: &callassign::model::Call<'_>,
        decision: &callassign::runtime::evaluate::Decision<'_>,
        _: Option<&[callassign::runtime::evaluate::TraceEntry]>,
    ) {
        self.0.record(call, decision);
    }

    fn unreadable(&mut self, _: u64, _: Option<&str>, _: &str) {
        self.0.unreadable += 1;
    }
}

/// Standard output that remembers whether a write to it failed: a batch
/// returns one error for its input and its output alike, and the message
/// must say which it was.
struct WatchedOutput<'a> {
    stdout: io::StdoutLock<'a>,
    failed: bool,
}

impl Write for WatchedOutput<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let written = self.stdout.write(bytes);
        self.failed |= written.is_err();
        written
    }

    fn flush(&mut self) -> io::Result<()> {
        let flushed = self.stdout.flush();
        self.failed |= flushed.is_err();
        flushed
    }
}

/// Threads for a batch when `--jobs` is not given: the cores this process
/// may use (its CPU affinity and quota), since the output is the same for
/// any number. At most 8: the workers take turns reading the input and the
/// calling thread writes, so more would mostly wait, and each holds two
/// blocks of memory.
fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |cores| cores.get().min(8))
}

/// A file that holds a list of calls, JSON Lines, or YAML where CloudTalk
/// records are JSON: a usage mistake, said as such rather than as a parse
/// error, with the command that fixes it.
fn not_one_call(path: &Path, refusal: NotOneCall) -> CliError {
    let shown = path.display();
    match refusal {
        NotOneCall::List => CliError::new(format!("`{shown}` holds a list, not one call")).help(format!(
            "a `.json` file holds one call; for many, write one call per line in a `.jsonl` file: `jq -c '.[]' {shown} > calls.jsonl`"
        )),
        NotOneCall::SeveralValues => CliError::new(format!("`{shown}` holds more than one JSON value, not one call"))
            .help("a `.json` file holds one call; one call per line is JSON Lines: name the file `.jsonl`"),
        NotOneCall::CloudTalkYaml => CliError::new(format!("`{shown}` is YAML, but CloudTalk records are JSON"))
            .help(refusal.help()),
    }
}

/// Reads a whole file, refusing one larger than `limit` or that is not a
/// regular file.
fn read_limited(path: &Path, limit: usize) -> Result<String, CliError> {
    callassign::files::read_text(path, limit).map_err(|error| {
        let cli_error = CliError::new(error.describe(path));
        match error.help() {
            Some(help) => cli_error.help(help),
            None => cli_error,
        }
    })
}
