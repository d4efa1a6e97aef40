//! A team's own service embedding callassign, using only the library's
//! root (`callassign::…`), as docs/library.md describes it:
//!
//! (a) load a rule file and a context, decide one call from JSON and print
//!     the line `eval` writes for it;
//! (b) decide a JSON Lines batch from a reader to a writer, with a summary;
//! (c) share the engine across threads, swapping it on reload;
//! (d) explain one decision (the trace);
//! (e) answer every error with its code, message and help, and show where
//!     it is (`file:line:column`).
//!
//! Run it from the repository's root: `cargo run --example embed`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use callassign::{
    Call, DocumentFormat, Error, NotOneCall, Observer, Options, OutputFormat, Problem, Ruleset,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    run(&mut io::stdout().lock())
}

/// Everything the example shows, written to `stdout` (a test reads it).
pub fn run(stdout: &mut impl Write) -> Result<(), Box<dyn std::error::Error>> {
    let rules = Path::new("rules/hubspot.rules");
    let context = Path::new("examples/hubspot.context.yaml");

    // (a) One call. `Ruleset::load` checks the rules and the context as
    // `check --context` does and builds the engine; a refusal is an `Error`.
    let ruleset = Ruleset::load(rules, context)?;
    let body = std::fs::read_to_string("examples/call.json")?;
    let call = Call::read_json(&body).map_err(|problem| problem.message)?;
    let decision = ruleset.engine.decide(&call);
    let assignee = decision.assignee.map_or("nobody", |user| user.id.as_str());
    writeln!(
        stdout,
        "(a) {} goes to {assignee} by {}",
        call.id,
        decision.step.name()
    )?;
    // The same decision as the line `eval` writes (and `serve` answers).
    let mut line = Vec::new();
    ruleset.engine.assign_document(
        &body,
        DocumentFormat::Json,
        Options::default(),
        &mut line,
        &mut (),
    )??;
    write!(stdout, "(a) {}", String::from_utf8(line)?)?;

    // (b) A batch: JSON Lines from any reader to any writer, one line out
    // per line in, bounded lines, and what `eval` prints after it.
    let input = io::BufReader::new(std::fs::File::open("examples/calls.jsonl")?);
    writeln!(stdout, "(b) examples/calls.jsonl:")?;
    let summary = ruleset
        .engine
        .assign_batch(input, Options::default(), stdout, &mut ())?;
    write!(stdout, "(b) {}", summary.render())?;
    writeln!(
        stdout,
        "(b) decided by call_agent: {}",
        summary.by_step()["call_agent"]
    )?;

    // (c) A service: the served ruleset behind a lock, swapped on reload.
    let folder = Folder::new()?;
    let team_rules = folder.write("team.rules", "ruleset team extends default\n")?;
    let service = Arc::new(Service::load(&team_rules, context)?);
    let before = service.answer(OUTGOING).map_err(|error| error.message)?;
    folder.write(
        "team.rules",
        "ruleset team extends default\ndisable call_agent\n",
    )?;
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let service = Arc::clone(&service);
            std::thread::spawn(move || {
                (0..100)
                    .map(|_| service.answer(OUTGOING).map(|answer| answer.step))
                    .collect::<Result<Vec<_>, _>>()
            })
        })
        .collect();
    service.reload()?; // requests in flight finish on the version they took
    let mut answered = 0;
    for worker in workers {
        let steps = worker.join().expect("a worker does not panic");
        let steps = steps.map_err(|error| error.message)?;
        // Every answer comes from one whole version: old or new.
        assert!(steps
            .iter()
            .all(|step| step == "call_agent" || step == "last_step_agent"));
        answered += steps.len();
    }
    let after = service.answer(OUTGOING).map_err(|error| error.message)?;
    writeln!(
        stdout,
        "(c) 4 threads answered {answered} calls; reload: {} -> {}, hash changed: {}",
        before.step,
        after.step,
        after.hash != before.hash
    )?;

    // (d) Why a call went where it went: every step, and what became of it.
    let (decision, trace) = ruleset.engine.explain(&call);
    writeln!(stdout, "(d) {} by {}:", call.id, decision.step.label())?;
    for entry in &trace {
        let reason = entry.reason.as_deref().unwrap_or("");
        let shown = format!(
            "      {:<12}{:<44}{:<27}{reason}",
            entry.result.as_str(),
            entry.shown,
            entry.from
        );
        writeln!(stdout, "{}", shown.trim_end())?;
    }
    // The same trace as `eval --explain --format human` writes it.
    let explain = Options {
        explain: true,
        format: OutputFormat::Human,
        ..Options::default()
    };
    let mut explained = Vec::new();
    ruleset.engine.assign_document(
        &body,
        DocumentFormat::Json,
        explain,
        &mut explained,
        &mut (),
    )??;
    write!(stdout, "(d) {}", String::from_utf8(explained)?)?;

    // (e) Every error has a code, a message and (mostly) a help.
    let broken = folder.write(
        "broken.rules",
        "ruleset broken extends default\ndisable favorite_agnet\n",
    )?;
    let bad_context = folder.write(
        "bad.context.yaml",
        "integration: hubspot\nusers:\n  - {id: hs-1, emial: admin@acme.com}\n",
    )?;
    let missing = folder.path("missing.rules");
    for (rules, context) in [
        (broken.as_path(), context),
        (rules, bad_context.as_path()),
        (missing.as_path(), context),
    ] {
        let error = Ruleset::load(rules, context).expect_err("refused");
        writeln!(
            stdout,
            "(e) {}",
            folder.hide(&ApiError::from(&error).to_string())
        )?;
        for place in places(&error) {
            writeln!(stdout, "      at {}", folder.hide(&place))?;
        }
    }
    // A call that cannot be read, as one request...
    let text = r#"{"id":"c-9","direction":"incoming","status":"missed","duration":3}"#;
    let problem = Call::read_json(text).expect_err("not a call");
    let (line, column) = problem.line_col(text).unwrap_or((1, 1));
    writeln!(
        stdout,
        "(e) {} (request body {line}:{column})",
        ApiError::from(&problem)
    )?;
    // ... as one line of a stream (an error line in the output, and the
    // observer hears it)...
    let stream = format!("{OUTGOING}\n{text}\n");
    let mut lines = Vec::new();
    let mut refused = Refused::default();
    ruleset.engine.assign_batch(
        stream.as_bytes(),
        Options::default(),
        &mut lines,
        &mut refused,
    )?;
    writeln!(stdout, "(e) {}", refused.0.join("; "))?;
    write!(
        stdout,
        "(e) {}",
        String::from_utf8(lines)?.lines().nth(1).unwrap_or_default()
    )?;
    writeln!(stdout)?;
    // ... and several calls sent as one.
    let list = format!("[{OUTGOING}]");
    let refusal = ruleset
        .engine
        .assign_document(
            &list,
            DocumentFormat::Json,
            Options::default(),
            &mut Vec::new(),
            &mut (),
        )
        .expect_err("a list is not one call");
    writeln!(stdout, "(e) {}", ApiError::from(refusal))?;
    Ok(())
}

