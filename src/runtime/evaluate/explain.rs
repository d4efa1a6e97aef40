//! Explain: the [`Tracer`] that records every step tried and why it did or
//! did not decide, with labels and origins rendered once per plan.

use super::*;

/// A step's name and origin as an explanation shows them.
#[derive(Debug, Clone)]
pub(super) struct Label {
    step: &'static str,
    user: Option<Arc<str>>,
    label: Arc<str>,
    shown: Arc<str>,
    from: Arc<str>,
}

impl Label {
    pub(super) fn new(name: EntryName, from: String) -> Label {
        Label {
            step: name.step,
            user: name.user.as_deref().map(Arc::from),
            shown: name.to_string().into(),
            label: name.label.into(),
            from: from.into(),
        }
    }

    pub(super) fn entry(
        &self,
        result: Outcome,
        reason: Option<String>,
        assignee: Option<TracedUser>,
    ) -> TraceEntry {
        TraceEntry {
            step: self.step,
            user: self.user.clone(),
            label: self.label.clone(),
            shown: self.shown.clone(),
            from: self.from.clone(),
            result,
            reason,
            assignee,
        }
    }
}

/// One line of an explanation: a step and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceEntry {
    /// The step as the assignment line names it (`contact_owner`, `user`,
    /// `integration_fallback`): a line joins its trace on it.
    pub step: &'static str,
    /// The fixed user's address, beside `"step":"user"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<Arc<str>>,
    /// The step as the rule file writes it (`contact_owner`,
    /// `user "x@y.z"`, `fallback integration`).
    pub label: Arc<str>,
    /// The step as text output shows it (`integration_fallback (fallback
    /// integration)`).
    #[serde(skip)]
    pub shown: Arc<str>,
    /// Where the step was written (`default.rules:7`).
    pub from: Arc<str>,
    /// What became of the step.
    pub result: Outcome,
    /// Why, in words (``\`support@acme.com\` is an active user of
    /// hubspot``); none for a step not reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The user it decided for: an object like the assignment's own
    /// `assignee`, so one reader reads both.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<TracedUser>,
}

/// A user in a trace, owned: a trace outlives the context it was made with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TracedUser {
    /// The user's id in the integrated app.
    pub id: String,
    /// The user's e-mail address, when the context gives one.
    pub email: Option<String>,
}

impl From<&User> for TracedUser {
    fn from(user: &User) -> Self {
        TracedUser {
            id: user.id.clone(),
            email: user.email.clone(),
        }
    }
}

/// What became of one step of a plan for one call ([`TraceEntry::result`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Its condition kept it from running.
    Skipped,
    /// It ran and found no active user.
    Failed,
    /// It found the call's owner.
    Decided,
    /// An earlier step decided.
    NotReached,
}

impl Outcome {
    /// The name in JSON output (`not_reached`), as serde writes it.
    pub(crate) fn json_name(self) -> &'static str {
        match self {
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
            Outcome::Decided => "decided",
            Outcome::NotReached => "not_reached",
        }
    }

    /// The word text output shows (`not reached`; JSON writes
    /// `not_reached`).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
            Outcome::Decided => "decided",
            Outcome::NotReached => "not reached",
        }
    }
}

pub(super) struct TraceBuilder<'e> {
    pub(super) engine: &'e Engine,
    pub(super) entries: Vec<TraceEntry>,
}

