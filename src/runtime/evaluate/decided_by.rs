//! [`DecidedBy`]: which step decided a call, named as assignment lines,
//! summaries and metrics name it, and numbered densely for counters.

use crate::vocabulary::Builtin;

/// The step name of every fixed-user step, which JSON consumers match on;
/// the address goes beside it.
pub use crate::semantics::plan::USER_STEP;
use crate::semantics::plan::{INTEGRATION_FALLBACK_STEP, UNASSIGNED_STEP};

/// Which step decided a call, named as assignment lines name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DecidedBy<'e> {
    /// A built-in step (`call_agent`, `contact_owner`, …).
    Step(Builtin),
    /// A `user "email"` step or fallback, with its address as the rules
    /// write it: a plan may hold several fixed users.
    User(&'e str),
    /// `fallback integration`: the context's own fallback (its installer,
    /// or no one).
    IntegrationFallback,
    /// `fallback unassigned`.
    Unassigned,
}

impl<'e> DecidedBy<'e> {
    /// How many ways a call can be decided: each built-in step, then
    /// `user`, `integration_fallback` and `unassigned`.
    pub const COUNT: usize = Builtin::ALL.len() + 3;

    /// Every way a call can be decided, in [`DecidedBy::index`] order (one
    /// `User` for all fixed users: its address does not matter here).
    pub fn all() -> impl Iterator<Item = DecidedBy<'static>> {
        Builtin::ALL.into_iter().map(DecidedBy::Step).chain([
            DecidedBy::User(""),
            DecidedBy::IntegrationFallback,
            DecidedBy::Unassigned,
        ])
    }

    /// A dense number below [`DecidedBy::COUNT`], so per-step counters can
    /// be an array indexed once per call rather than a map keyed by name.
    pub fn index(self) -> usize {
        match self {
            DecidedBy::Step(builtin) => builtin as usize,
            DecidedBy::User(_) => Builtin::ALL.len(),
            DecidedBy::IntegrationFallback => Builtin::ALL.len() + 1,
            DecidedBy::Unassigned => Builtin::ALL.len() + 2,
        }
    }

    /// The `step` an assignment line writes: the built-in step's name,
    /// `user`, `integration_fallback` or `unassigned`.
    pub fn name(self) -> &'static str {
        match self {
            DecidedBy::Step(builtin) => builtin.name(),
            DecidedBy::User(_) => USER_STEP,
            DecidedBy::IntegrationFallback => INTEGRATION_FALLBACK_STEP,
            DecidedBy::Unassigned => UNASSIGNED_STEP,
        }
    }

    /// The fixed user's address, for a `user "…"` step.
    pub fn user(self) -> Option<&'e str> {
        match self {
            DecidedBy::User(email) => Some(email),
            _ => None,
        }
    }

    /// The step as rule files name it: `user "ops@acme.com"` for a fixed
    /// user, else [`DecidedBy::name`]. Text output and summaries use this.
    pub fn label(self) -> std::borrow::Cow<'e, str> {
        match self {
            DecidedBy::User(email) => format!("{USER_STEP} \"{email}\"").into(),
            other => other.name().into(),
        }
    }
}
