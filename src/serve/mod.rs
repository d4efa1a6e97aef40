//! `callassign serve`: the decision service. `eval` behind HTTP: every
//! answer is written by the library's [`callassign::Engine`], so the bytes
//! are `eval`'s, never a second implementation.
//!
//! One room above the library, one concept per file:
//!
//! - [`catalog`]: which rulesets a folder (or one file) offers;
//! - [`store`]: the rulesets served now, swapped whole on reload;
//! - [`reload`]: watching every file a ruleset reads, checking, swapping;
//! - [`app`]: the router and the shared state; [`routes`] the handlers,
//!   [`stream`] the NDJSON route's streaming body;
//! - [`server`]: accepting connections, their timeouts, the connection
//!   cap, graceful shutdown;
//! - [`page`]: the workbench page at `/`, built from `web/`; [`workbench`]
//!   its routes (plan, decide and diff of rule text the page sends),
//!   [`history`] the `--history` file they measure edits on;
//! - [`work`]: rule-text work (compiling, deciding, diffing what the page
//!   sends) kept apart from live decisions: turns, deadline, priority;
//! - [`cross_site`]: what a browser asks for a page of another site;
//! - [`auth`], [`metrics`], [`decision_log`], [`problem`] (JSON errors),
//!   [`observe`] (what each decision tells metrics and the log),
//!   [`clock`] (timestamps).

pub(crate) mod app;
pub(crate) mod auth;
mod catalog;
pub(crate) mod clock;
mod cross_site;
mod decision_log;
mod history;
pub(crate) mod metrics;
mod observe;
mod page;
pub(crate) mod problem;
pub(crate) mod reload;
pub(crate) mod routes;
mod server;
pub(crate) mod store;
mod stream;
mod work;
mod workbench;

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::{CliError, CliResult, InputArg, EXIT_OK, EXIT_PROBLEMS};

/// `callassign serve`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Every `NAME.rules` directly in the --rules folder is served under its name when --contexts holds `NAME.yaml` (or `.yml`, `.json`). Rule files and contexts are watched: a change is served within 2 seconds if it passes `check`, and at once on SIGHUP."
)]
pub struct Args {
    /// A folder of rule files, or one rule file (with --context) [default: the project's `rules`]
    #[arg(long, value_name = "DIR|FILE")]
    rules: Option<PathBuf>,
    /// The folder of contexts: `NAME.yaml` for `NAME.rules` [default: the project's `contexts`]
    #[arg(long, value_name = "DIR", conflicts_with = "context")]
    contexts: Option<PathBuf>,
    /// The context of the one rule file given as --rules
    #[arg(long, value_name = "FILE")]
    context: Option<PathBuf>,
    /// Address and port to listen on; port 0 picks a free one
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080", value_parser = parse_listen)]
    listen: SocketAddr,
    /// Require `Authorization: Bearer TOKEN` on /v1 and /metrics, TOKEN
    /// being this file's content (re-read when it changes)
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Past calls the workbench (at /) measures rule edits against, as
    /// `diff` does; read again when the file changes
    #[arg(long, value_name = "FILE")]
    history: Option<PathBuf>,
    /// What the --history lines are
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t = InputArg::Native, requires = "history")]
    history_input: InputArg,
    /// Append one JSON line per decision to this file
    #[arg(long, value_name = "FILE")]
    decision_log: Option<PathBuf>,
    /// Time a client has to send a request's headers once it started
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    header_timeout: Duration,
    /// Time to receive and answer one call; a stream may run longer while
    /// bytes keep moving, and ends after this long without any
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    request_timeout: Duration,
    /// Time an idle keep-alive connection is kept open
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    idle_timeout: Duration,
    /// Open connections at most; past it, a new connection gets 503
    #[arg(long, value_name = "N", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_connections: u32,
    /// On SIGTERM or SIGINT, time streams get to finish before they end
    /// at a line boundary
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    shutdown_grace: Duration,
    /// How often the files of every ruleset are looked at; a change is
    /// applied once it held still for one look
    #[arg(long, value_name = "DURATION", default_value = "250ms", value_parser = parse_duration)]
    watch_interval: Duration,
    /// Threads answering requests [default: the available cores]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    workers: Option<u16>,
    #[cfg(feature = "live")]
    #[command(flatten)]
    live: crate::live::Args,
}

