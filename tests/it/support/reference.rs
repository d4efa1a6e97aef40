//! The documented priority (docs/contract.md section 1), written out plainly and
//! once, from the documentation rather than from the evaluator. Every test
//! that checks the library against an independent reading goes through
//! here: the corpus of native calls, the diff and stats counts, and the
//! CloudTalk corpus (whose generator turns records into [`Facts`] by
//! docs/contract.md section 3). If the library and this disagree, one of them
//! misreads the product.

/// What the priority reads of a call, whatever shape it came in.
#[derive(Debug, Clone, Default)]
pub struct Facts<'a> {
    pub incoming: bool,
    /// `answered`, `missed` or `voicemail`.
    pub status: &'a str,
    /// The call's own telephony user.
    pub agent: Option<&'a str>,
    /// The last reached flow step: its type and the agent (calls to an
    /// agent or a group) or e-mail (voicemail) it carries.
    pub last_step: Option<(&'a str, Option<&'a str>)>,
    /// The contact's owner: an integration user id.
    pub owner: Option<&'a str>,
    pub favorite_agent: Option<&'a str>,
    pub tags: &'a [&'a str],
}

/// The integration as the priority sees it: who matches a telephony user,
/// who an owner id is, and its own fallback.
pub trait Integration {
    /// The active user a telephony user (an e-mail, trimmed and in any
    /// case, or whatever manual link the integration has) stands for.
    fn by_telephony_user(&self, who: &str) -> Option<&'static str>;
    /// The active user with this id.
    fn by_id(&self, id: &str) -> Option<&'static str>;
    /// Whether the integrated app has contact owners.
    fn has_contact_owners(&self) -> bool;
    /// Who the integration's fallback assigns: the installer when the
    /// fallback is `installer` and they are active, else nobody.
    fn installer(&self) -> Option<&'static str>;
}

/// Users as (id, e-mail, active), matched by e-mail only.
pub struct Users {
    pub users: Vec<(&'static str, &'static str, bool)>,
    pub contact_owner: bool,
    /// `Some(installer)` for `fallback: installer`.
    pub installer: Option<&'static str>,
}

impl Integration for Users {
    fn by_telephony_user(&self, who: &str) -> Option<&'static str> {
        let wanted = who.trim().to_lowercase();
        self.users
            .iter()
            .find(|(_, email, active)| *active && email.trim().to_lowercase() == wanted)
            .map(|(id, _, _)| *id)
    }

    fn by_id(&self, id: &str) -> Option<&'static str> {
        let id = id.trim();
        self.users
            .iter()
            .find(|(own, _, active)| *active && *own == id)
            .map(|(own, _, _)| *own)
    }

    fn has_contact_owners(&self) -> bool {
        self.contact_owner
    }

    fn installer(&self) -> Option<&'static str> {
        self.by_id(self.installer?)
    }
}

/// One step of a plan as the tests model it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    CallAgent,
    LastStepAgent,
    VoicemailEmail,
    ContactOwner,
    FavoriteAgent,
    /// `user "email" when "vip" in tags`
    VipUser(&'static str),
}

/// How a plan ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Integration,
    Unassigned,
}

/// What decided a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecidedBy {
    Step(Step),
    End(End),
}

impl DecidedBy {
    /// The step name an assignment line carries.
    pub fn name(self) -> &'static str {
        match self {
            DecidedBy::Step(Step::CallAgent) => "call_agent",
            DecidedBy::Step(Step::LastStepAgent) => "last_step_agent",
            DecidedBy::Step(Step::VoicemailEmail) => "voicemail_email",
            DecidedBy::Step(Step::ContactOwner) => "contact_owner",
            DecidedBy::Step(Step::FavoriteAgent) => "favorite_agent",
            DecidedBy::Step(Step::VipUser(_)) => "user",
            DecidedBy::End(End::Integration) => "integration_fallback",
            DecidedBy::End(End::Unassigned) => "unassigned",
        }
    }

    /// The label reports give the deciding entry of a plan.
    pub fn label(self) -> String {
        match self {
            DecidedBy::Step(Step::VipUser(email)) => format!("user \"{email}\""),
            DecidedBy::Step(_) => self.name().to_string(),
            DecidedBy::End(End::Integration) => "fallback integration".to_string(),
            DecidedBy::End(End::Unassigned) => "fallback unassigned".to_string(),
        }
    }
}

impl Step {
    /// The label reports give the step.
    pub fn label(self) -> String {
        DecidedBy::Step(self).label()
    }
}

/// A rule file as the tests model it: its steps in order, and its end.
pub struct Model {
    pub steps: Vec<Step>,
    pub end: End,
}

impl Model {
    /// The documented priority: `rules/default.rules`.
    pub fn default_rules() -> Model {
        Model {
            steps: vec![
                Step::CallAgent,
                Step::LastStepAgent,
                Step::VoicemailEmail,
                Step::ContactOwner,
                Step::FavoriteAgent,
            ],
            end: End::Integration,
        }
    }

    /// The label reports give the plan's end.
    pub fn fallback_label(&self) -> String {
        DecidedBy::End(self.end).label()
    }

    /// Who gets the call (a user id) and what decided it.
    pub fn decide(
        &self,
        call: &Facts<'_>,
        integration: &impl Integration,
    ) -> (Option<&'static str>, DecidedBy) {
        for &step in &self.steps {
            if let Some(id) = finds(step, call, integration) {
                return (Some(id), DecidedBy::Step(step));
            }
        }
        let assignee = match self.end {
            End::Integration => integration.installer(),
            End::Unassigned => None,
        };
        (assignee, DecidedBy::End(self.end))
    }
}

fn finds(step: Step, call: &Facts<'_>, integration: &impl Integration) -> Option<&'static str> {
    let by_user = |who: Option<&str>| integration.by_telephony_user(who?);
    match step {
        // Only calls that are not incoming missed calls or voicemails keep
        // their own agent: those three situations need the fallback steps.
        Step::CallAgent => {
            let needs_fallback =
                call.incoming && (call.status == "missed" || call.status == "voicemail");
            if needs_fallback {
                None
            } else {
                by_user(call.agent)
            }
        }
        Step::LastStepAgent => match call.last_step? {
            ("call_to_agent" | "call_to_group", who) => by_user(who),
            _ => None,
        },
        Step::VoicemailEmail => match call.last_step? {
            ("voicemail", who) => by_user(who),
            _ => None,
        },
        Step::ContactOwner if integration.has_contact_owners() => integration.by_id(call.owner?),
        Step::ContactOwner => None,
        Step::FavoriteAgent => by_user(call.favorite_agent),
        Step::VipUser(email) => {
            if call.tags.contains(&"vip") {
                integration.by_telephony_user(email)
            } else {
                None
            }
        }
    }
}
