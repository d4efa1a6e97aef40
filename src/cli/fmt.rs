//! `callassign fmt`: rule files in canonical layout.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::time::Duration;

use similar::{Algorithm, TextDiff};

use callassign::diagnostics::finding::sort_and_dedup;
use callassign::semantics::load;
use callassign::syntax::format::{self, FormatError};

use super::shared::read_stdin_rules;
use super::{
    expand_rule_paths, print_findings_to_stderr, CliError, CliResult, EXIT_ERROR, EXIT_OK,
    EXIT_PROBLEMS,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rule files or folders of rule files, or - for one rule file on
    /// stdin (with --stdout or --check) [default: rules]
    paths: Vec<PathBuf>,
    /// With -: what messages call the rule file read from stdin
    #[arg(long, value_name = "PATH")]
    stdin_filename: Option<PathBuf>,
    /// Change nothing: show a diff of every file that is not formatted, and
    /// exit 1 if there is one
    #[arg(long, conflicts_with = "stdout")]
    check: bool,
    /// Print the formatted text to stdout instead of rewriting the files
    /// (for editors and pipes)
    #[arg(long)]
    stdout: bool,
}

impl Args {
    /// Whether the files are rewritten (nothing is written to stdout).
    pub fn rewrites(&self) -> bool {
        !self.check && !self.stdout
    }
}

/// What `fmt` does with a file's canonical text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Rewrite,
    Check,
    Print,
}

/// What became of one file.
enum Outcome {
    AlreadyFormatted,
    /// Rewritten, or (with `--check`) shown as a diff.
    Changed,
    /// Not formatted: it does not parse, or formatting would change it.
    Refused,
}

pub fn run(args: Args) -> CliResult {
    let mode = match (args.check, args.stdout) {
        (true, _) => Mode::Check,
        (_, true) => Mode::Print,
        _ => Mode::Rewrite,
    };
    if mode == Mode::Rewrite && args.paths.iter().any(|path| path.as_os_str() == "-") {
        return Err(CliError::new(
            "`fmt -` has no file to rewrite: it reads the rule file from stdin",
        )
        .help(
            "print the formatted text with `fmt --stdout -`, or show a diff with `fmt --check -`",
        ));
    }
    if let Some(stdin) = read_stdin_rules(&args.paths, args.stdin_filename.as_deref())? {
        let loaded = load::load_text(&stdin.shown, stdin.text());
        let outcome = format_loaded(&stdin.path, &stdin.shown, &loaded, mode)?;
        return Ok(ExitCode::from(match outcome {
            Outcome::AlreadyFormatted => EXIT_OK,
            Outcome::Changed if mode == Mode::Print => EXIT_OK,
            Outcome::Changed | Outcome::Refused => EXIT_PROBLEMS,
        }));
    }
    let files = expand_rule_paths(&args.paths)?;
    let (mut changed, mut refused, mut unwritten) = (0usize, 0usize, 0usize);
    for file in &files {
        // One file that cannot be read or written does not stop the others.
        match format_file(file, mode) {
            Ok(Outcome::AlreadyFormatted) => {}
            Ok(Outcome::Changed) => changed += 1,
            Ok(Outcome::Refused) => refused += 1,
            Err(error) => {
                noteln!("{error}");
                unwritten += 1;
            }
        }
    }

    let noun = |count: usize| if count == 1 { "file" } else { "files" };
    let mut summary = match (args.check, changed) {
        (_, 0) => {
            let already = files.len() - refused - unwritten;
            format!("{already} {} already formatted", noun(already))
        }
        (true, n) => format!(
            "{n} of {} {} not formatted; run `callassign fmt` to fix",
            files.len(),
            noun(files.len())
        ),
        (false, n) => format!("formatted {n} {}", noun(n)),
    };
    if refused > 0 {
        summary.push_str(&format!(
            ", {refused} {} that could not be read as rules left as {}",
            noun(refused),
            if refused == 1 { "it is" } else { "they are" }
        ));
    }
    if unwritten > 0 {
        summary.push_str(&format!(
            ", {unwritten} {} could not be read or written (see above)",
            noun(unwritten)
        ));
    }
    if mode != Mode::Print || unwritten > 0 {
        noteln!("{summary}");
    }
    let failing = refused > 0 || (args.check && changed > 0);
    Ok(ExitCode::from(if unwritten > 0 {
        EXIT_ERROR
    } else if failing {
        EXIT_PROBLEMS
    } else {
        EXIT_OK
    }))
}

fn format_file(path: &Path, mode: Mode) -> Result<Outcome, CliError> {
    let loaded = load::load_file(path).map_err(|error| CliError::io(path, &error))?;
    format_loaded(path, &path.display().to_string(), &loaded, mode)
}

/// Formats a loaded rule file; `path` is where it is written back, `name`
/// what messages call it.
fn format_loaded(
    path: &Path,
    name: &str,
    loaded: &load::LoadedFile,
    mode: Mode,
) -> Result<Outcome, CliError> {
    // Too large, not UTF-8, or no header: nothing to format safely.
    let result = if loaded.checked.is_none() {
        Err(FormatError::Unparsable(loaded.findings.clone()))
    } else {
        format::format_source(&loaded.source)
    };
    let formatted = match result {
        Ok(formatted) => formatted,
        Err(FormatError::Unparsable(mut findings)) => {
            sort_and_dedup(&mut findings);
            print_findings_to_stderr(&findings);
            noteln!("error: `{name}` was not formatted; fix the problems above first");
            return Ok(Outcome::Refused);
        }
        Err(error @ FormatError::ChangedMeaning) => {
            noteln!("error: `{name}` was not formatted: {error}");
            return Ok(Outcome::Refused);
        }
    };
    let original: &str = &loaded.source.text;
    if mode == Mode::Print {
        out!("{formatted}");
    }
    if formatted == original {
        return Ok(Outcome::AlreadyFormatted);
    }
    if mode == Mode::Check {
        if original.contains('\r') {
            // A `\r` is invisible in the diff below; say it.
            noteln!("note: `{name}` has Windows line endings (CRLF); the formatted file uses LF");
        }
        out!(
            "{}",
            TextDiff::configure()
                .algorithm(Algorithm::Patience)
                // A huge, much changed file gets a longer diff rather than a long wait.
                .timeout(Duration::from_secs(2))
                .diff_lines(original, formatted.as_str())
                .unified_diff()
                .context_radius(3)
                .header(name, &format!("{name} (formatted)"))
        );
    } else if mode == Mode::Rewrite {
        if formatted.len() > load::MAX_RULE_FILE_BYTES {
            // `check` would refuse the file it became.
            return Err(CliError::new(format!(
                "`{}` was not formatted: its formatted text is {} bytes, over the {} bytes a rule file may have",
                path.display(),
                formatted.len(),
                load::MAX_RULE_FILE_BYTES
            ))
            .help("split the file: move steps into a base file and `extends` it"));
        }
        // A link is formatted where it points: renaming over the link
        // itself would turn it into a copy and leave its target as it was.
        let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        callassign::files::write_atomically(&target, formatted.as_bytes()).map_err(|error| {
            CliError::new(format!(
                "cannot write `{}`: {error}; the file is unchanged",
                path.display()
            ))
        })?;
    }
    Ok(Outcome::Changed)
}
