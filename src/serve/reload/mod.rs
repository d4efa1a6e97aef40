//! Hot reload: every file a ruleset reads is looked at every
//! `--watch-interval` (its rule file, the whole
//! `extends` chain, the context and the directory files it names), and
//! the folders for new rule files. A change is loaded once it has held
//! still for one look (an editor half-way through writing is not
//! served), checked as `check --context` checks, and swapped in whole;
//! or refused, and the last good version keeps serving. SIGHUP loads
//! everything at once.
//!
//! Loading happens on a thread of its own: requests never wait for it.

mod outcome;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;

use callassign::diagnostics::finding::sort_and_dedup;
use callassign::{Error, Ruleset};

use super::app::{LastReload, State};
use super::catalog::Source;
use outcome::{describe, json_findings};

/// What a file looked like: enough to see that it changed (an editor's
/// save, a rename over it, a Kubernetes ConfigMap's link swap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    device: u64,
    inode: u64,
    size: u64,
    modified: (i64, i64),
    changed: (i64, i64),
    mode: u32,
}

/// The file a path leads to; for a link that leads nowhere (dangling, or a
/// loop), the link itself, so that its deletion or replacement is still a
/// change to look at. `None`: nothing is there.
pub(crate) fn fingerprint(path: &Path) -> Option<Fingerprint> {
    use std::os::unix::fs::MetadataExt;
    let metadata = std::fs::metadata(path)
        .or_else(|_| std::fs::symlink_metadata(path))
        .ok()?;
    Some(Fingerprint {
        device: metadata.dev(),
        inode: metadata.ino(),
        size: metadata.size(),
        modified: (metadata.mtime(), metadata.mtime_nsec()),
        changed: (metadata.ctime(), metadata.ctime_nsec()),
        mode: metadata.mode(),
    })
}

type Look = Vec<(PathBuf, Option<Fingerprint>)>;

fn look(paths: &[PathBuf]) -> Look {
    paths
        .iter()
        .map(|path| (path.clone(), fingerprint(path)))
        .collect()
}

/// A look at `paths` that keeps what `before` saw of the paths it saw
/// (a change since then is still a change) and looks at the others now.
fn relook(paths: &[PathBuf], before: &Look) -> Look {
    paths
        .iter()
        .map(|path| {
            before
                .iter()
                .find(|(seen, _)| seen == path)
                .cloned()
                .unwrap_or_else(|| (path.clone(), fingerprint(path)))
        })
        .collect()
}

/// One rule file known to the reloader.
#[derive(Debug)]
struct Watched {
    rules: PathBuf,
    /// Its context; `Err`: why it has none (then it is not served).
    context: Result<PathBuf, String>,
    /// The files the last attempt read, as they were then.
    seen: Look,
    /// A change seen on the last look: loaded if it still holds.
    pending: Option<Look>,
    /// Whether a version of it is served.
    served: bool,
    /// Whether the last attempt failed.
    failed: bool,
}

/// Orders for the reload thread.
enum Order {
    /// SIGHUP: load everything now.
    Now,
    Stop,
}

/// The token file, watched like a rule file.
#[derive(Debug)]
struct TokenWatch {
    path: PathBuf,
    seen: Option<Fingerprint>,
    pending: Option<Option<Fingerprint>>,
}

pub struct Reloader {
    source: Source,
    state: Arc<State>,
    known: BTreeMap<String, Watched>,
    token: Option<TokenWatch>,
    color: bool,
    /// Whether the first load is done: later attempts are reloads.
    started: bool,
}

/// The running reload thread.
pub struct Handle {
    orders: Sender<Order>,
}

impl Handle {
    /// Loads every ruleset now (SIGHUP).
    pub fn now(&self) {
        let _ = self.orders.send(Order::Now);
    }

    /// Stops the thread. It is not waited for: a load in progress ends
    /// with the process.
    pub fn stop(&self) {
        let _ = self.orders.send(Order::Stop);
    }
}

impl Reloader {
    pub fn new(source: Source, state: Arc<State>) -> Reloader {
        let token = state.auth.path().map(|path| TokenWatch {
            path: path.to_path_buf(),
            seen: fingerprint(path),
            pending: None,
        });
        Reloader {
            source,
            state,
            known: BTreeMap::new(),
            token,
            color: false,
            started: false,
        }
    }

