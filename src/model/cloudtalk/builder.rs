//! A call assembled from what a record gives, and what the context fills
//! in (agents by id, the voicemail's e-mail, contact owners), each field
//! with the [`Fact`] that says where it came from.

use std::borrow::Cow;
use std::fmt::Display;

use super::*;

/// A call's fields as a record gives them.
pub(super) struct Fields<'a> {
    pub(super) id: Cow<'a, str>,
    pub(super) direction: Direction,
    pub(super) status: Status,
    pub(super) agent: Option<Cow<'a, str>>,
    pub(super) started_at: Option<Cow<'a, str>>,
    pub(super) duration_s: Option<i64>,
    pub(super) number: Option<Cow<'a, str>>,
    pub(super) tags: Vec<Cow<'a, str>>,
    pub(super) last_step: Option<FlowStep<'a>>,
    pub(super) contact: Option<Contact<'a>>,
}

/// Collects a call and the facts behind it.
pub(super) struct Builder<'c> {
    context: &'c Context,
    pub(super) facts: Vec<Fact>,
    pub(super) collect: Provenance,
}

impl<'c> Builder<'c> {
    pub(super) fn new(context: &'c Context, collect: Provenance) -> Builder<'c> {
        Builder {
            context,
            facts: Vec::new(),
            collect,
        }
    }

    pub(super) fn finish(self, fields: Fields<'_>) -> CallRecord<'_> {
        CallRecord {
            call: Call {
                id: fields.id,
                direction: fields.direction,
                status: fields.status,
                agent: fields.agent,
                started_at: fields.started_at,
                duration_s: fields.duration_s,
                number: fields.number,
                tags: fields.tags.into_iter().collect(),
                last_step: fields.last_step,
                contact: fields.contact,
                unknown_keys: UnknownKeys::default(),
                unknown_flow_keys: NestedKeys::default(),
                unknown_contact_keys: NestedKeys::default(),
            },
            facts: self.facts,
        }
    }

    /// Notes where a field came from; `from` is only written out when the
    /// facts are collected (callers pass `format_args!`, not `format!`).
    pub(super) fn fact(&mut self, field: &'static str, value: Option<&str>, from: impl Display) {
        if self.collect == Provenance::Skip {
            return;
        }
        self.facts.push(Fact {
            field,
            value: value.map(str::to_string),
            from: from.to_string(),
        });
    }

    /// A CloudTalk agent id as the call's e-mail: through the agents list
    /// when it knows the id, else the id itself (a `user_map` link by agent
    /// id still matches it).
    pub(super) fn agent_by_id<'a>(
        &mut self,
        field: &'static str,
        id: Cow<'a, str>,
        at: &str,
    ) -> Cow<'a, str> {
        match self.context.telephony.get(id.trim()) {
            Some(email) => {
                self.fact(
                    field,
                    Some(email),
                    format_args!(
                        "agent `{id}` in {at}, through the agents list (`telephony_users_from`)"
                    ),
                );
                Cow::Owned(email.clone())
            }
            None => {
                let why = if self.context.telephony_users_from.is_some() {
                    "not in the agents list"
                } else {
                    "no `telephony_users_from` to turn it into an e-mail"
                };
                self.fact(
                    field,
                    Some(&id),
                    format_args!("agent `{id}` in {at} ({why})"),
                );
                id
            }
        }
    }

    /// The voicemail step's e-mail from the context: for the internal
    /// number the call came in on, else `default`.
    pub(super) fn voicemail_step<'a>(
        &mut self,
        own: Option<Cow<'a, str>>,
        own_at: &str,
        internal: Option<&str>,
    ) -> FlowStep<'a> {
        let email = match own {
            Some(email) => {
                self.fact("last_step.email", Some(&email), own_at);
                Some(email)
            }
            None => match self.context.voicemail_email_for(internal) {
                Some((key, email)) => {
                    let email = email.to_string();
                    self.fact(
                        "last_step.email",
                        Some(&email),
                        format_args!("`voicemail_email` `{key}`"),
                    );
                    Some(Cow::Owned(email))
                }
                None => {
                    self.fact(
                        "last_step.email",
                        None,
                        "no e-mail on the step and no `voicemail_email` in the context",
                    );
                    None
                }
            },
        };
        FlowStep {
            kind: Cow::Borrowed("voicemail"),
            agent: None,
            email,
        }
    }

    /// The contact owner from the context's contact owners file: by contact
    /// id, else by number.
    pub(super) fn owner<'a>(
        &mut self,
        contact_id: Option<&str>,
        number: Option<&str>,
    ) -> Option<Cow<'a, str>> {
        let owners = self.context.contact_owners.as_ref()?;
        let by_contact = contact_id.and_then(|id| {
            owners
                .by_contact
                .get(id.trim())
                .map(|owner| (owner, "contact", id))
        });
        let found = by_contact.or_else(|| {
            let number = number?;
            owners
                .by_number
                .get(&number_key(number))
                .map(|owner| (owner, "number", number))
        });
        match found {
            Some((owner, by, key)) => {
                let owner = owner.clone();
                self.fact(
                    "contact.owner",
                    Some(&owner),
                    format_args!(
                        "the contact owners file `{}`, by {by} `{key}`",
                        owners.source
                    ),
                );
                Some(Cow::Owned(owner))
            }
            None => {
                self.fact(
                    "contact.owner",
                    None,
                    format_args!(
                        "neither the contact nor the number is in the contact owners file `{}`",
                        owners.source
                    ),
                );
                None
            }
        }
    }
}