impl TraceBuilder<'_> {
    /// The entry for the step being reported: steps report in plan order,
    /// one entry each, and the fallback last, so the entries so far say
    /// which step it is.
    /// `step` is `None` for the fallback.
    pub(super) fn entry(
        &self,
        step: Option<&PlanStep>,
        result: Outcome,
        reason: String,
        assignee: Option<TracedUser>,
    ) -> TraceEntry {
        let at = self.entries.len();
        debug_assert!(match step {
            Some(step) => std::ptr::eq(step, &self.engine.plan().steps[at]),
            None => at <= self.engine.plan().steps.len(),
        });
        let label = match step {
            Some(_) => &self.engine.prepared.labels[at],
            None => self
                .engine
                .prepared
                .labels
                .last()
                .expect("the fallback's label"),
        };
        label.entry(result, Some(reason), assignee)
    }

    pub(super) fn integration(&self) -> &str {
        &self.engine.context().integration
    }

    pub(super) fn miss(&self, miss: Miss<'_>) -> String {
        let integration = self.integration();
        match miss {
            Miss::NoAgent => "the call has no agent".to_string(),
            Miss::NoFlow => "the call has no flow steps".to_string(),
            Miss::LastStepIsNot { kind, wanted } => {
                format!("the last flow step is `{kind}`, not {wanted}")
            }
            Miss::NoAgentOnLastStep { kind } => {
                format!("no agent on the last flow step (`{kind}`)")
            }
            Miss::NoEmailOnVoicemail => {
                "the last flow step is a voicemail with no e-mail".to_string()
            }
            Miss::NoContactOwners => {
                format!("{integration} has no contact owners (`contact_owner: false`)")
            }
            Miss::NoContact => "the call has no contact".to_string(),
            Miss::NoOwner => "the contact has no owner".to_string(),
            Miss::NoFavoriteAgent => "the contact has no favorite agent".to_string(),
            Miss::UnknownEmail { email } if email.trim().is_empty() => {
                "the e-mail address is empty".to_string()
            }
            Miss::UnknownEmail { email } => match self.engine.link(email) {
                Some(linked) => format!(
                    "`{}` is linked by `user_map` to `{linked}`, who is not a user of {integration}",
                    email.trim()
                ),
                None => format!("`{}` is not a user of {integration}", email.trim()),
            },
            Miss::InactiveEmail { email, id } => {
                let how = if self.engine.link(email).is_some() {
                    "is linked by `user_map` to"
                } else {
                    "is"
                };
                format!(
                    "`{}` {how} {integration} user `{id}`, who is not active",
                    email.trim()
                )
            }
            Miss::UnknownId { id } => format!("`{id}` is not a user id of {integration}"),
            Miss::InactiveId { id } => format!("{integration} user `{id}` is not active"),
        }
    }
}

impl<'c> Tracer<'c> for TraceBuilder<'_> {
    fn skipped(&mut self, step: &PlanStep) {
        let guard = step.guard.as_ref().expect("only guarded steps are skipped");
        let verdict = if guard.unless {
            "holds"
        } else {
            "does not hold"
        };
        let reason = format!("`{} {}` {verdict}", guard.keyword(), guard.text);
        let entry = self.entry(Some(step), Outcome::Skipped, reason, None);
        self.entries.push(entry);
    }

    fn failed(&mut self, step: &PlanStep, miss: Miss<'c>) {
        let reason = self.miss(miss);
        let entry = self.entry(Some(step), Outcome::Failed, reason, None);
        self.entries.push(entry);
    }

    fn decided(&mut self, step: &PlanStep, user: &'c User, matched: &'c str) {
        let reason = if matches!(step.step, StepId::Builtin(Builtin::ContactOwner)) {
            format!(
                "the contact owner `{}` is an active user of {}",
                user.id,
                self.integration()
            )
        } else if self.engine.link(matched).is_some() {
            format!(
                "`{}` is linked by `user_map` to {} user `{}`",
                matched.trim(),
                self.integration(),
                user.id
            )
        } else {
            format!(
                "`{}` is an active user of {}",
                matched.trim(),
                self.integration()
            )
        };
        let entry = self.entry(
            Some(step),
            Outcome::Decided,
            reason,
            Some(TracedUser::from(user)),
        );
        self.entries.push(entry);
    }

    fn fallback(&mut self, user: Option<&'c User>, miss: Option<FallbackMiss<'c>>) {
        let integration = self.integration().to_string();
        let reason = match (user, miss) {
            (Some(user), _)
                if matches!(self.engine.plan().fallback.fallback, Fallback::User(_)) =>
            {
                format!(
                    "`{}` is an active user of {integration}",
                    user.email.as_deref().unwrap_or(&user.id)
                )
            }
            (Some(user), _) => format!("{integration} falls back to its installer `{}`", user.id),
            (None, Some(FallbackMiss::IntegrationUnassigned)) => {
                format!("{integration} leaves calls unassigned (`fallback: unassigned`)")
            }
            (None, Some(FallbackMiss::NoInstaller)) => format!(
                "{integration} falls back to its installer, but none is configured: unassigned"
            ),
            (None, Some(FallbackMiss::Installer(miss))) => format!(
                "{integration} falls back to its installer, but {}: unassigned",
                self.miss(miss)
            ),
            (None, Some(FallbackMiss::User(miss))) => format!("{}: unassigned", self.miss(miss)),
            (None, Some(FallbackMiss::Unassigned)) | (None, None) => {
                "the rules leave the call unassigned".to_string()
            }
        };
        let entry = self.entry(None, Outcome::Decided, reason, user.map(TracedUser::from));
        self.entries.push(entry);
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
