//! `callassign decisions`: what the live loop's store holds, from the
//! command line: the calls still pending and those that failed, one call,
//! and replaying a failed delivery.

use std::process::ExitCode;

use clap::ValueEnum;

use crate::live::store::{self, Key, Listing, Store};
use crate::live::view;

use super::{CliError, CliResult, EXIT_OK, EXIT_PROBLEMS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Which {
    /// Not decided yet, or with a delivery still to make
    Pending,
    /// Given up, unreadable, or with a failed delivery
    Failed,
    /// Both
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "A replayed delivery goes to the back of its target's queue; a running `callassign serve` on the same store sends it within a second. A call given up or unreadable is fetched again."
)]
pub struct Args {
    /// The store `callassign serve --store` uses: `sqlite:PATH` or `postgres://…`
    #[arg(long, value_name = "URL")]
    store: String,
    /// Which calls to list
    #[arg(long, value_enum, default_value_t = Which::All, conflicts_with_all = ["call", "replay"])]
    state: Which,
    /// Show this call only
    #[arg(long, value_name = "CALL_ID", conflicts_with = "replay")]
    call: Option<String>,
    /// Deliver this call's failed deliveries again (and fetch it again if
    /// it was given up)
    #[arg(long, value_name = "CALL_ID")]
    replay: Option<String>,
    /// The ruleset, when several hold the call
    #[arg(long, value_name = "NAME")]
    ruleset: Option<String>,
    /// Replay only the delivery to this target
    #[arg(long, value_name = "URL", requires = "replay")]
    target: Option<String>,
    /// At most this many calls listed (pending ones first); stderr says
    /// when there are more
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    limit: u32,
    /// Text for people, or one JSON object per line
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

pub fn run(args: Args) -> CliResult {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| CliError::new(format!("cannot start: {error}")))?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: Args) -> CliResult {
    let store = store::open(&args.store, false)
        .await
        .map_err(|error| CliError::new(error.0))?;
    let failed = |error: store::StoreError| CliError::new(error.0);
    if let Some(call) = &args.replay {
        let key = resolve(&*store, call, args.ruleset.as_deref()).await?;
        // The target as listings show it (no credentials, no query) names
        // the stored one too.
        let target = match &args.target {
            Some(given) => {
                let views = store
                    .views(&key.call, Some(&key.ruleset))
                    .await
                    .map_err(failed)?;
                let stored = views
                    .iter()
                    .flat_map(|view| &view.deliveries)
                    .map(|delivery| &delivery.target)
                    .find(|stored| *stored == given || crate::live::shown_target(stored) == *given);
                Some(stored.unwrap_or(given).clone())
            }
            None => None,
        };
        let replayed = store
            .replay(&key, target.as_deref(), store::now())
            .await
            .map_err(failed)?;
        if replayed == 0 {
            return Err(CliError::new(format!(
                "`{key}` has nothing to replay: no failed delivery{}, and it was not given up",
                args.target
                    .as_deref()
                    .map_or(String::new(), |target| format!(
                        " to `{}`",
                        crate::live::shown_target(target)
                    ))
            ))
            .help("`callassign decisions --store URL --call ID` shows its state"));
        }
        outln!("{key}: {replayed} replayed");
        return Ok(ExitCode::from(EXIT_OK));
    }
    let mut more = false;
    let views = if let Some(call) = &args.call {
        let key = resolve(&*store, call, args.ruleset.as_deref()).await?;
        store
            .views(&key.call, Some(&key.ruleset))
            .await
            .map_err(failed)?
    } else {
        // One more than shown is asked for, to know whether there are more.
        let limit = args.limit as usize;
        let mut views = Vec::new();
        for which in match args.state {
            Which::Pending => &[Listing::Pending][..],
            Which::Failed => &[Listing::Failed][..],
            Which::All => &[Listing::Pending, Listing::Failed][..],
        } {
            for view in store.list(*which, limit + 1).await.map_err(failed)? {
                if !views.contains(&view) {
                    views.push(view);
                }
            }
        }
        if views.len() > limit {
            views.truncate(limit);
            more = true;
        }
        views
    };
    for view in &views {
        match args.format {
            Format::Human => outln!("{}", view::human(view)),
            Format::Json => outln!("{}", view::json(view)),
        }
    }
    if views.is_empty() && args.format == Format::Human {
        noteln!("nothing pending or failed");
    }
    if more {
        noteln!(
            "more calls than these {}: raise `--limit`, or narrow with `--state`",
            args.limit
        );
    }
    Ok(ExitCode::from(if args.call.is_some() && views.is_empty() {
        EXIT_PROBLEMS
    } else {
        EXIT_OK
    }))
}

/// The stored event of `call`: the one of `ruleset`, or the only one.
async fn resolve(store: &dyn Store, call: &str, ruleset: Option<&str>) -> Result<Key, CliError> {
    let views = store
        .views(call, ruleset)
        .await
        .map_err(|error| CliError::new(error.0))?;
    match views.as_slice() {
        [view] => Ok(view.key.clone()),
        [] => Err(CliError::new(match ruleset {
            Some(ruleset) => format!("the store holds no call `{call}` of ruleset `{ruleset}`"),
            None => format!("the store holds no call `{call}`"),
        })),
        several => Err(CliError::new(format!(
            "call `{call}` is held by several rulesets: {}",
            several
                .iter()
                .map(|view| format!("`{}`", view.key.ruleset))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .help("name one with `--ruleset NAME`")),
    }
}
