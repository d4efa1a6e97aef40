//! A call-detail record of the analytics API (`GET /api/calls/{id}`) → a
//! call: the call steps, queues and their agent calls, voicemail.

use super::*;

pub(super) struct DetailRecord<'r, 'a, 'c> {
    pub(super) record: &'r shape::Record<'a>,
    pub(super) built: Builder<'c>,
}

impl<'a> DetailRecord<'_, 'a, '_> {
    pub(super) fn read(self) -> Result<CallRecord<'a>, String> {
        let record = self.record;
        let mut built = self.built;
        let id = text(record.cdr_id.as_ref(), "cdr_id")?
            .ok_or("`cdr_id` is missing: a call-detail record needs its call id")?;
        built.fact("id", Some(&id), "`cdr_id`");
        let direction = direction(record.direction.as_ref(), "direction")?;
        built.fact("direction", Some(direction.name()), "`direction`");

        let steps = match &record.call_steps {
            None | Some(Json::Null) => &[][..],
            Some(Json::List(steps)) => steps.as_slice(),
            Some(other) => {
                return Err(format!(
                    "`call_steps` should be a list, found {}",
                    other.kind()
                ))
            }
        };
        let mut kinds = Vec::with_capacity(steps.len());
        for (index, step) in steps.iter().enumerate() {
            let kind = step.object().and_then(|step| step.kind.as_ref());
            let at = format_args!("call_steps[{index}].type");
            kinds.push(text(kind, at)?.ok_or_else(|| format!("`{at}` is missing"))?);
        }
        let last_kind = kinds.last().map(|kind| &**kind);

        let status = if last_kind == Some("voicemail") {
            built.fact(
                "status",
                Some("voicemail"),
                format_args!("`call_steps[{}]` is a voicemail", steps.len() - 1),
            );
            Status::Voicemail
        } else {
            let status = match text(record.status.as_ref(), "status")?.as_deref() {
                Some("answered") => Status::Answered,
                Some("missed") => Status::Missed,
                Some(other) => {
                    return Err(format!(
                        "`status` is `{other}`, expected `answered` or `missed`"
                    ))
                }
                None => return Err("`status` is missing".to_string()),
            };
            built.fact("status", Some(status.name()), "`status`");
            status
        };

        // The call's own agent: whoever answered, at the top level or in a
        // queue; the last one when the call was passed on.
        let mut answered_by = None;
        for (index, step) in steps.iter().enumerate() {
            let Some(fields) = step.object() else {
                continue;
            };
            match &*kinds[index] {
                "agent"
                    if answered(
                        fields.status.as_ref(),
                        format_args!("call_steps[{index}].status"),
                    )? =>
                {
                    answered_by = text(fields.id.as_ref(), format_args!("call_steps[{index}].id"))?
                        .map(|id| (id, format!("`call_steps[{index}]` (answered)")));
                }
                "queue" => {
                    if let Some(found) = queue_answerer(fields, index)? {
                        answered_by = Some(found);
                    }
                }
                _ => {}
            }
        }
        let agent = answered_by.map(|(id, at)| built.agent_by_id("agent", id, &at));

