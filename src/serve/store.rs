//! The rulesets served now. A reload builds a new version of a ruleset
//! and swaps the whole set; a request clones the entry it resolved (a
//! reference count) and finishes on it, whatever is swapped meanwhile.
//! No lock is held while deciding.

use std::collections::BTreeMap;
use std::path::PathBuf;
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

/// The rulesets served now.
#[derive(Debug, Default)]
pub struct Store {
    current: RwLock<Arc<Served>>,
}

impl Store {
    /// The entry served as `name`, or a 404 that names those served.
    pub fn get(&self, name: &str) -> Result<Arc<Entry>, Problem> {
        let served = self.snapshot();
        match served.by_name.get(name) {
            Some(entry) => Ok(Arc::clone(entry)),
            None => {
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
                Err(Problem::new(
                    StatusCode::NOT_FOUND,
                    "callassign::unknown_ruleset",
                    format!(
                        "no ruleset `{}` is served",
                        callassign::diagnostics::terminal::printable(name)
                    ),
                )
                .help(help))
            }
        }
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
        let mut by_name = current.by_name.clone();
        let previous = by_name.insert(entry.name.clone(), Arc::new(entry));
        *current = Arc::new(Served { by_name });
        previous
    }

    fn snapshot(&self) -> Arc<Served> {
        Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()))
    }
}