    /// The first load: every rule file found, reported on stderr as
    /// `check` reports, then which rulesets are served. Returns how many
    /// are.
    pub fn start(&mut self, color: bool) -> usize {
        self.color = color;
        let mut findings = Vec::new();
        let mut lines = Vec::new();
        for candidate in self.source.scan() {
            let mut watched = Watched {
                rules: candidate.rules.clone(),
                context: candidate.context.clone(),
                seen: Vec::new(),
                pending: None,
                served: false,
                failed: false,
            };
            let name = candidate.name.clone();
            match &candidate.context {
                Err(reason) => {
                    lines.push(format!("not serving {name}: {reason}"));
                    self.not_served(&name, &watched.rules, reason.clone(), Vec::new());
                }
                Ok(context) => {
                    let paths = self.watch_paths(&watched);
                    let before = look(&paths);
                    match Ruleset::load(&watched.rules, context) {
                        Ok(ruleset) => {
                            findings.extend(ruleset.findings.iter().cloned());
                            for warning in &ruleset.context_warnings {
                                lines.push(format!("warning: {}: {warning}", context.display()));
                            }
                            lines.push(format!(
                                "serving {} from {} and {} (hash {})",
                                ruleset.name,
                                watched.rules.display(),
                                context.display(),
                                &ruleset.hash[..12]
                            ));
                            self.apply(&name, &watched, ruleset, context);
                            watched.served = true;
                        }
                        Err(error) => {
                            if let Error::Rules {
                                findings: found, ..
                            } = &error
                            {
                                findings.extend(found.iter().cloned());
                            }
                            lines.push(format!("not serving {name}: {}", describe(&error)));
                            self.not_served(
                                &name,
                                &watched.rules,
                                error.to_string(),
                                json_findings(&error),
                            );
                            watched.failed = true;
                        }
                    }
                    // Served or not, it now depends on other files than
                    // before loading: those are looked at now.
                    watched.seen = relook(&self.watch_paths(&watched), &before);
                }
            }
            self.known.insert(name, watched);
        }
        sort_and_dedup(&mut findings);
        self.print_findings(&findings);
        for line in lines {
            noteln!("{line}");
        }
        self.started = true;
        self.state.store.len()
    }