/// An outgoing answered call: `call_agent` decides it unless disabled.
const OUTGOING: &str = r#"{"id":"c-1","direction":"outgoing","status":"answered","agent":"bob@acme.com","flow":[{"type":"call_to_agent","agent":"alice@acme.com"}]}"#;

/// What the team's service serves: one ruleset, swapped whole on reload.
struct Service {
    rules: PathBuf,
    context: PathBuf,
    current: RwLock<Arc<Ruleset>>,
}

/// The service's answer to one call.
struct Answer {
    hash: String,
    step: String,
}

impl Service {
    fn load(rules: &Path, context: &Path) -> Result<Service, Error> {
        let ruleset = Ruleset::load(rules, context)?;
        Ok(Service {
            rules: rules.to_path_buf(),
            context: context.to_path_buf(),
            current: RwLock::new(Arc::new(ruleset)),
        })
    }

    /// The ruleset a request uses from start to end.
    fn current(&self) -> Arc<Ruleset> {
        Arc::clone(
            &self
                .current
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    /// Loads the files again; a version that is refused is not applied.
    fn reload(&self) -> Result<(), Error> {
        let next = Arc::new(Ruleset::load(&self.rules, &self.context)?);
        *self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = next;
        Ok(())
    }

    fn answer(&self, body: &str) -> Result<Answer, ApiError> {
        let ruleset = self.current();
        let call = Call::read_json(body).map_err(|problem| ApiError::from(&problem))?;
        let decision = ruleset.engine.decide(&call);
        Ok(Answer {
            hash: ruleset.hash.clone(),
            step: decision.step.name().to_string(),
        })
    }
}

/// The team's error body: `{"code", "message", "help"}`.
#[derive(Debug)]
struct ApiError {
    code: &'static str,
    message: String,
    help: Option<String>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}", self.code, self.message)?;
        match &self.help {
            Some(help) => write!(f, " (help: {help})"),
            None => Ok(()),
        }
    }
}

