//! A call-history item of the calls list (`GET /api/calls/index.json`)
//! → a call: `Cdr`, `Contact`, `Agent`, `CallNumber`, `Tags`.

use super::*;

/// A call-history item: `Cdr`, `Contact`, `Agent`, `CallNumber`, `Tags`.
pub(super) struct HistoryItem<'r, 'a, 'c> {
    pub(super) record: &'r shape::Record<'a>,
    pub(super) cdr: &'r Json<'a, shape::Cdr<'a>>,
    pub(super) built: Builder<'c>,
}

impl<'a> HistoryItem<'_, 'a, '_> {
    pub(super) fn read(self) -> Result<CallRecord<'a>, String> {
        let record = self.record;
        let cdr = self.cdr.object().ok_or("`Cdr` should be an object")?;
        let mut built = self.built;
        let id = text(cdr.id.as_ref(), "Cdr.id")?
            .ok_or("`Cdr.id` is missing: a call-history item needs its call id")?;
        built.fact("id", Some(&id), "`Cdr.id`");
        let direction = direction(cdr.kind.as_ref(), "Cdr.type")?;
        built.fact("direction", Some(direction.name()), "`Cdr.type`");
        let voicemail = flag(cdr.is_voicemail.as_ref(), "Cdr.is_voicemail")?;
        let answered = answered_at(cdr.answered_at.as_ref(), "Cdr.answered_at")?;
        let (status, from) = if voicemail {
            (Status::Voicemail, "`Cdr.is_voicemail`")
        } else if answered {
            (Status::Answered, "`Cdr.answered_at` is set")
        } else {
            (
                Status::Missed,
                "no `Cdr.answered_at`, not `Cdr.is_voicemail`",
            )
        };
        built.fact("status", Some(status.name()), from);

        let agent_email =
            object_at(record.agent.as_ref(), "Agent")?.and_then(|agent| agent.email.as_ref());
        let agent = match text(agent_email, "Agent.email")? {
            Some(email) => {
                built.fact("agent", Some(&email), "`Agent.email`");
                Some(email)
            }
            None => text(cdr.user_id.as_ref(), "Cdr.user_id")?
                .filter(|id| id != "0")
                .map(|id| built.agent_by_id("agent", id, "`Cdr.user_id`")),
        };

        let internal = phone(cdr.public_internal.as_ref(), "Cdr.public_internal")?;
        let last_step = voicemail.then(|| {
            built.fact(
                "last_step",
                Some("voicemail"),
                "`Cdr.is_voicemail` (a history item has no call steps)",
            );
            built.voicemail_step(None, "", internal.as_deref())
        });

        let number = phone(cdr.public_external.as_ref(), "Cdr.public_external")?;
        if let Some(number) = &number {
            built.fact("number", Some(number), "`Cdr.public_external`");
        }
        let started_at = timestamp(cdr.started_at.as_ref(), "Cdr.started_at")?;
        if let Some(started_at) = &started_at {
            built.fact("started_at", Some(started_at), "`Cdr.started_at`");
        }
        let duration_s = count(cdr.talking_time.as_ref(), "Cdr.talking_time")?;
        let tags = tags(
            record.tags.as_ref(),
            ("name", |tag| tag.name.as_ref()),
            "label",
            "Tags",
        )?;

        let contact = match record
            .history_contact
            .as_ref()
            .filter(|contact| !matches!(contact, Json::Null))
        {
            Some(contact) => {
                let contact = contact.object().ok_or("`Contact` should be an object")?;
                let id = text(contact.id.as_ref(), "Contact.id")?;
                if let Some(id) = &id {
                    built.fact("contact.id", Some(id), "`Contact.id`");
                }
                let favorite_agent = match contact.favorite_agent.as_ref() {
                    Some(Json::Object(agent)) => {
                        match text(agent.email.as_ref(), "Contact.favorite_agent.email")? {
                            Some(email) => {
                                built.fact(
                                    "contact.favorite_agent",
                                    Some(&email),
                                    "`Contact.favorite_agent.email`",
                                );
                                Some(email)
                            }
                            None => {
                                text(agent.id.as_ref(), "Contact.favorite_agent.id")?.map(|id| {
                                    built.agent_by_id(
                                        "contact.favorite_agent",
                                        id,
                                        "`Contact.favorite_agent.id`",
                                    )
                                })
                            }
                        }
                    }
                    other => text(other, "Contact.favorite_agent")?.map(|id| {
                        built.agent_by_id("contact.favorite_agent", id, "`Contact.favorite_agent`")
                    }),
                };
                let owner = built.owner(id.as_deref(), number.as_deref());
                Some(Contact {
                    id,
                    owner,
                    favorite_agent,
                })
            }
            None => built.owner(None, number.as_deref()).map(|owner| Contact {
                id: None,
                owner: Some(owner),
                favorite_agent: None,
            }),
        };

        Ok(built.finish(Fields {
            id,
            direction,
            status,
            agent,
            started_at,
            duration_s,
            number,
            tags,
            last_step,
            contact,
        }))
    }
}
