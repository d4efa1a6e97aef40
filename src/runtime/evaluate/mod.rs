//! Evaluate: plan × integration context × call → who owns the call, and
//! (on request) why.
//!
//! An [`Engine`] binds a [`Plan`] to a [`Context`] once: the e-mail index
//! is built and fixed users are looked up before the first call. Deciding a
//! call then walks the plan's steps in order; the first step that finds an
//! active integration user decides, and the fallback ends the walk.
//!
//! An engine owns what it was built from and is shared, not copied: a
//! clone is a reference count, and one engine decides on any number of
//! threads at once (a service keeps one per ruleset version and swaps it
//! on reload while requests in flight finish on theirs).
//!
//! The walk reports to a [`Tracer`]. Plain evaluation uses [`NoTrace`],
//! whose methods are empty, so explaining costs nothing when not asked for.

mod condition;
mod decided_by;
mod explain;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;

pub use condition::holds;
use condition::*;
pub use decided_by::{DecidedBy, USER_STEP};
use explain::*;
pub use explain::{Outcome, TraceEntry, TracedUser};

use crate::model::context::{lookup, UserIndex};
use crate::model::{Call, Context, FallbackMode, Lookup, User};
use crate::semantics::plan::{Condition, EntryName, Fallback, Plan, PlanStep, StepId, TextField};
use crate::vocabulary::time::parse_rfc3339;
use crate::vocabulary::{Builtin, Field};
use crate::vocabulary::{Direction, Status};

/// A user as assignment lines write it: `{"id":…,"email":…}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Assignee<'a> {
    /// The user's id in the integrated app.
    pub id: &'a str,
    /// The user's e-mail, when the context has one.
    pub email: Option<&'a str>,
}

impl<'a> From<&'a User> for Assignee<'a> {
    fn from(user: &'a User) -> Self {
        Assignee {
            id: &user.id,
            email: user.email.as_deref(),
        }
    }
}

/// The outcome for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision<'e> {
    /// `None`: the call is left unassigned.
    pub assignee: Option<&'e User>,
    /// The step that decided (the fallback, when no step did).
    pub step: DecidedBy<'e>,
}