impl From<&Error> for ApiError {
    fn from(error: &Error) -> ApiError {
        ApiError {
            code: error.code(),
            message: error.to_string(),
            help: error.help(),
        }
    }
}

impl From<&Problem> for ApiError {
    fn from(problem: &Problem) -> ApiError {
        ApiError {
            code: problem.code.name(),
            message: problem.message.clone(),
            help: problem.help.clone(),
        }
    }
}

impl From<NotOneCall> for ApiError {
    fn from(refusal: NotOneCall) -> ApiError {
        ApiError {
            code: refusal.code(),
            message: refusal.to_string(),
            help: Some(refusal.help().to_string()),
        }
    }
}

/// Where each finding or problem of an error is: `file:line:column: code message`.
fn places(error: &Error) -> Vec<String> {
    match error {
        Error::Rules { findings, .. } => findings
            .iter()
            .map(|finding| {
                let (line, column) = finding.line_col();
                format!(
                    "{}:{line}:{column}: {} {}",
                    finding.file(),
                    finding.code(),
                    finding.message()
                )
            })
            .collect(),
        Error::Context { problems, .. } => problems
            .iter()
            .map(|problem| {
                let file = problem.file.as_deref().unwrap_or(Path::new("the context"));
                let text = std::fs::read_to_string(file).unwrap_or_default();
                let (line, column) = problem.line_col(&text).unwrap_or((1, 1));
                format!("{}:{line}:{column}: {}", file.display(), problem.code)
            })
            .collect(),
        // `Error` may gain kinds: a service answers them by code alone.
        _ => Vec::new(),
    }
}

/// Hears the lines of a stream that are not calls.
#[derive(Default)]
struct Refused(Vec<String>);

impl Observer for Refused {
    fn unreadable(&mut self, line: u64, call: Option<&str>, message: &str) {
        let call = call.unwrap_or("?");
        self.0
            .push(format!("line {line} (call {call}) unreadable: {message}"));
    }
}

/// A scratch folder for the files this example writes, removed at the end.
struct Folder(PathBuf);

impl Folder {
    fn new() -> io::Result<Folder> {
        let path = std::env::temp_dir().join(format!("callassign-embed-{}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(Folder(path))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, text: &str) -> io::Result<PathBuf> {
        let path = self.path(name);
        std::fs::write(&path, text)?;
        Ok(path)
    }

    /// `text` without the folder's own path, so the output is the same on
    /// every machine.
    fn hide(&self, text: &str) -> String {
        text.replace(
            &format!("{}{}", self.0.display(), std::path::MAIN_SEPARATOR),
            "",
        )
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
