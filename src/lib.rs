//! callassign decides who owns the follow-up of an exported phone call.
//!
//! Rule files say, as data, which steps to try and in what order. The
//! library loads them with their `extends` chain, checks them (every
//! problem a [`Finding`] with a stable [`Code`] and a span), compiles them
//! into one flat [`Plan`], and decides calls with it against an integration
//! [`Context`].
//!
//! The layers inside, from the ground up (ARCHITECTURE.md in the
//! repository has their invariants): the shared [`vocabulary`] and safe
//! file access; [`diagnostics`]; rule syntax and the data [`model`] (calls,
//! contexts); semantics (load, check, compile); the runtime (the engine,
//! batches); impact reports and rule tests. Only the facade below, and the
//! documented modules its types come from, are the library's promise: the
//! stages behind it are public for the `callassign` binary, hidden from
//! these pages, and may change in any release.
//!
//! # The facade
//!
//! What a program embedding callassign needs is at the root: compile rules
//! ([`compile_file`], [`compile_text`]) or load a whole [`Ruleset`] (rules,
//! context and the hash of both); decide with an [`Engine`] (owned,
//! `Send + Sync`, cloned by reference count); read calls from bytes one
//! document, one batch or one line at a time ([`Engine::assign_document`],
//! [`Engine::assign_batch`], [`Engine::assign_line`], [`LineSplitter`])
//! with the bytes `eval` writes; and one [`Error`] for what the library
//! refuses, whose context problems are [`Problem`]s with a code, and the
//! file and span they point at ([`Call::read_json`] says a call that
//! cannot be read the same way).
//!
//! ```
//! use callassign::{compile_text, Call, Context, Engine};
//!
//! let rules = "ruleset demo\nstep call_agent unless direction == incoming and status in [missed, voicemail]\nstep last_step_agent\nfallback integration\n";
//! let compiled = compile_text("demo.rules", rules);
//! assert!(compiled.findings.is_empty());
//! let plan = compiled.plan.unwrap();
//!
//! let context = Context::from_yaml("integration: hubspot\nfallback: installer\ninstaller: hs-1\nusers:\n  - {id: hs-1, email: admin@acme.com}\n  - {id: hs-3, email: bob@acme.com}\n").unwrap();
//! let engine = Engine::new(plan, context);
//!
//! let call = Call::from_json(r#"{"id":"c-7","direction":"incoming","status":"missed","agent":"alice@acme.com",
//!     "flow":[{"type":"call_to_agent","agent":"Bob@Acme.com"}]}"#).unwrap();
//! let decision = engine.decide(&call);
//! assert_eq!(decision.assignee.map(|user| user.id.as_str()), Some("hs-3"));
//! assert_eq!(decision.step.name(), "last_step_agent");
//! ```
//!
//! A service keeps one engine per ruleset and shares it across threads,
//! answering each request with the line `eval` would write:
//!
//! ```
//! use std::sync::{Arc, RwLock};
//! use callassign::{DocumentFormat, Options, Ruleset};
//!
//! let ruleset = Ruleset::load("rules/hubspot.rules".as_ref(), "examples/hubspot.context.yaml".as_ref()).unwrap();
//! // What a reload swaps: requests in flight keep the engine they cloned.
//! let served = Arc::new(RwLock::new(ruleset));
//!
//! let workers: Vec<_> = (0..2).map(|n| {
//!     let served = Arc::clone(&served);
//!     std::thread::spawn(move || {
//!         let (engine, hash) = {
//!             let current = served.read().unwrap();
//!             (current.engine.clone(), current.hash.clone())
//!         };
//!         let body = format!(r#"{{"id":"c-{n}","direction":"outgoing","status":"answered","agent":"alice@acme.com"}}"#);
//!         let mut answer = Vec::new();
//!         let written = engine
//!             .assign_document(&body, DocumentFormat::Json, Options::default(), &mut answer, &mut ())
//!             .expect("one call")
//!             .expect("a Vec takes every write");
//!         assert_eq!(written.unreadable, 0);
//!         (hash, String::from_utf8(answer).unwrap())
//!     })
//! }).collect();
//! for worker in workers {
//!     let (hash, answer) = worker.join().unwrap();
//!     assert_eq!(hash.len(), 64);
//!     assert!(answer.ends_with("\"step\":\"call_agent\"}\n"), "{answer}");
//! }
//! ```
//!
//! A stream of calls arriving in pieces (a request body) is split into
//! the lines a batch reads, each answered as `eval` answers it; an
//! [`Observer`] hears each decision, for metrics or a decision log:
//!
//! ```
//! use callassign::{Call, Decision, LineSplitter, Observer, Options, Ruleset, Summary, TraceEntry};
//!
//! /// Counts decisions by step, as a service's metrics do.
//! #[derive(Default)]
//! struct Steps(std::collections::BTreeMap<&'static str, u64>, u64);
//!
//! impl Observer for Steps {
//!     fn decided(&mut self, _: &Call<'_>, decision: &Decision<'_>, _: Option<&[TraceEntry]>) {
//!         *self.0.entry(decision.step.name()).or_default() += 1;
//!     }
//!     fn unreadable(&mut self, _line: u64, _call: Option<&str>, _message: &str) {
//!         self.1 += 1;
//!     }
//! }
//!
//! let ruleset = Ruleset::load("rules/hubspot.rules".as_ref(), "examples/hubspot.context.yaml".as_ref()).unwrap();
//! let engine = ruleset.engine.clone();
//! let (mut out, mut summary, mut steps) = (Vec::new(), Summary::default(), Steps::default());
//! let mut splitter = LineSplitter::default();
//! let pieces: [&[u8]; 3] = [
//!     br#"{"id":"a","direction":"outgoing","status":"answered","agent":"bob@acme.com"}"#,
//!     b"\n{\"id\":\"b\",\"direction\":\"incoming\",\"status\":\"missed\"}\n{",
//!     b"\n",
//! ];
//! for piece in pieces {
//!     splitter.push(piece, |number, line| {
//!         engine.assign_line(number, line, Options::default(), &mut out, &mut summary, &mut steps).unwrap();
//!     });
//! }
//! splitter.finish(|number, line| {
//!     engine.assign_line(number, line, Options::default(), &mut out, &mut summary, &mut steps).unwrap();
//! });
//! let out = String::from_utf8(out).unwrap();
//! assert_eq!(out.lines().count(), 3); // one line out per line in
//! assert!(out.lines().nth(2).unwrap().starts_with("{\"line\":3,\"error\":"));
//! assert_eq!(steps.0["call_agent"], 1);
//! assert_eq!(steps.0["integration_fallback"], 1);
//! assert_eq!(steps.1, 1);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// A closed set of words: an enum whose values each have one spelling in
/// rule files, data and reports. Gives `ALL` (in the order written),
/// `name` and `from_name`, so a word list is written once.
macro_rules! words {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $word:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$variant_meta])* #[doc = concat!("`", $word, "`")] $variant ),+
        }

        impl $name {
            /// Every value, in the order written.
            pub const ALL: [$name; [$($word),+].len()] = [$($name::$variant),+];

            /// The word for this value.
            pub const fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }

            /// The value a word stands for.
            pub fn from_name(word: &str) -> Option<$name> {
                match word {
                    $($word => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

// The documented modules: what the facade's types are made of.
pub mod diagnostics;
pub mod model;
#[cfg(feature = "schema")]
pub mod schema;
pub mod vocabulary;

mod error;
mod ruleset;

// The library guide's examples are compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../docs/library.md")]
struct LibraryGuide;

// The stages behind the facade. Public for the `callassign` binary (the
// command line, the language server), which is a crate of its own; hidden
// from the documentation and outside the compatibility promise: a program
// embedding callassign uses the root.
#[doc(hidden)]
pub mod files;
#[doc(hidden)]
pub mod impact;
#[doc(hidden)]
pub mod rule_test;
#[doc(hidden)]
pub mod runtime;
#[doc(hidden)]
pub mod semantics;
#[doc(hidden)]
pub mod syntax;

use std::io;
use std::path::Path;

use crate::semantics::load::{Overlay, RuleSource};

pub use crate::diagnostics::finding::{Code, Finding, Severity};
pub use crate::diagnostics::problem::{Problem, ProblemCode};
pub use crate::error::Error;
/// A CloudTalk call-history item and the call-detail record of the same
/// call joined into the one record `eval --input cloudtalk` reads as that
/// call (the history item, with the detail's `call_steps` as its flow):
/// see [`model::cloudtalk::combine`].
pub use crate::model::cloudtalk::combine as cloudtalk_combined;
pub use crate::model::{Call, Context, User};
pub use crate::ruleset::Ruleset;
pub use crate::runtime::batch::{
    DocumentFormat, InputFormat, KeyCounts, LineSplitter, NotOneCall, Observer, Options,
    OutputFormat, Summary, Written, MAX_LINE_BYTES,
};
pub use crate::runtime::evaluate::{DecidedBy, Decision, Engine, Outcome, TraceEntry, TracedUser};
use crate::semantics::compile;
pub use crate::semantics::compile::Compiled;
pub use crate::semantics::load::Loader;
pub use crate::semantics::plan::Plan;
pub use crate::vocabulary::{Direction, Status};

/// Loads a rule file with its `extends` chain and compiles it: what
/// `callassign check` does. An error only when the file itself cannot be
/// read; everything wrong inside it is a finding, and a file with error
/// findings has no plan.
///
/// ```
/// let compiled = callassign::compile_file("rules/zendesk.rules".as_ref()).unwrap();
/// assert!(compiled.findings.is_empty());
/// let plan = compiled.plan.unwrap();
/// assert_eq!(plan.steps.len(), 4); // zendesk has no contact owners
/// ```
pub fn compile_file(path: &Path) -> io::Result<Compiled> {
    compile_with(&mut Loader::new(), path)
}

/// Like [`compile_file`], sharing already loaded files with earlier calls,
/// and reading them from the loader's source: the disk, or in-memory
/// documents over it ([`Overlay`]), as a service checking rule text sent
/// to it beside the files it serves does.
///
/// ```
/// use std::path::Path;
/// use callassign::semantics::load::{FileSystem, Loader, Overlay};
///
/// // `team.rules` is not on disk: it extends the `hubspot.rules` that is.
/// let mut documents = Overlay::new(FileSystem);
/// documents.open("rules/team.rules", "ruleset team extends hubspot\ndisable favorite_agnet\n");
/// let compiled = callassign::compile_with(&mut Loader::with_source(documents), Path::new("rules/team.rules")).unwrap();
/// assert_eq!(compiled.findings[0].help(), Some("did you mean `favorite_agent`?"));
/// ```
pub fn compile_with<S: RuleSource>(loader: &mut Loader<S>, path: &Path) -> io::Result<Compiled> {
    let chain = loader.load_chain(path)?;
    Ok(compile::compile(&chain))
}

/// Compiles rule text that is not in a file. `name` is what reports call
/// it (its stem must match the ruleset name); the only file it can extend
/// is the built-in `default`.
///
/// ```
/// use callassign::Code;
///
/// let compiled = callassign::compile_text("team.rules", "ruleset team\nstep last_step_agnet\nfallback integration\n");
/// assert!(compiled.plan.is_none());
/// let finding = &compiled.findings[0];
/// assert_eq!(finding.code(), Code::UnknownStep);
/// assert_eq!(finding.line_col(), (2, 6));
/// assert_eq!(finding.help(), Some("did you mean `last_step_agent`?"));
/// assert_eq!(finding.suggestions()[0].replacement, "last_step_agent");
/// ```
pub fn compile_text(name: &str, text: &str) -> Compiled {
    let mut documents = Overlay::in_memory();
    documents.open(name, text);
    let chain = Loader::with_source(documents)
        .load_chain(Path::new(name))
        .expect("an open document can be read");
    compile::compile(&chain)
}