/// Why a step did not decide. Rendered to text only when explaining.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss<'c> {
    NoAgent,
    NoFlow,
    LastStepIsNot { kind: &'c str, wanted: &'static str },
    NoAgentOnLastStep { kind: &'c str },
    NoEmailOnVoicemail,
    NoContactOwners,
    NoContact,
    NoOwner,
    NoFavoriteAgent,
    UnknownEmail { email: &'c str },
    InactiveEmail { email: &'c str, id: &'c str },
    UnknownId { id: &'c str },
    InactiveId { id: &'c str },
}

/// What a step's explanation says; implemented by the trace builder.
pub trait Tracer<'c> {
    /// The step's condition kept it from running.
    fn skipped(&mut self, step: &PlanStep);
    /// The step ran and found no active user.
    fn failed(&mut self, step: &PlanStep, miss: Miss<'c>);
    /// The step decided.
    fn decided(&mut self, step: &PlanStep, user: &'c User, matched: &'c str);
    /// The fallback decided; `miss` says why it left the call unassigned.
    fn fallback(&mut self, user: Option<&'c User>, miss: Option<FallbackMiss<'c>>);
}

/// Why a fallback left a call unassigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FallbackMiss<'c> {
    /// The integration's fallback is to leave calls unassigned.
    IntegrationUnassigned,
    NoInstaller,
    Installer(Miss<'c>),
    User(Miss<'c>),
    /// `fallback unassigned`.
    Unassigned,
}

/// Records nothing: plain evaluation.
pub struct NoTrace;

impl<'c> Tracer<'c> for NoTrace {
    #[inline(always)]
    fn skipped(&mut self, _: &PlanStep) {}
    #[inline(always)]
    fn failed(&mut self, _: &PlanStep, _: Miss<'c>) {}
    #[inline(always)]
    fn decided(&mut self, _: &PlanStep, _: &'c User, _: &'c str) {}
    #[inline(always)]
    fn fallback(&mut self, _: Option<&'c User>, _: Option<FallbackMiss<'c>>) {}
}

/// A step bound to a context.
#[derive(Debug)]
enum Bound {
    Builtin(Builtin),
    /// A fixed user, looked up once when the engine is made: where it is
    /// among the context's users.
    User {
        email: String,
        found: Option<u32>,
    },
}

/// A plan bound to an integration context, ready to decide calls.
///
/// Owned, `Send + Sync`, and cheap to clone (the clones share one
/// prepared plan): build it once, then decide on as many threads as needed.
///
/// ```
/// use callassign::{compile_text, Call, Context, Engine};
///
/// let plan = compile_text("demo.rules", "ruleset demo\nstep favorite_agent\nfallback integration\n").plan.unwrap();
/// let context = Context::from_yaml("integration: hubspot\nusers:\n  - {id: hs-2, email: Alice@Acme.com}\n").unwrap();
/// let engine = Engine::new(plan, context);
/// let call = Call::from_json(r#"{"id":"c-1","direction":"incoming","status":"missed","contact":{"favorite_agent":" alice@acme.com"}}"#).unwrap();
///
/// // Clones share the engine: decide on another thread.
/// let shared = engine.clone();
/// let decided = std::thread::spawn(move || {
///     let decision = shared.decide(&call);
///     (decision.assignee.unwrap().id.clone(), decision.step.name())
/// });
/// assert_eq!(decided.join().unwrap(), ("hs-2".to_string(), "favorite_agent"));
/// ```
#[derive(Debug, Clone)]
pub struct Engine {
    prepared: Arc<Prepared>,
}

/// What an engine prepares once and then only reads.
#[derive(Debug)]
struct Prepared {
    plan: Arc<Plan>,
    context: Arc<Context>,
    users: UserIndex,
    bound: Vec<Bound>,
    guards: Vec<PreparedGuard>,
    /// A `fallback user "…"`'s user, looked up once.
    fallback_user: Option<Option<u32>>,
    /// The context's installer, looked up once; `None` when it names none.
    installer: Option<Option<u32>>,
    /// Each plan step's name and origin as explanations show them, then the
    /// fallback's: rendered once per plan, not once per call (formatting
    /// them per call made `--explain` cost three times plain evaluation).
    labels: Vec<Label>,
    /// Each context user's `{"id":…,"email":…}` as assignment lines write
    /// it, rendered once: escaping it again for every call was a sixth of
    /// a batch.
    assignees: Vec<Box<[u8]>>,
}

impl Engine {
    /// Binds a plan to a context. Either may be shared with other engines
    /// (`Arc<Plan>`, `Arc<Context>`): two plans compared on one history
    /// share one context.
    pub fn new(plan: impl Into<Arc<Plan>>, context: impl Into<Arc<Context>>) -> Engine {
        let plan = plan.into();
        let context = context.into();
        let users = UserIndex::for_context(&context);
        let bind = |step: &StepId| match step {
            StepId::Builtin(builtin) => Bound::Builtin(*builtin),
            StepId::User(email) => Bound::User {
                email: email.clone(),
                found: users.find_email(email),
            },
        };
        let bound = plan.steps.iter().map(|step| bind(&step.step)).collect();
        let guards = plan
            .steps
            .iter()
            .map(|step| PreparedGuard::new(step.guard.as_ref()))
            .collect();
        let fallback_user = match &plan.fallback.fallback {
            Fallback::User(email) => Some(users.find_email(email)),
            Fallback::Integration | Fallback::Unassigned => None,
        };
        let installer = context.installer.as_deref().map(|id| users.find_id(id));
        let assignees = context.users.iter().map(render_assignee).collect();
        let labels = plan
            .steps
            .iter()
            .map(|step| Label::new(step.step.name(), step.origin.short()))
            .chain([Label::new(
                plan.fallback.fallback.name(),
                plan.fallback.origin.short(),
            )])
            .collect();
        Engine {
            prepared: Arc::new(Prepared {
                plan,
                context,
                users,
                bound,
                guards,
                fallback_user,
                installer,
                labels,
                assignees,
            }),
        }
    }

    /// Another plan bound to this engine's context, which the two share
    /// (not copied): a service trying edited rules with a served ruleset's
    /// context, or comparing them over a history.
    ///
    /// ```
    /// use callassign::{compile_text, Call, Context, Engine};
    ///
    /// let served = compile_text("team.rules", "ruleset team\nstep contact_owner\nfallback unassigned\n").plan.unwrap();
    /// let context = Context::from_yaml("contact_owner: true\nusers: [{id: u-1, email: ann@acme.com}]").unwrap();
    /// let engine = Engine::new(served, context);
    ///
    /// let edited = compile_text("team.rules", "ruleset team\nfallback user \"ann@acme.com\"\n").plan.unwrap();
    /// let trying = engine.with_plan(edited);
    /// let call = Call::from_json(r#"{"id":"c-1","direction":"incoming","status":"missed"}"#).unwrap();
    /// assert_eq!(engine.decide(&call).assignee.map(|user| user.id.as_str()), None);
    /// assert_eq!(trying.decide(&call).assignee.map(|user| user.id.as_str()), Some("u-1"));
    /// assert!(std::ptr::eq(engine.context(), trying.context()));
    /// ```
    pub fn with_plan(&self, plan: impl Into<Arc<Plan>>) -> Engine {
        Engine::new(plan, Arc::clone(&self.prepared.context))
    }

    /// `{"id":…,"email":…}` for an assignee, as assignment lines write it.
    pub(crate) fn assignee_json(&self, user: &User) -> Cow<'_, [u8]> {
        match self.user_index(user) {
            Some(index) => Cow::Borrowed(&self.prepared.assignees[index]),
            None => Cow::Owned(render_assignee(user).into_vec()),
        }
    }

    /// Where a user is in the context. Every decision's user is borrowed
    /// from the context's list, so its address says which one it is; the
    /// `ptr::eq` check keeps this exact for any other `User` too.
    fn user_index(&self, user: &User) -> Option<usize> {
        let users = &self.prepared.context.users;
        let offset = (user as *const User as usize).checked_sub(users.as_ptr() as usize)?;
        let index = offset / std::mem::size_of::<User>().max(1);
        users
            .get(index)
            .filter(|candidate| std::ptr::eq(*candidate, user))
            .map(|_| index)
    }

    /// The plan this engine runs.
    pub fn plan(&self) -> &Plan {
        &self.prepared.plan
    }

    /// The context this engine decides with.
    pub fn context(&self) -> &Context {
        &self.prepared.context
    }

    /// Whether `other` is a clone of this engine (the same prepared plan).
    pub fn same_as(&self, other: &Engine) -> bool {
        Arc::ptr_eq(&self.prepared, &other.prepared)
    }

    /// What a place found by the engine's index is among the users.
    #[inline(always)]
    fn user_at(&self, found: Option<u32>) -> Lookup<'_> {
        lookup(&self.prepared.context.users, found)
    }

    /// The integration user id `user_map` links a telephony e-mail or agent
    /// id to, if it does.
    pub fn link(&self, email: &str) -> Option<&str> {
        self.prepared.users.link(email)
    }

    /// Decides who owns a call.
    pub fn decide<'e>(&'e self, call: &'e Call<'_>) -> Decision<'e> {
        self.run(call, &mut NoTrace)
    }

    /// Decides who owns a call and explains every step of the plan: what
    /// an operations engineer reads when a call went to the wrong person.
    ///
    /// ```
    /// use callassign::{compile_text, Call, Context, Engine, Outcome};
    ///
    /// let plan = compile_text("demo.rules", "ruleset demo extends default\n").plan.unwrap();
    /// let context = Context::from_yaml("integration: zendesk\ncontact_owner: false\nusers:\n  - {id: z-1, email: bob@acme.com}\n").unwrap();
    /// let evaluator = Engine::new(plan, context);
    /// let call = Call::from_json(r#"{"id":"c-1","direction":"incoming","status":"missed","contact":{"favorite_agent":"bob@acme.com"}}"#).unwrap();
    /// let (decision, trace) = evaluator.explain(&call);
    /// assert_eq!(decision.step.name(), "favorite_agent");
    /// let decided = trace.iter().find(|entry| entry.result == Outcome::Decided).unwrap();
    /// assert_eq!(decided.step, "favorite_agent");
    /// assert_eq!(&*decided.from, "built-in default.rules:28");
    /// assert_eq!(trace[0].result, Outcome::Skipped); // call_agent: an incoming missed call
    /// ```
    pub fn explain<'e>(&'e self, call: &'e Call<'_>) -> (Decision<'e>, Vec<TraceEntry>) {
        let mut trace = TraceBuilder {
            engine: self,
            entries: Vec::with_capacity(self.prepared.plan.steps.len() + 1),
        };
        let decision = self.run(call, &mut trace);
        let mut entries = trace.entries;
        // One entry per step tried, then one for the fallback if it ran.
        let fallback_ran = entries.len() > self.prepared.plan.steps.len();
        // Steps after the deciding one were not reached.
        let reached = entries.len().min(self.prepared.plan.steps.len());
        let not_reached = if fallback_ran {
            &[][..]
        } else {
            &self.prepared.labels[reached..]
        };
        entries.extend(
            not_reached
                .iter()
                .map(|label| label.entry(Outcome::NotReached, None, None)),
        );
        (decision, entries)
    }

    /// Walks the plan, reporting each step to `tracer`: what
    /// [`Engine::decide`] and [`Engine::explain`] are made of. Its tracer
    /// is one of the binary's stages, outside the library's promise.
    #[doc(hidden)]
    pub fn run<'e, T: Tracer<'e>>(&'e self, call: &'e Call<'_>, tracer: &mut T) -> Decision<'e> {
        for ((step, bound), guard) in self
            .prepared
            .plan
            .steps
            .iter()
            .zip(&self.prepared.bound)
            .zip(&self.prepared.guards)
        {
            let runs = match (guard, &step.guard) {
                (PreparedGuard::Table(table), _) => {
                    table >> table_bit(call.direction, call.status) & 1 != 0
                }
                (PreparedGuard::Walk, Some(guard)) => holds(&guard.condition, call) != guard.unless,
                _ => true,
            };
            if !runs {
                tracer.skipped(step);
                continue;
            }
            let found = match bound {
                Bound::Builtin(builtin) => self.builtin(*builtin, call),
                Bound::User { email, found } => match self.user_at(*found) {
                    Lookup::Active(user) => Ok((user, user.email.as_deref().unwrap_or(email))),
                    Lookup::Inactive(user) => Err(Miss::InactiveEmail {
                        email: user.email.as_deref().unwrap_or(email),
                        id: &user.id,
                    }),
                    Lookup::Unknown => Err(Miss::UnknownEmail { email }),
                },
            };
            match found {
                Ok((user, matched)) => {
                    tracer.decided(step, user, matched);
                    let decided_by = match bound {
                        Bound::Builtin(builtin) => DecidedBy::Step(*builtin),
                        Bound::User { email, .. } => DecidedBy::User(email),
                    };
                    return Decision {
                        assignee: Some(user),
                        step: decided_by,
                    };
                }
                Err(miss) => tracer.failed(step, miss),
            }
        }
        self.fallback(tracer)
    }

    fn fallback<'e, T: Tracer<'e>>(&'e self, tracer: &mut T) -> Decision<'e> {
        let (assignee, miss, step) = match &self.prepared.plan.fallback.fallback {
            Fallback::Unassigned => (None, Some(FallbackMiss::Unassigned), DecidedBy::Unassigned),
            Fallback::Integration => {
                let (user, miss) = match (
                    self.prepared.context.fallback,
                    self.prepared.installer.map(|found| self.user_at(found)),
                    &self.prepared.context.installer,
                ) {
                    (FallbackMode::Unassigned, _, _) => {
                        (None, Some(FallbackMiss::IntegrationUnassigned))
                    }
                    (FallbackMode::Installer, None, _) | (FallbackMode::Installer, _, None) => {
                        (None, Some(FallbackMiss::NoInstaller))
                    }
                    (FallbackMode::Installer, Some(Lookup::Unknown), Some(id)) => {
                        (None, Some(FallbackMiss::Installer(Miss::UnknownId { id })))
                    }
                    (FallbackMode::Installer, Some(Lookup::Inactive(user)), _) => (
                        None,
                        Some(FallbackMiss::Installer(Miss::InactiveId { id: &user.id })),
                    ),
                    (FallbackMode::Installer, Some(Lookup::Active(user)), _) => (Some(user), None),
                };
                (user, miss, DecidedBy::IntegrationFallback)
            }
            Fallback::User(email) => {
                match self.user_at(
                    self.prepared
                        .fallback_user
                        .expect("a user fallback is looked up in new()"),
                ) {
                    Lookup::Active(user) => (Some(user), None, DecidedBy::User(email)),
                    Lookup::Inactive(user) => (
                        None,
                        Some(FallbackMiss::User(Miss::InactiveEmail {
                            email,
                            id: &user.id,
                        })),
                        DecidedBy::User(email),
                    ),
                    Lookup::Unknown => (
                        None,
                        Some(FallbackMiss::User(Miss::UnknownEmail { email })),
                        DecidedBy::User(email),
                    ),
                }
            }
        };
        tracer.fallback(assignee, miss);
        Decision { assignee, step }
    }

    /// What a built-in step finds: the user and the address or id matched.
    // Inlined into `run`, so plain evaluation (whose tracer ignores misses)
    // never builds the `Miss` values.
    #[inline(always)]
    fn builtin<'e>(
        &'e self,
        builtin: Builtin,
        call: &'e Call<'_>,
    ) -> Result<(&'e User, &'e str), Miss<'e>> {
        match builtin {
            Builtin::CallAgent => self.by_email(call.agent.as_deref().ok_or(Miss::NoAgent)?),
            Builtin::LastStepAgent => {
                let last = call.last_step.as_ref().ok_or(Miss::NoFlow)?;
                if last.kind != "call_to_agent" && last.kind != "call_to_group" {
                    return Err(Miss::LastStepIsNot {
                        kind: &last.kind,
                        wanted: "a call to an agent or group",
                    });
                }
                self.by_email(
                    last.agent
                        .as_deref()
                        .ok_or(Miss::NoAgentOnLastStep { kind: &last.kind })?,
                )
            }
            Builtin::VoicemailEmail => {
                let last = call.last_step.as_ref().ok_or(Miss::NoFlow)?;
                if last.kind != "voicemail" {
                    return Err(Miss::LastStepIsNot {
                        kind: &last.kind,
                        wanted: "a voicemail",
                    });
                }
                self.by_email(last.email.as_deref().ok_or(Miss::NoEmailOnVoicemail)?)
            }
            Builtin::ContactOwner => {
                if !self.prepared.context.contact_owner {
                    return Err(Miss::NoContactOwners);
                }
                let contact = call.contact.as_ref().ok_or(Miss::NoContact)?;
                let owner = contact.owner.as_deref().ok_or(Miss::NoOwner)?;
                match self.user_at(self.prepared.users.find_id(owner)) {
                    Lookup::Active(user) => Ok((user, &user.id)),
                    Lookup::Inactive(_) => Err(Miss::InactiveId { id: owner }),
                    Lookup::Unknown => Err(Miss::UnknownId { id: owner }),
                }
            }
            Builtin::FavoriteAgent => {
                let contact = call.contact.as_ref().ok_or(Miss::NoContact)?;
                self.by_email(
                    contact
                        .favorite_agent
                        .as_deref()
                        .ok_or(Miss::NoFavoriteAgent)?,
                )
            }
        }
    }

    #[inline(always)]
    fn by_email<'e>(&'e self, email: &'e str) -> Result<(&'e User, &'e str), Miss<'e>> {
        match self.user_at(self.prepared.users.find_email(email)) {
            Lookup::Active(user) => Ok((user, email)),
            Lookup::Inactive(user) => Err(Miss::InactiveEmail {
                email,
                id: &user.id,
            }),
            Lookup::Unknown => Err(Miss::UnknownEmail { email }),
        }
    }
}

fn render_assignee(user: &User) -> Box<[u8]> {
    serde_json::to_vec(&Assignee::from(user))
        .expect("two strings always serialize")
        .into_boxed_slice()
}

#[cfg(test)]
mod tests;