/// How long the decision log gets at shutdown to write what it holds.
const LOG_FLUSH: Duration = Duration::from_secs(5);

/// The limits of [`Args`], as the server applies them.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub request_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: u32,
    pub shutdown_grace: Duration,
    /// How often the files of every ruleset are looked at. A change is
    /// applied once it has held still for one look, so within two.
    pub watch_interval: Duration,
}

/// An address and port, written with digits: a host name is not looked up
/// (`localhost` may be IPv6 or IPv4, depending on the machine), so the
/// error says which address to write instead.
fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    text.parse().map_err(|_| {
        let port = text.rsplit_once(':').map_or("8080", |(_, port)| port);
        let port = if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
            port
        } else {
            "8080"
        };
        format!(
            "write an address and a port with digits: `127.0.0.1:{port}` (this machine only), `0.0.0.0:{port}` (every interface) or `[::1]:{port}`"
        )
    })
}

pub fn run(args: Args) -> CliResult {
    raise_open_files_limit();
    let color = crate::cli::use_color(std::io::stderr().is_terminal());
    init_logs(color);

    // What the flags do not say, the project file (`callassign.toml`) may.
    let project = if args.rules.is_none() || (args.contexts.is_none() && args.context.is_none()) {
        crate::cli::project()?
    } else {
        None
    };
    // A folder the project file names but that is not there is said as
    // such, with the key to correct (not as a missing `--contexts`).
    let from_project =
        |path: &std::path::Path, key: &str, file: &std::path::Path| match std::fs::metadata(path) {
            Ok(_) => Ok(path.to_path_buf()),
            Err(error) => Err(CliError::io(path, &error).help(format!(
                "`{key}` in `{}` names it: correct it there, or give `--{key} DIR`",
                file.display()
            ))),
        };
    let rules = match (&args.rules, project) {
        (Some(rules), _) => rules.clone(),
        (None, Some(project)) => from_project(&project.rules, "rules", &project.file)?,
        (None, None) => {
            return Err(CliError::new(
                "no `--rules`, and no project file (`callassign.toml`) says where rules are",
            )
            .help("give `--rules DIR --contexts DIR`; `callassign init` writes a project file"))
        }
    };
    let contexts = match (&args.contexts, &args.context, project) {
        (None, None, Some(project)) if !rules.is_file() => {
            Some(from_project(&project.contexts, "contexts", &project.file)?)
        }
        (contexts, _, _) => contexts.clone(),
    };
    let source = match (&contexts, &args.context) {
        (Some(contexts), None) => catalog::Source::Folder {
            rules: rules.clone(),
            contexts: contexts.clone(),
        },
        (None, Some(context)) => catalog::Source::File {
            rules: rules.clone(),
            context: context.clone(),
        },
        _ => {
            return Err(CliError::new("`serve` needs contexts for its rules").help(
                "`--rules DIR --contexts DIR` serves every rule file of DIR that has a context; `--rules FILE --context FILE` serves one",
            ))
        }
    };
    source.check()?;

    let token = args
        .token_file
        .as_deref()
        .map(auth::read_token)
        .transpose()?;
    #[cfg_attr(not(feature = "live"), allow(unused_mut))]
    let mut metrics = metrics::Metrics::new();
    #[cfg(feature = "live")]
    let live_metrics = crate::live::metrics::LiveMetrics::register(metrics.registry_mut());
    let metrics = Arc::new(metrics);
    let log = args
        .decision_log
        .as_deref()
        .map(|path| decision_log::DecisionLog::open(path, Arc::clone(&metrics)))
        .transpose()?;

    let history = args
        .history
        .as_deref()
        .map(|path| history::History::open(path, args.history_input.into()).map(Arc::new))
        .transpose()?;

    let limits = Limits {
        header_timeout: args.header_timeout,
        request_timeout: args.request_timeout,
        idle_timeout: args.idle_timeout,
        max_connections: args.max_connections,
        shutdown_grace: args.shutdown_grace,
        watch_interval: args.watch_interval,
    };
    let state = Arc::new(app::State::new(
        source.clone(),
        auth::Auth::new(args.token_file.clone(), token),
        Arc::clone(&metrics),
        log.as_ref().map(decision_log::DecisionLog::writer),
        limits,
        history.clone(),
    ));
    if let Some(history) = &history {
        history.watch(limits.watch_interval);
    }

    // The first load, reported as `check` reports; nothing to serve is
    // the only reason not to start.
    let mut reloader = reload::Reloader::new(source, Arc::clone(&state));
    let served = reloader.start(color);
    if served == 0 {
        return Err(CliError::new("no ruleset can be served").help(
            "fix the errors above, or give each rule file a context: `--contexts DIR` holding `NAME.yaml` for `NAME.rules`",
        ));
    }

    let workers = args.workers.map_or_else(
        || std::thread::available_parallelism().map_or(2, |cores| cores.get()),
        usize::from,
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("callassign-serve")
        .enable_all()
        .build()
        .map_err(|error| CliError::new(format!("cannot start the server: {error}")))?;

    let outcome = runtime.block_on(async {
        // The live loop starts once the rulesets are loaded, and stops
        // after the last request is answered.
        #[cfg(feature = "live")]
        let live = crate::live::start(&args.live, &state, live_metrics).await?;
        let outcome = server::run(args.listen, state, reloader).await;
        #[cfg(feature = "live")]
        if let Some((live, tasks)) = live {
            live.shutdown(tasks).await;
        }
        outcome
    });
    // Tasks still running past the grace (a client that never finishes
    // sending) are dropped with the runtime.
    runtime.shutdown_timeout(Duration::from_millis(100));
    let outcome = outcome?;

    let lost = log.map_or(0, |log| log.close(LOG_FLUSH));
    if lost > 0 {
        noteln!(
            "error: the decision log `{}` lost {lost} {} (see the errors above)",
            args.decision_log.unwrap_or_default().display(),
            if lost == 1 { "line" } else { "lines" }
        );
        return Ok(ExitCode::from(EXIT_PROBLEMS));
    }
    tracing::info!("stopped: {outcome}");
    Ok(ExitCode::from(EXIT_OK))
}

/// Logs go to stderr, one line per event.
fn init_logs(color: bool) {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_target(false)
        .with_max_level(tracing::Level::INFO)
        .try_init();
}

/// Each connection holds a file descriptor, and the default soft limit
/// (often 1,024) is below the connection cap: raise it to the hard limit.
fn raise_open_files_limit() {
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        let mut limit = std::mem::zeroed::<libc::rlimit>();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// `10s`, `500ms`, `2m`, `1h`, or a number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, scale) = if let Some(number) = text.strip_suffix("ms") {
        (number, 0.001)
    } else if let Some(number) = text.strip_suffix('s') {
        (number, 1.0)
    } else if let Some(number) = text.strip_suffix('m') {
        (number, 60.0)
    } else if let Some(number) = text.strip_suffix('h') {
        (number, 3600.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration: write `10s`, `500ms` or `2m`"))?;
    if !value.is_finite() || value <= 0.0 || value * scale > 86_400.0 {
        return Err(format!(
            "`{text}` is out of range: a duration is above zero and at most a day"
        ));
    }
    Ok(Duration::from_secs_f64(value * scale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_written() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("ten").unwrap_err().contains("`10s`"));
        assert!(parse_duration("2d").is_err());
    }
}
