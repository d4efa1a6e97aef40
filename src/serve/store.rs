//! The rulesets served now. A reload builds a new version of a ruleset
//! and swaps the whole set; a request clones the entry it resolved (a
//! reference count) and finishes on it, whatever is swapped meanwhile.
//! No lock is held while deciding, and none is taken to resolve a
//! ruleset: each thread keeps the set it last saw, and only reads the
//! shared one again once a swap has changed its generation.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::http::{HeaderValue, StatusCode};

use callassign::{Engine, Ruleset};

use super::metrics::RulesetMetrics;
use super::problem::Problem;

/// One version of a served ruleset.
#[derive(Debug)]
pub struct Entry {
    pub name: String,
    pub engine: Engine,
    pub hash: String,
    /// The rule file's own text in this version (the workbench shows it).
    pub text: Arc<str>,
    /// `hash`, ready to put in a header.
    pub hash_header: HeaderValue,
    /// When this version started serving.
    pub loaded_at: String,
    pub rules: PathBuf,
    pub context: PathBuf,
    /// Every file this version read.
    pub files: Vec<PathBuf>,
    pub metrics: RulesetMetrics,
    /// `"ruleset":…,"hash":…,` for the decision log's lines.
    pub log_fields: String,
}

impl Entry {
    pub fn new(
        ruleset: Ruleset,
        rules: PathBuf,
        context: PathBuf,
        loaded_at: String,
        metrics: RulesetMetrics,
    ) -> Entry {
        let hash_header =
            HeaderValue::from_str(&ruleset.hash).expect("a hex hash is a header value");
        let log_fields = format!(
            "\"ruleset\":{},\"hash\":\"{}\",",
            serde_json::to_string(&ruleset.name).expect("a name serializes"),
            ruleset.hash
        );
        Entry {
            log_fields,
            name: ruleset.name,
            engine: ruleset.engine,
            hash: ruleset.hash,
            text: ruleset.text,
            hash_header,
            loaded_at,
            rules,
            context,
            files: ruleset.files,
            metrics,
        }
    }
}

/// The set served: swapped whole.
#[derive(Debug, Default)]
struct Served {
    by_name: BTreeMap<String, Arc<Entry>>,
}

/// Generations of every store, so that a thread's remembered set is
/// never taken for another store's (0: none yet).
static GENERATIONS: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The set this thread last resolved a ruleset in, and its
    /// generation. It may keep a replaced set (and its engines) alive
    /// until the thread's next request: at most one set per thread.
    static SEEN: RefCell<(u64, Option<Arc<Served>>)> = const { RefCell::new((0, None)) };
}

/// The rulesets served now.
#[derive(Debug)]
pub struct Store {
    /// The set and its generation, replaced together.
    current: RwLock<(u64, Arc<Served>)>,
    /// `current`'s generation, read without the lock.
    generation: AtomicU64,
}

impl Default for Store {
    fn default() -> Store {
        let generation = GENERATIONS.fetch_add(1, Ordering::Relaxed);
        Store {
            current: RwLock::new((generation, Arc::default())),
            generation: AtomicU64::new(generation),
        }
    }
}

impl Store {
    /// The entry served as `name`, or a 404 that names those served. For
    /// requests: the thread remembers the set (see `SEEN`).
    pub fn get(&self, name: &str) -> Result<Arc<Entry>, Problem> {
        let found = SEEN.with(|seen| {
            let mut seen = seen.borrow_mut();
            if seen.0 != self.generation.load(Ordering::Acquire) || seen.1.is_none() {
                let current = self.current.read().unwrap_or_else(|p| p.into_inner());
                *seen = (current.0, Some(Arc::clone(&current.1)));
            }
            seen.1
                .as_ref()
                .and_then(|served| served.by_name.get(name))
                .cloned()
        });
        found.ok_or_else(|| self.unknown(name))
    }

    /// The 404 for `name`, naming the rulesets served.
    fn unknown(&self, name: &str) -> Problem {
        let served = self.snapshot();
        let names: Vec<String> = served
            .by_name
            .keys()
            .map(|name| format!("`{name}`"))
            .collect();
        let suggestion = callassign::diagnostics::suggest::did_you_mean(
            name,
            served.by_name.keys().map(String::as_str),
        );
        let mut help = format!("served: {}", names.join(", "));
        if let Some(suggestion) = suggestion {
            help = format!("did you mean `{suggestion}`? {help}");
        }
        Problem::new(
            StatusCode::NOT_FOUND,
            "callassign::unknown_ruleset",
            format!(
                "no ruleset `{}` is served",
                crate::serve::problem::echo(name)
            ),
        )
        .help(help)
    }

    /// The entry served as `name`, read from the shared set: for the
    /// reloader, whose thread must not keep a set alive (see `SEEN`).
    pub fn entry(&self, name: &str) -> Option<Arc<Entry>> {
        self.snapshot().by_name.get(name).cloned()
    }

    /// Every entry served, by name.
    pub fn entries(&self) -> Vec<Arc<Entry>> {
        self.snapshot().by_name.values().cloned().collect()
    }

    /// How many rulesets are served.
    pub fn len(&self) -> usize {
        self.snapshot().by_name.len()
    }

    /// Serves `entry` under its name from now on; returns the version it
    /// replaces.
    pub fn put(&self, entry: Entry) -> Option<Arc<Entry>> {
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        let mut by_name = current.1.by_name.clone();
        let previous = by_name.insert(entry.name.clone(), Arc::new(entry));
        let generation = GENERATIONS.fetch_add(1, Ordering::Relaxed);
        *current = (generation, Arc::new(Served { by_name }));
        self.generation.store(generation, Ordering::Release);
        previous
    }

    fn snapshot(&self) -> Arc<Served> {
        Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()).1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(loaded_at: &str) -> Entry {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let (rules, context) = (
            root.join("rules/hubspot.rules"),
            root.join("examples/hubspot.context.yaml"),
        );
        let ruleset = Ruleset::load(&rules, &context).expect("the shipped rules load");
        let metrics = super::super::metrics::Metrics::new().ruleset("hubspot");
        Entry::new(ruleset, rules, context, loaded_at.to_string(), metrics)
    }

    #[test]
    fn a_swap_is_seen_by_the_next_lookup_on_the_same_thread() {
        let store = Store::default();
        assert_eq!(
            store.get("hubspot").unwrap_err().status,
            StatusCode::NOT_FOUND
        );
        store.put(entry("first"));
        assert_eq!(store.get("hubspot").unwrap().loaded_at, "first");
        let previous = store.put(entry("second")).unwrap();
        assert_eq!(previous.loaded_at, "first");
        assert_eq!(store.get("hubspot").unwrap().loaded_at, "second");
        assert_eq!(store.entry("hubspot").unwrap().loaded_at, "second");
        // Another store on the same thread is never answered from this
        // one's set.
        let other = Store::default();
        assert!(other.get("hubspot").is_err());
        assert_eq!(store.get("hubspot").unwrap().loaded_at, "second");
        assert!(store
            .get("hubspo")
            .unwrap_err()
            .help
            .unwrap()
            .contains("did you mean `hubspot`?"));
    }
}