    /// Starts the reload thread.
    pub fn spawn(mut self) -> Handle {
        let (orders, inbox) = mpsc::channel();
        let interval = self.state.limits.watch_interval;
        let spawned = std::thread::Builder::new()
            .name("reload".into())
            .spawn(move || loop {
                let force = match inbox.recv_timeout(interval) {
                    Ok(Order::Now) => {
                        tracing::info!("SIGHUP: reloading every ruleset");
                        true
                    }
                    Err(RecvTimeoutError::Timeout) => false,
                    Ok(Order::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                };
                // A bug while loading must not end reloading for good: what
                // is served keeps serving, and the next look tries again.
                let looked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    self.tick(force);
                }));
                if looked.is_err() {
                    tracing::error!("reloading failed (a bug in callassign: please report it); what is served keeps serving");
                }
            });
        if let Err(error) = spawned {
            tracing::error!("cannot start watching files ({error}): changes are not reloaded");
        }
        Handle { orders }
    }

    /// The files a rule file's version depends on: the rule file and its
    /// context, every file the served version read, and while it has no
    /// good version, every rule file beside it (any may be in its chain).
    fn watch_paths(&self, watched: &Watched) -> Vec<PathBuf> {
        let mut paths = vec![watched.rules.clone()];
        if let Ok(context) = &watched.context {
            paths.push(context.clone());
        }
        let name = watched
            .rules
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned());
        if watched.served {
            if let Some(entry) = name.and_then(|name| self.state.store.entry(&name)) {
                paths.extend(entry.files.iter().cloned());
            }
        }
        if watched.failed || !watched.served {
            let folder = watched
                .rules
                .parent()
                .filter(|parent| !parent.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            if let Ok(entries) = std::fs::read_dir(folder) {
                let mut siblings: Vec<PathBuf> = entries
                    .flatten()
                    .map(|entry| entry.path())
                    .filter(|path| path.extension().is_some_and(|ext| ext == "rules"))
                    .collect();
                siblings.sort();
                paths.extend(siblings);
            }
        }
        paths.sort();
        paths.dedup();
        paths
    }

    /// One look at every file; `force` loads everything (SIGHUP).
    fn tick(&mut self, force: bool) {
        self.tick_token(force);
        let candidates = self.source.scan();
        for candidate in &candidates {
            match self.known.get_mut(&candidate.name) {
                None => {
                    // New: loaded once it holds still for a look.
                    self.known.insert(
                        candidate.name.clone(),
                        Watched {
                            rules: candidate.rules.clone(),
                            context: candidate.context.clone(),
                            seen: Vec::new(),
                            pending: None,
                            served: false,
                            failed: false,
                        },
                    );
                }
                Some(watched) => {
                    // A context that appeared, or moved (`.yaml` to `.json`);
                    // one that went away is watched where it was (and its
                    // absence refused, the last good version serving).
                    if let Ok(context) = &candidate.context {
                        if watched.context.as_ref() != Ok(context) {
                            watched.context = Ok(context.clone());
                            watched.seen.clear();
                        }
                    } else if !watched.served {
                        watched.context = candidate.context.clone();
                    }
                }
            }
        }
        let names: Vec<String> = self.known.keys().cloned().collect();
        for name in names {
            let still_there = candidates.iter().any(|candidate| candidate.name == name);
            self.tick_one(&name, force, still_there);
        }
    }

    fn tick_one(&mut self, name: &str, force: bool, still_there: bool) {
        let Some(watched) = self.known.get(name) else {
            return;
        };
        if !watched.served && !still_there {
            // A rule file that was never served is gone: forget it.
            self.known.remove(name);
            self.state.book().not_served.remove(name);
            return;
        }
        let context = match &watched.context {
            Ok(context) => context.clone(),
            Err(reason) => {
                let (rules, reason) = (watched.rules.clone(), reason.clone());
                self.not_served(name, &rules, reason, Vec::new());
                return;
            }
        };
        let paths = self.watch_paths(watched);
        let now = look(&paths);
        let watched = self.known.get_mut(name).expect("known");
        if !force {
            if now == watched.seen {
                watched.pending = None;
                return;
            }
            if watched.pending.as_ref() != Some(&now) {
                // Changed since the last look: wait for it to hold still.
                watched.pending = Some(now);
                return;
            }
        }
        let rules = watched.rules.clone();
        let loaded = Ruleset::load(&rules, &context);
        if look(&paths) != now {
            // Changed while loading: look again next time.
            watched.pending = None;
            return;
        }
        match loaded {
            Ok(ruleset) => {
                let watched_copy = Watched {
                    rules: rules.clone(),
                    context: Ok(context.clone()),
                    seen: Vec::new(),
                    pending: None,
                    served: true,
                    failed: false,
                };
                if !ruleset.findings.is_empty() {
                    self.print_findings(&ruleset.findings);
                }
                for warning in &ruleset.context_warnings {
                    tracing::warn!("{}: {warning}", context.display());
                }
                self.apply(name, &watched_copy, ruleset, &context);
                // What was loaded is what `now` saw (it held still while
                // loading): a change made since, even the moment the new
                // version started serving, is a change at the next look.
                let seen = relook(&self.watch_paths(&watched_copy), &now);
                let watched = self.known.get_mut(name).expect("known");
                watched.served = true;
                watched.failed = false;
                watched.pending = None;
                watched.seen = seen;
            }
            Err(error) => {
                let served = watched.served;
                watched.failed = true;
                watched.pending = None;
                // Failed, it is watched with every rule file beside it.
                let watched = self.known.get(name).expect("known");
                let seen = relook(&self.watch_paths(watched), &now);
                self.known.get_mut(name).expect("known").seen = seen;
                self.refuse(name, &rules, served, &error);
            }
        }
    }

    /// The token file: re-read when it changed and held still, or on SIGHUP.
    fn tick_token(&mut self, force: bool) {
        let Some(token) = &mut self.token else {
            return;
        };
        let now = fingerprint(&token.path);
        if !force {
            if now == token.seen {
                token.pending = None;
                return;
            }
            if token.pending.as_ref() != Some(&now) {
                token.pending = Some(now);
                return;
            }
        }
        token.seen = now;
        token.pending = None;
        match super::auth::read_token(&token.path) {
            Ok(value) => {
                self.state.auth.set(&value);
                self.state.book().token = None;
                tracing::info!("token file `{}` re-read", token.path.display());
            }
            Err(error) => {
                self.state.metrics.token_reloads_refused.inc();
                tracing::error!(
                    "{}; the previous token stays in force{}",
                    error.message,
                    error
                        .help
                        .as_deref()
                        .map(|help| format!(" (help: {help})"))
                        .unwrap_or_default()
                );
                self.state.book().token = Some(LastReload {
                    at: super::clock::now(),
                    result: "refused",
                    findings: vec![outcome::refusal(
                        "callassign::token_refused",
                        Some(&token.path),
                        &error.message,
                        error.help.as_deref(),
                    )],
                });
            }
        }
    }
}