        let internal = match object_at(record.internal_number.as_ref(), "internal_number")? {
            Some(number) => phone(number.number.as_ref(), "internal_number.number")?,
            None => None,
        };
        let last_step = match steps.last() {
            None => None,
            Some(step) => {
                let fields = step.object();
                let index = steps.len() - 1;
                let kind = &*kinds[index];
                let at = format!("`call_steps[{index}]` ({kind})");
                Some(match kind {
                    "agent" => {
                        built.fact("last_step", Some("call_to_agent"), &at);
                        let id = fields.and_then(|step| step.id.as_ref());
                        let agent = text(id, format_args!("call_steps[{index}].id"))?
                            .map(|id| built.agent_by_id("last_step.agent", id, &at));
                        FlowStep {
                            kind: Cow::Borrowed("call_to_agent"),
                            agent,
                            email: None,
                        }
                    }
                    "queue" => {
                        built.fact("last_step", Some("call_to_group"), &at);
                        let answerer = match fields {
                            Some(fields) => queue_answerer(fields, index)?,
                            None => None,
                        };
                        let agent = match answerer {
                            Some((id, at)) => Some(built.agent_by_id("last_step.agent", id, &at)),
                            None => {
                                built.fact(
                                    "last_step.agent",
                                    None,
                                    format_args!("no agent call of {at} was answered"),
                                );
                                None
                            }
                        };
                        FlowStep {
                            kind: Cow::Borrowed("call_to_group"),
                            agent,
                            email: None,
                        }
                    }
                    "voicemail" => {
                        built.fact("last_step", Some("voicemail"), &at);
                        let own_at = format!("`call_steps[{index}].email`");
                        let email = fields.and_then(|step| step.email.as_ref());
                        let own = text(email, &own_at)?;
                        built.voicemail_step(own, &own_at, internal.as_deref())
                    }
                    other => {
                        built.fact("last_step", Some(other), &at);
                        FlowStep {
                            kind: kinds[index].clone(),
                            agent: None,
                            email: None,
                        }
                    }
                })
            }
        };

        let contact_fields = object_at(record.contact.as_ref(), "contact")?;
        let number = contact_fields
            .map(|contact| phone(contact.number.as_ref(), "contact.number"))
            .transpose()?
            .flatten();
        if let Some(number) = &number {
            built.fact("number", Some(number), "`contact.number`");
        }
        let contact_id = contact_fields
            .map(|contact| text(contact.id.as_ref(), "contact.id"))
            .transpose()?
            .flatten();
        if let Some(id) = &contact_id {
            built.fact("contact.id", Some(id), "`contact.id`");
        }
        let owner = built.owner(contact_id.as_deref(), number.as_deref());
        let contact = (contact_id.is_some() || owner.is_some()).then_some(Contact {
            id: contact_id,
            owner,
            favorite_agent: None,
        });
        let started_at = timestamp(record.date.as_ref(), "date")?;
        if let Some(started_at) = &started_at {
            built.fact("started_at", Some(started_at), "`date`");
        }
        let talking_time = object_at(record.call_times.as_ref(), "call_times")?
            .and_then(|times| times.talking_time.as_ref());
        let duration_s = count(talking_time, "call_times.talking_time")?;
        let tags = tags(
            record.call_tags.as_ref(),
            ("label", |tag| tag.label.as_ref()),
            "name",
            "call_tags",
        )?;

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

/// The agent id of a queue step's last answered agent call, with where it
/// is written.
pub(super) fn queue_answerer<'a>(
    step: &shape::Step<'a>,
    index: usize,
) -> Result<Option<(Cow<'a, str>, String)>, String> {
    let calls = match &step.agent_calls {
        None | Some(Json::Null) => return Ok(None),
        Some(Json::List(calls)) => calls,
        Some(other) => {
            return Err(format!(
                "`call_steps[{index}].agent_calls` should be a list of agent calls, found {}",
                other.kind()
            ))
        }
    };
    // Every agent call is checked, not only up to the last answered one:
    // a malformed entry is refused wherever it is.
    let mut found = None;
    for (position, call) in calls.iter().enumerate() {
        let Some(call) = call.object() else {
            return Err(format!(
                "`call_steps[{index}].agent_calls[{position}]` should be an object, found {}",
                shown(call)
            ));
        };
        let at = format_args!("call_steps[{index}].agent_calls[{position}].status");
        if answered(call.status.as_ref(), at)? {
            found = Some((position, call));
        }
    }
    let Some((position, call)) = found else {
        return Ok(None);
    };
    let at = format!("call_steps[{index}].agent_calls[{position}]");
    Ok(text(call.id.as_ref(), format_args!("{at}.id"))?
        .map(|id| (id, format!("`{at}` (answered)"))))
}
