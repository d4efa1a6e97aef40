//! CloudTalk records as calls (docs/contract.md section 3): one table row per
//! mapping row and per call-step type, the context's directories, and the
//! command line over `examples/cloudtalk`.

use callassign::model::cloudtalk::{self, Record};
use callassign::model::Context;
use callassign::vocabulary::{Direction, Status};
use serde_json::{json, Value};

use crate::common::{callassign, eval_hubspot_in, folder};

/// A context with an agents list, `voicemail_email` and contact owners,
/// as `Context::load` would resolve them.
fn context() -> Context {
    let mut context = Context::from_yaml(
        "integration: hubspot\ncontact_owner: true\nusers:\n  - {id: '101', email: max@acme.com}\n\
         voicemail_email:\n  '+421221291400': support@acme.com\n  default: sales@acme.com\n",
    )
    .unwrap();
    context
        .telephony
        .insert("1234".into(), "max@acme.com".into());
    context.telephony.insert("11".into(), "ola@acme.com".into());
    let mut owners = callassign::model::context::lists::ContactOwners {
        source: "owners.csv".into(),
        ..Default::default()
    };
    owners.by_contact.insert("42".into(), "hs-7".into());
    owners
        .by_number
        .insert("442079460958".into(), "hs-8".into());
    context.contact_owners = Some(owners);
    context
}

fn read(record: Value) -> Record {
    cloudtalk::read_value(&record, &context()).unwrap_or_else(|error| panic!("{error}"))
}

fn item(cdr: Value) -> Value {
    json!({ "Cdr": cdr })
}

fn cdr(extra: Value) -> Value {
    let mut cdr = json!({"id": "27", "type": "incoming"});
    for (key, value) in extra.as_object().unwrap() {
        cdr[key] = value.clone();
    }
    cdr
}

fn from_of(record: &Record, field: &str) -> String {
    record
        .facts
        .iter()
        .find(|fact| fact.field == field)
        .unwrap_or_else(|| panic!("no fact for `{field}`: {:?}", record.facts))
        .from
        .clone()
}

#[test]
fn history_items_map_row_by_row() {
    // (record, what the call must hold, the fact's source)
    type Check = fn(&Record) -> bool;
    let rows: Vec<(&str, Value, Check, &str, &str)> = vec![
        (
            "id from Cdr.id as a number",
            item(json!({"id": 27, "type": "incoming"})),
            |r| r.call.id == "27",
            "id",
            "`Cdr.id`",
        ),
        (
            "direction from Cdr.type",
            item(cdr(json!({"type": "internal"}))),
            |r| r.call.direction == Direction::Internal,
            "direction",
            "`Cdr.type`",
        ),
        (
            "voicemail from Cdr.is_voicemail",
            item(cdr(
                json!({"is_voicemail": true, "answered_at": "2026-01-01T00:00:00Z"}),
            )),
            |r| r.call.status == Status::Voicemail,
            "status",
            "`Cdr.is_voicemail`",
        ),
        (
            "answered when Cdr.answered_at is set",
            item(cdr(json!({"answered_at": "2026-01-01T00:00:00Z"}))),
            |r| r.call.status == Status::Answered,
            "status",
            "`Cdr.answered_at` is set",
        ),
        (
            "missed otherwise",
            item(cdr(json!({"answered_at": null}))),
            |r| r.call.status == Status::Missed,
            "status",
            "no `Cdr.answered_at`, not `Cdr.is_voicemail`",
        ),
        (
            "agent from Agent.email",
            json!({"Cdr": cdr(json!({"user_id": "1234"})), "Agent": {"email": "Eva@acme.com"}}),
            |r| r.call.agent.as_deref() == Some("Eva@acme.com"),
            "agent",
            "`Agent.email`",
        ),
        (
            "agent from Cdr.user_id through the directory",
            item(cdr(json!({"user_id": 1234}))),
            |r| r.call.agent.as_deref() == Some("max@acme.com"),
            "agent",
            "agent `1234` in `Cdr.user_id`, through the agents list (`telephony_users_from`)",
        ),
        (
            "an unknown agent id is kept as the id",
            item(cdr(json!({"user_id": "999"}))),
            |r| r.call.agent.as_deref() == Some("999"),
            "agent",
            "agent `999` in `Cdr.user_id` (no `telephony_users_from` to turn it into an e-mail)",
        ),
        (
            "voicemail last step from Cdr.is_voicemail",
            item(cdr(json!({"is_voicemail": 1}))),
            |r| {
                r.call
                    .last_step
                    .as_ref()
                    .is_some_and(|s| s.kind == "voicemail")
            },
            "last_step",
            "`Cdr.is_voicemail` (a history item has no call steps)",
        ),
        (
            "its e-mail from voicemail_email by Cdr.public_internal",
            item(cdr(
                json!({"is_voicemail": true, "public_internal": 421221291400u64}),
            )),
            |r| {
                r.call.last_step.as_ref().and_then(|s| s.email.as_deref())
                    == Some("support@acme.com")
            },
            "last_step.email",
            "`voicemail_email` `+421221291400`",
        ),
        (
            "else the default",
            item(cdr(
                json!({"is_voicemail": true, "public_internal": "+44 20 1234 5678"}),
            )),
            |r| {
                r.call.last_step.as_ref().and_then(|s| s.email.as_deref()) == Some("sales@acme.com")
            },
            "last_step.email",
            "`voicemail_email` `default`",
        ),
        (
            "no last step without a voicemail",
            item(cdr(json!({}))),
            |r| r.call.last_step.is_none(),
            "id",
            "`Cdr.id`",
        ),
        (
            "number from Cdr.public_external, a JSON number gets its +",
            item(cdr(json!({"public_external": 421904247371u64}))),
            |r| r.call.number.as_deref() == Some("+421904247371"),
            "number",
            "`Cdr.public_external`",
        ),
        (
            "started_at from Cdr.started_at",
            item(cdr(json!({"started_at": "2026-11-23T08:33:37.000Z"}))),
            |r| r.call.started_at.as_deref() == Some("2026-11-23T08:33:37.000Z"),
            "started_at",
            "`Cdr.started_at`",
        ),
        (
            "started_at with a local offset, as CloudTalk's records carry",
            item(cdr(json!({"started_at": "2025-09-25 10:34:27+02:00"}))),
            |r| r.call.started_at.as_deref() == Some("2025-09-25 10:34:27+02:00"),
            "started_at",
            "`Cdr.started_at`",
        ),
        (
            "duration_s from Cdr.talking_time as a string",
            item(cdr(json!({"talking_time": "21"}))),
            |r| r.call.duration_s == Some(21),
            "id",
            "`Cdr.id`",
        ),
        (
            "duration_s from Cdr.talking_time written as a whole float (`21.0`)",
            item(cdr(json!({"talking_time": 21.0}))),
            |r| r.call.duration_s == Some(21),
            "id",
            "`Cdr.id`",
        ),
        (
            "tags from Tags[].name",
            json!({"Cdr": cdr(json!({})), "Tags": [{"id": "1", "name": "VIP"}, {"id": 2, "name": "Missed"}]}),
            |r| r.call.tags == ["VIP", "Missed"],
            "id",
            "`Cdr.id`",
        ),
        (
            "contact.id from Contact.id",
            json!({"Cdr": cdr(json!({})), "Contact": {"id": 7}}),
            |r| r.call.contact.as_ref().and_then(|c| c.id.as_deref()) == Some("7"),
            "contact.id",
            "`Contact.id`",
        ),
        (
            "favorite agent from Contact.favorite_agent.email",
            json!({"Cdr": cdr(json!({})), "Contact": {"id": 7, "favorite_agent": {"id": "11", "email": "dave@acme.com"}}}),
            |r| {
                r.call
                    .contact
                    .as_ref()
                    .and_then(|c| c.favorite_agent.as_deref())
                    == Some("dave@acme.com")
            },
            "contact.favorite_agent",
            "`Contact.favorite_agent.email`",
        ),
        (
            "favorite agent by id through the directory",
            json!({"Cdr": cdr(json!({})), "Contact": {"id": 7, "favorite_agent": 11}}),
            |r| {
                r.call
                    .contact
                    .as_ref()
                    .and_then(|c| c.favorite_agent.as_deref())
                    == Some("ola@acme.com")
            },
            "contact.favorite_agent",
            "agent `11` in `Contact.favorite_agent`, through the agents list (`telephony_users_from`)",
        ),
        (
            "owner from the contact owners file by contact id",
            json!({"Cdr": cdr(json!({})), "Contact": {"id": 42}}),
            |r| r.call.contact.as_ref().and_then(|c| c.owner.as_deref()) == Some("hs-7"),
            "contact.owner",
            "the contact owners file `owners.csv`, by contact `42`",
        ),
        (
            "owner by number when there is no contact",
            item(cdr(json!({"public_external": "+44 20 7946 0958"}))),
            |r| r.call.contact.as_ref().and_then(|c| c.owner.as_deref()) == Some("hs-8"),
            "contact.owner",
            "the contact owners file `owners.csv`, by number `+44 20 7946 0958`",
        ),
    ];
    for (name, record, check, field, from) in rows {
        let read = read(record);
        assert!(check(&read), "{name}: {:?}", read.call);
        assert_eq!(from_of(&read, field), from, "{name}");
    }
}

fn detail(steps: Value) -> Value {
    json!({
        "cdr_id": 12345, "direction": "incoming", "status": "missed", "date": "2022-02-07T13:00:00.000Z",
        "contact": {"id": 42, "number": "+420123123123"},
        "internal_number": {"id": 1, "name": "Europe Sales", "number": "+421221291400"},
        "call_times": {"talking_time": 60},
        "call_tags": [{"id": 5, "label": "Lead"}],
        "call_steps": steps,
    })
}

#[test]
fn detail_records_map_row_by_row() {
    let record = read(detail(json!([])));
    let call = &record.call;
    assert_eq!(call.id, "12345");
    assert_eq!(from_of(&record, "id"), "`cdr_id`");
    assert_eq!(call.direction, Direction::Incoming);
    assert_eq!(call.status, Status::Missed);
    assert_eq!(from_of(&record, "status"), "`status`");
    assert_eq!(call.number.as_deref(), Some("+420123123123"));
    assert_eq!(from_of(&record, "number"), "`contact.number`");
    assert_eq!(call.started_at.as_deref(), Some("2022-02-07T13:00:00.000Z"));
    assert_eq!(from_of(&record, "started_at"), "`date`");
    assert_eq!(call.duration_s, Some(60));
    assert_eq!(call.tags, ["Lead"]);
    let contact = call.contact.as_ref().unwrap();
    assert_eq!(contact.id.as_deref(), Some("42"));
    assert_eq!(contact.owner.as_deref(), Some("hs-7"));
    assert!(call.last_step.is_none() && call.agent.is_none());
}

#[test]
fn each_call_step_type_becomes_a_last_step() {
    let agent =
        |id: u64, status: &str| json!({"type": "agent", "id": id, "name": "A", "status": status});
    // (last step, its kind, its agent, its e-mail, the call's own agent, status)
    type Row = (
        &'static str,
        Value,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
        Status,
    );
    let rows: Vec<Row> = vec![
        (
            "agent answered",
            agent(1234, "answered"),
            "call_to_agent",
            Some("max@acme.com"),
            None,
            Some("max@acme.com"),
            Status::Missed,
        ),
        (
            "agent missed",
            agent(1234, "missed"),
            "call_to_agent",
            Some("max@acme.com"),
            None,
            None,
            Status::Missed,
        ),
        (
            "queue answered",
            json!({"type": "queue", "id": 10, "status": "answered", "agent_calls": [agent(1234, "missed"), agent(11, "answered")]}),
            "call_to_group",
            Some("ola@acme.com"),
            None,
            Some("ola@acme.com"),
            Status::Missed,
        ),
        (
            "queue without an answered agent call",
            json!({"type": "queue", "id": 10, "status": "missed", "agent_calls": [agent(1234, "missed")]}),
            "call_to_group",
            None,
            None,
            None,
            Status::Missed,
        ),
        (
            "ivr",
            json!({"type": "ivr", "id": 1, "option": "1"}),
            "ivr",
            None,
            None,
            None,
            Status::Missed,
        ),
        (
            "playback",
            json!({"type": "playback", "id": 1, "file": "closed.wav"}),
            "playback",
            None,
            None,
            None,
            Status::Missed,
        ),
        (
            "transfer",
            json!({"type": "transfer", "id": 1, "endpoint": "+421900", "status": "answered"}),
            "transfer",
            None,
            None,
            None,
            Status::Missed,
        ),
        (
            "voicemail with its own e-mail",
            json!({"type": "voicemail", "email": "ops@acme.com"}),
            "voicemail",
            None,
            Some("ops@acme.com"),
            None,
            Status::Voicemail,
        ),
        (
            "voicemail without one",
            json!({"type": "voicemail"}),
            "voicemail",
            None,
            Some("support@acme.com"),
            None,
            Status::Voicemail,
        ),
        (
            "unknown type",
            json!({"type": "ai_voice_agent", "id": 3}),
            "ai_voice_agent",
            None,
            None,
            None,
            Status::Missed,
        ),
    ];
    for (name, step, kind, step_agent, email, own_agent, status) in rows {
        let record = read(detail(json!([{"type": "ivr", "id": 1}, step])));
        let last = record.call.last_step.as_ref().expect(name);
        assert_eq!(last.kind, kind, "{name}");
        assert_eq!(last.agent.as_deref(), step_agent, "{name}");
        assert_eq!(last.email.as_deref(), email, "{name}");
        assert_eq!(
            record.call.agent.as_deref(),
            own_agent,
            "{name}: the call's own agent"
        );
        assert_eq!(record.call.status, status, "{name}");
        assert!(
            from_of(&record, "last_step").starts_with("`call_steps[1]`"),
            "{name}"
        );
    }
    // The call's own agent is whoever answered, even before the last step.
    let record = read(detail(
        json!([agent(11, "answered"), {"type": "transfer", "id": 2}]),
    ));
    assert_eq!(record.call.agent.as_deref(), Some("ola@acme.com"));
    assert_eq!(
        from_of(&record, "agent"),
        "agent `11` in `call_steps[0]` (answered), through the agents list (`telephony_users_from`)"
    );
}

#[test]
fn flags_and_answer_times_are_read_exactly_in_each_accepted_form() {
    for (is_voicemail, answered_at, status) in [
        (json!(true), json!(null), Status::Voicemail),
        (json!(1), json!(null), Status::Voicemail),
        (json!("1"), json!(null), Status::Voicemail),
        (json!("true"), json!(null), Status::Voicemail),
        (json!(false), json!(null), Status::Missed),
        (json!(0), json!(""), Status::Missed),
        (json!("0"), json!(null), Status::Missed),
        (json!("false"), json!(null), Status::Missed),
        (json!(""), json!(null), Status::Missed),
        (json!(null), json!("2026-11-23 10:00:00"), Status::Answered),
        (
            json!(false),
            json!("2026-11-23T10:00:00.000Z"),
            Status::Answered,
        ),
        (
            json!(0),
            json!("2026-11-23T10:00:00+02:00"),
            Status::Answered,
        ),
    ] {
        let record = read(item(cdr(
            json!({"is_voicemail": is_voicemail, "answered_at": answered_at}),
        )));
        assert_eq!(record.call.status, status, "{is_voicemail} {answered_at}");
    }
}

#[test]
fn bad_records_get_located_clear_errors() {
    let context = context();
    let rows: Vec<(Value, &str)> = vec![
        (
            json!({"Cdr": {"type": "incoming"}}),
            "`Cdr.id` is missing: a call-history item needs its call id",
        ),
        (json!({"Cdr": {"id": 1}}), "`Cdr.type` is missing"),
        (
            json!({"Cdr": {"id": 1, "type": "inbound"}}),
            "`Cdr.type` is `inbound`, expected `incoming`, `outgoing` or `internal`",
        ),
        (json!({"Cdr": "27"}), "`Cdr` should be an object"),
        (
            json!({"cdr_id": 1, "direction": "incoming"}),
            "`status` is missing",
        ),
        (
            json!({"cdr_id": 1, "direction": "incoming", "status": "missed", "call_steps": [{"id": 1}]}),
            "`call_steps[0].type` is missing",
        ),
        (
            json!({"Cdr": {"id": 1, "type": "incoming", "talking_time": "long"}}),
            "`Cdr.talking_time` should be a whole number, found `long`",
        ),
        (
            json!({"Cdr": {"id": 1, "type": "incoming", "talking_time": 21.5}}),
            "`Cdr.talking_time` should be a whole number, found `21.5`",
        ),
        (
            json!({"Cdr": {"id": 1, "type": "incoming", "talking_time": "-3"}}),
            "`Cdr.talking_time` is `-3`, below zero; a count is 0 or more",
        ),
        (
            json!({"cdr_id": 1, "direction": "incoming", "status": "missed", "call_times": {"talking_time": -5}}),
            "`call_times.talking_time` is `-5`, below zero; a count is 0 or more",
        ),
        // A time no `started_at` condition can compare is refused, not
        // passed on to make both `started_at == null` and `>` false.
        (
            json!({"Cdr": {"id": 1, "type": "incoming", "started_at": "2017-12-24 12:22:00"}}),
            "`Cdr.started_at` is `2017-12-24 12:22:00`, which has no time zone offset, and callassign does not guess one; if it is UTC (as CloudTalk's API documents), write `2017-12-24T12:22:00Z`, else add its offset (`+01:00`)",
        ),
        (
            json!({"cdr_id": 1, "direction": "incoming", "status": "missed", "date": "2022-02-07T13:00:00"}),
            "`date` is `2022-02-07T13:00:00`, which has no time zone offset, and callassign does not guess one; if it is UTC (as CloudTalk's API documents), write `2022-02-07T13:00:00Z`",
        ),
        (
            json!({"Cdr": {"id": 1, "type": "incoming", "started_at": 1506000000}}),
            "`Cdr.started_at`: `1506000000` is not an RFC 3339 timestamp; write it as `2026-11-23T10:00:00Z`",
        ),
        (
            json!({"Cdr": {"id": 1, "type": "incoming", "started_at": "2026-02-30T10:00:00Z"}}),
            "`Cdr.started_at`: `2026-02-30T10:00:00Z` is not an RFC 3339 timestamp",
        ),
        // Ids and numbers that a float would only round-trip rounded, or a
        // sign would garble (`+-421`), are refused naming the field.
        (
            json!({"Cdr": {"id": 1.2345678901234568e29, "type": "incoming"}}),
            "`Cdr.id` is `1.2345678901234568e+29`, which cannot be kept exactly (a number with a decimal point or an exponent, or past 64 bits); send it as a string or a whole number",
        ),
        (
            json!({"Cdr": {"id": 1, "type": "incoming", "public_external": -421.5}}),
            "`Cdr.public_external` is `-421.5`, which cannot be kept exactly (a number with a decimal point or an exponent, or past 64 bits); send it as a string or a whole number",
        ),
        (
            json!({"Cdr": {"id": 1, "type": "incoming", "public_external": -421}}),
            "`Cdr.public_external` is `-421`, which is not a phone number; send it as a string (`\"+421221291400\"`) or a whole number",
        ),
        (
            json!({"Cdr": {"id": 1, "type": "incoming", "user_id": 12.5}}),
            "`Cdr.user_id` is `12.5`, which cannot be kept exactly (a number with a decimal point or an exponent, or past 64 bits)",
        ),
        (
            json!({"cdr_id": 7.5, "direction": "incoming", "status": "missed"}),
            "`cdr_id` is `7.5`, which cannot be kept exactly (a number with a decimal point or an exponent, or past 64 bits)",
        ),
        (
            json!({"cdr_id": 7, "direction": "incoming", "status": "missed", "contact": {"number": -1}}),
            "`contact.number` is `-1`, which is not a phone number",
        ),
        // Values of the wrong shape are refused, never read as something
        // else (a voicemail read as missed, a tag or an agent dropped).
        (
            json!({"Cdr": {"id": 1, "type": "incoming", "is_voicemail": "True"}}),
            "`Cdr.is_voicemail` is `\"True\"`, which is not a flag; write `true` or `false` (or `1` or `0`)",
        ),
        (
            json!({"Cdr": {"id": 1, "type": "incoming", "is_voicemail": "yes"}}),
            "`Cdr.is_voicemail` is `\"yes\"`, which is not a flag",
        ),
        (
            json!({"Cdr": {"id": 1, "type": "incoming", "is_voicemail": 0.4}}),
            "`Cdr.is_voicemail` is `0.4`, which is not a flag",
        ),
        (
            json!({"Cdr": {"id": 1, "type": "incoming", "is_voicemail": 2}}),
            "`Cdr.is_voicemail` is `2`, which is not a flag",
        ),
        (
            json!({"Cdr": {"id": 1, "type": "incoming", "is_voicemail": []}}),
            "`Cdr.is_voicemail` is a list, which is not a flag",
        ),
        (
            json!({"Cdr": {"id": 1, "type": "incoming", "answered_at": "0000-00-00 00:00:00"}}),
            "`Cdr.answered_at` is `\"0000-00-00 00:00:00\"`, which is not a date and time; leave it out (or null) for a call nobody answered",
        ),
        (
            json!({"Cdr": {"id": 1, "type": "incoming", "answered_at": "no"}}),
            "`Cdr.answered_at` is `\"no\"`, which is not a date and time",
        ),
        (
            json!({"Cdr": {"id": 1, "type": "incoming", "answered_at": 0}}),
            "`Cdr.answered_at` is `0`, which is not a date and time",
        ),
        (
            json!({"Cdr": {"id": 1, "type": "incoming"}, "Tags": ["vip"]}),
            "`Tags[0]` should be a tag object with `name` (`{\"name\": \"vip\"}`), found `\"vip\"`",
        ),
        (
            json!({"Cdr": {"id": 1, "type": "incoming"}, "Tags": [{"name": "a"}, {"label": "vip"}]}),
            "`Tags[1].name` is missing (it has `label`, which is how the other record shape names its tags)",
        ),
        (
            json!({"Cdr": {"id": 1, "type": "incoming"}, "Tags": [{"id": 3}]}),
            "`Tags[0].name` is missing",
        ),
        (
            json!({"Cdr": {"id": 1, "type": "incoming"}, "Tags": "vip"}),
            "`Tags` should be a list of tags (`[{\"name\": \"vip\"}]`), found a string",
        ),
        (
            json!({"cdr_id": 1, "direction": "incoming", "status": "missed", "call_tags": [{"name": "vip"}]}),
            "`call_tags[0].label` is missing (it has `name`, which is how the other record shape names its tags)",
        ),
        (
            json!({"cdr_id": 1, "direction": "incoming", "status": "missed", "call_tags": ["vip"]}),
            "`call_tags[0]` should be a tag object with `label`",
        ),
        (
            json!({"cdr_id": 1, "direction": "incoming", "status": "missed", "call_steps": [{"type": "queue", "agent_calls": {"id": 11, "status": "answered"}}]}),
            "`call_steps[0].agent_calls` should be a list of agent calls, found an object",
        ),
        (
            json!({"cdr_id": 1, "direction": "incoming", "status": "missed", "call_steps": [{"type": "queue", "agent_calls": [11]}]}),
            "`call_steps[0].agent_calls[0]` should be an object, found `11`",
        ),
        (
            json!({"cdr_id": 1, "direction": "incoming", "status": "missed", "call_steps": [{"type": "queue", "agent_calls": [{"id": 11, "status": true}]}]}),
            "`call_steps[0].agent_calls[0].status` should be a status such as `answered`, found `true`",
        ),
        (
            json!({"cdr_id": 1, "direction": "incoming", "status": "missed", "call_steps": [{"type": "agent", "id": 11, "status": 1}]}),
            "`call_steps[0].status` should be a status such as `answered`, found `1`",
        ),
        (
            json!({"Cdr": {"id": 1, "type": "incoming"}, "Agent": "max@acme.com"}),
            "`Agent` should be an object, found `\"max@acme.com\"`",
        ),
        (
            json!({"cdr_id": 1, "direction": "incoming", "status": "missed", "internal_number": "+421221291400"}),
            "`internal_number` should be an object",
        ),
        (
            json!({"cdr_id": 1, "direction": "incoming", "status": "missed", "contact": [1]}),
            "`contact` should be an object, found a list",
        ),
        (
            json!({"cdr_id": 1, "direction": "incoming", "status": "missed", "call_times": 3}),
            "`call_times` should be an object, found `3`",
        ),
        (
            json!({"id": "c-1"}),
            "not a CloudTalk call record: expected `Cdr`",
        ),
        (
            json!([1]),
            "expected a CloudTalk call record `{…}`, found a list",
        ),
    ];
    for (record, expected) in rows {
        let error = cloudtalk::read_value(&record, &context).unwrap_err();
        assert!(error.starts_with(expected), "{record}: {error}");
    }
    let list = json!({"responseData": {"data": [{"Cdr": {"id": 1, "type": "incoming"}}, {"Cdr": {"type": "incoming"}}]}});
    let read = cloudtalk::read_document(&list.to_string(), &context).unwrap();
    assert!(read[0].is_ok());
    assert_eq!(
        read[1].as_ref().unwrap_err().message,
        "responseData.data[1]: `Cdr.id` is missing: a call-history item needs its call id"
    );
}

// ---- The context's directories ----

fn load(files: &[(&str, &str)]) -> Result<Context, String> {
    let dir = folder(files);
    Context::load(&dir.path().join("context.yaml")).map_err(|problems| {
        problems
            .into_iter()
            .map(|problem| {
                // Paths differ per run; the file names do not.
                let folder = format!("{}/", dir.path().display());
                problem.message.replace(&folder, "")
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}

fn users_of(context: &Context) -> Vec<(String, Option<String>, bool)> {
    context
        .users
        .iter()
        .map(|user| (user.id.clone(), user.email.clone(), user.active))
        .collect()
}

#[test]
fn each_user_list_format_reads_ids_e_mails_and_activity() {
    let rows: [(&str, &str); 6] = [
        (
            "hubspot_owners",
            r#"{"results": [{"id": "1", "email": "Ann@Acme.com", "archived": false}, {"id": "2", "email": "bob@acme.com", "archived": true}]}"#,
        ),
        (
            "salesforce_users",
            r#"{"totalSize": 2, "done": true, "records": [{"attributes": {"type": "User"}, "Id": "1", "Email": "Ann@Acme.com", "IsActive": true}, {"Id": "2", "Email": "bob@acme.com", "IsActive": false}]}"#,
        ),
        (
            "zendesk_users",
            r#"{"users": [{"id": 1, "email": "Ann@Acme.com", "active": true, "suspended": false}, {"id": 2, "email": "bob@acme.com", "active": true, "suspended": true}], "next_page": null}"#,
        ),
        (
            "pipedrive_users",
            r#"{"success": true, "data": [{"id": 1, "email": "Ann@Acme.com", "active_flag": true}, {"id": 2, "email": "bob@acme.com", "active_flag": 0}]}"#,
        ),
        (
            "freshdesk_agents",
            r#"[{"id": 1, "contact": {"email": "Ann@Acme.com", "active": true}}, {"id": 2, "contact": {"email": "bob@acme.com", "active": false}}]"#,
        ),
        (
            "csv",
            "id,email,active\n1,Ann@Acme.com,true\n2,bob@acme.com,false\n",
        ),
    ];
    for (format, list) in rows {
        let file = if format == "csv" {
            "users.csv"
        } else {
            "users.json"
        };
        let context_text = format!("users_from: {{format: {format}, path: {file}}}\n");
        let context = load(&[("context.yaml", &context_text), (file, list)])
            .unwrap_or_else(|error| panic!("{format}: {error}"));
        assert_eq!(
            users_of(&context),
            [
                ("1".to_string(), Some("Ann@Acme.com".to_string()), true),
                ("2".to_string(), Some("bob@acme.com".to_string()), false)
            ],
            "{format}"
        );
        let directory = callassign::model::Directory::for_context(&context);
        assert!(
            directory.by_email(" ann@ACME.com").active().is_some(),
            "{format}: odd case"
        );
    }
}

#[test]
fn paginated_user_lists_are_read_page_by_page_beside_inline_users() {
    let context = load(&[
        (
            "context.yaml",
            "users: [{id: '9', email: ops@acme.com}]\nusers_from: {format: hubspot_owners, path: [p1.json, p2.json]}\n",
        ),
        ("p1.json", r#"{"results": [{"id": "1", "email": "a@acme.com"}], "paging": {"next": {"after": "1"}}}"#),
        ("p2.json", r#"{"results": [{"id": "2", "email": "b@acme.com"}]}"#),
    ])
    .unwrap();
    let ids: Vec<&str> = context.users.iter().map(|user| user.id.as_str()).collect();
    assert_eq!(ids, ["9", "1", "2"]);
    let duplicate = load(&[
        ("context.yaml", "users: [{id: '1', email: ops@acme.com}]\nusers_from: {format: hubspot_owners, path: p1.json}\n"),
        ("p1.json", r#"{"results": [{"id": "1", "email": "a@acme.com"}]}"#),
    ])
    .unwrap_err();
    assert_eq!(
        duplicate,
        "`context.yaml`: `p1.json` results[0] (`1`) has the id of users[0] (`1`)"
    );
}

#[test]
fn agents_and_contact_owners_are_read_into_lookups() {
    let context = load(&[
        (
            "context.yaml",
            "users: [{id: '1', email: a@acme.com}]\ntelephony_users_from: {format: cloudtalk_agents, path: agents.json}\ncontact_owners_from: {format: csv, path: owners.csv}\n",
        ),
        ("agents.json", r#"{"responseData": {"data": [{"Agent": {"id": "1234", "email": "max@acme.sk"}}, {"Agent": {"id": 99, "email": "joh.doe@phoonio.com"}}]}}"#),
        ("owners.csv", "number,owner\n\"+421 905 111 222\",1\n"),
    ])
    .unwrap();
    assert_eq!(
        context.telephony.get("99").map(String::as_str),
        Some("joh.doe@phoonio.com")
    );
    let owners = context.contact_owners.unwrap();
    assert_eq!(
        owners.by_number.get("421905111222").map(String::as_str),
        Some("1")
    );
}

#[test]
fn bad_directories_get_located_clear_errors() {
    let context = |key: &str, format: &str, file: &str| {
        format!(
            "users: [{{id: '1', email: a@acme.com}}]\n{key}: {{format: {format}, path: {file}}}\n"
        )
    };
    let rows: Vec<(String, &str, &str, &str)> = vec![
        (context("users_from", "hubspot_owners", "users.json"), "users.json", r#"{"users": [{"id": 1}]}"#,
         "`context.yaml`: `users.json` is not a `hubspot_owners` list: it has no `results` list"),
        (context("users_from", "salesforce_users", "users.json"), "users.json", r#"{"records": [{"Email": "x@acme.com"}]}"#,
         "`context.yaml`: `users.json`: records[0] has no `Id`"),
        (context("users_from", "zendesk_users", "users.json"), "users.json", r#"{"users": [{"id": 2, "email": "not an address"}]}"#,
         "`context.yaml`: `users.json` users[0] (`2`) has the e-mail `not an address`, which is not an e-mail address"),
        (context("users_from", "csv", "users.csv"), "users.csv", "id,mail\n1,a@acme.com\n",
         "`context.yaml`: `users.csv` has no `email` column (its header is `id,mail`)"),
        (context("users_from", "csv", "users.csv"), "users.csv", "id,email\n1,a@acme.com,true\n",
         "`context.yaml`: `users.csv` line 2 has 3 fields, the header has 2"),
        (context("contact_owners_from", "csv", "owners.csv"), "owners.csv", "contact,owner_id\n42,1\n",
         "`context.yaml`: `owners.csv` has no `owner` column (its header is `contact,owner_id`)"),
        (context("contact_owners_from", "csv", "owners.csv"), "owners.csv", "name,owner\nAnn,1\n",
         "`context.yaml`: `owners.csv` has neither a `contact` nor a `number` column (its header is `name,owner`)"),
        (context("telephony_users_from", "cloudtalk_agents", "agents.json"), "agents.json", r#"{"data": []}"#,
         "`context.yaml`: `agents.json` is not a CloudTalk agents list: it has no `responseData.data` list"),
        (context("users_from", "hubspot_owners", "missing.json"), "other.json", "{}",
         "`context.yaml`: `missing.json` does not exist"),
        // Only one of two same-named columns would be read.
        (context("users_from", "csv", "users.csv"), "users.csv", "id,email,id\n1,a@acme.com,2\n",
         "`context.yaml`: `users.csv` line 1: the header names the column `id` twice (`id,email,id`)"),
        (context("contact_owners_from", "csv", "owners.csv"), "owners.csv", "\n\ncontact,owner,Owner\n42,1,2\n",
         "`context.yaml`: `owners.csv` line 3: the header names the column `owner` twice (`contact,owner,owner`)"),
        // One file listed twice would clash with itself entry by entry.
        (context("users_from", "csv", "[users.csv, ./users.csv]"), "users.csv", "id,email\n2,b@acme.com\n",
         "`context.yaml`: `users_from` lists the file `users.csv` twice (as `users.csv` and `./users.csv`)"),
        (context("contact_owners_from", "csv", "[owners.csv, owners.csv]"), "owners.csv", "contact,owner\n42,1\n",
         "`context.yaml`: `contact_owners_from` lists the file `owners.csv` twice"),
        (context("telephony_users_from", "cloudtalk_agents", "[agents.json, agents.json]"), "agents.json", r#"{"responseData": {"data": []}}"#,
         "`context.yaml`: `telephony_users_from` lists the file `agents.json` twice"),
    ];
    for (context_text, file, text, expected) in rows {
        let error = load(&[("context.yaml", &context_text), (file, text)]).unwrap_err();
        assert_eq!(error, expected, "{context_text}");
    }
    let wrong = load(&[
        (
            "context.yaml",
            &context("users_from", "hubspot_owners", "users.json"),
        ),
        (
            "users.json",
            r#"{"data": [{"id": 1, "email": "a@acme.com", "active_flag": true}]}"#,
        ),
    ]);
    assert!(wrong.is_err());
    let dir = folder(&[
        (
            "context.yaml",
            &context("users_from", "hubspot_owners", "users.json"),
        ),
        ("users.json", r#"{"data": [{"id": 1}]}"#),
    ]);
    let problem = Context::load(&dir.path().join("context.yaml"))
        .unwrap_err()
        .remove(0);
    assert_eq!(
        problem.help_text(),
        "it looks like `format: pipedrive_users`"
    );
    let dir = folder(&[
        ("context.yaml", &context("users_from", "csv", "users.csv")),
        ("users.csv", "id,email,active\n2,b@acme.com,maybe\n"),
    ]);
    let problem = Context::load(&dir.path().join("context.yaml"))
        .unwrap_err()
        .remove(0);
    assert!(problem.message.ends_with("line 2: `active` is `maybe`"));
    assert_eq!(
        problem.help_text(),
        "write `true`, `1` or `yes` (or leave it empty) for an active user, `false`, `0` or `no` for an inactive one"
    );
}

#[test]
fn a_paginated_list_whose_every_page_says_more_follow_is_refused() {
    // (format, a page that says more follow, what says so, the last page)
    let rows: [(&str, &str, &str, &str); 6] = [
        (
            "hubspot_owners",
            r#"{"results": [{"id": "1", "email": "a@acme.com"}], "paging": {"next": {"after": "1", "link": "https://api.hubapi.com/crm/v3/owners?after=1"}}}"#,
            "`paging.next.after` is `1`",
            r#"{"results": [{"id": "2", "email": "b@acme.com"}]}"#,
        ),
        (
            "salesforce_users",
            r#"{"totalSize": 2, "done": false, "nextRecordsUrl": "/services/data/v62.0/query/01gRO0000016PIAYA2-1", "records": [{"Id": "1", "Email": "a@acme.com", "IsActive": true}]}"#,
            "`done` is `false`",
            r#"{"totalSize": 2, "done": true, "records": [{"Id": "2", "Email": "b@acme.com", "IsActive": true}]}"#,
        ),
        (
            "zendesk_users",
            r#"{"users": [{"id": 1, "email": "a@acme.com"}], "next_page": "https://acme.zendesk.com/api/v2/users.json?page=2", "previous_page": null, "count": 2}"#,
            "`next_page` is `https://acme.zendesk.com/api/v2/users.json?page=2`",
            r#"{"users": [{"id": 2, "email": "b@acme.com"}], "next_page": null, "count": 2}"#,
        ),
        (
            "zendesk_users",
            r#"{"users": [{"id": 1, "email": "a@acme.com"}], "meta": {"has_more": true, "after_cursor": "xYz"}, "links": {"next": "https://acme.zendesk.com/api/v2/users.json?page[after]=xYz"}}"#,
            "`meta.has_more` is `true`",
            r#"{"users": [{"id": 2, "email": "b@acme.com"}], "meta": {"has_more": false}, "links": {"next": null}}"#,
        ),
        (
            "pipedrive_users",
            r#"{"success": true, "data": [{"id": 1, "email": "a@acme.com"}], "additional_data": {"pagination": {"start": 0, "limit": 1, "more_items_in_collection": true, "next_start": 1}}}"#,
            "`additional_data.pagination.more_items_in_collection` is `true`",
            r#"{"success": true, "data": [{"id": 2, "email": "b@acme.com"}], "additional_data": {"pagination": {"start": 1, "limit": 1, "more_items_in_collection": false}}}"#,
        ),
        (
            "cloudtalk_agents",
            r#"{"responseData": {"itemsCount": 2, "pageCount": "2", "pageNumber": 1, "limit": 1, "data": [{"Agent": {"id": "1", "email": "a@acme.com"}}]}}"#,
            "`responseData.pageNumber` is `1` of `responseData.pageCount` `2`",
            r#"{"responseData": {"itemsCount": 2, "pageCount": 2, "pageNumber": 2, "limit": 1, "data": [{"Agent": {"id": "2", "email": "b@acme.com"}}]}}"#,
        ),
    ];
    for (format, first, marker, last) in rows {
        let key = if format == "cloudtalk_agents" {
            "telephony_users_from"
        } else {
            "users_from"
        };
        let context = |paths: &str| {
            format!("users: [{{id: '9', email: z@acme.com}}]\n{key}: {{format: {format}, path: {paths}}}\n")
        };
        let files = |paths: &str| {
            load(&[
                ("context.yaml", &context(paths)),
                ("p1.json", first),
                ("p2.json", last),
                ("p3.json", first),
            ])
        };
        assert_eq!(
            files("p1.json").unwrap_err(),
            format!("`context.yaml`: `p1.json` is one page of a longer list ({marker}), and `{key}` names no other page"),
            "{format}"
        );
        assert_eq!(
            files("[p1.json, p3.json]").unwrap_err(),
            format!("`context.yaml`: every page `{key}` names says more pages follow (`p3.json`: {marker}), so the last page is missing"),
            "{format}"
        );
        // With its last page, in any order, the list is whole.
        for paths in ["[p1.json, p2.json]", "[p2.json, p1.json]", "p2.json"] {
            files(paths).unwrap_or_else(|error| panic!("{format} {paths}: {error}"));
        }
    }
    let dir = folder(&[
        (
            "context.yaml",
            "users_from: {format: hubspot_owners, path: owners.json}\n",
        ),
        ("owners.json", rows[0].1),
    ]);
    let problem = Context::load(&dir.path().join("context.yaml"))
        .unwrap_err()
        .remove(0);
    assert_eq!(problem.help_text(), "fetch `GET /crm/v3/owners?limit=500&after=…` with each page's `paging.next.after` until a page has no `paging.next`, and list every page: `path: [page-1.json, page-2.json]`");
}

// ---- The command line ----

const EVAL: &[&str] = &[
    "eval",
    "--rules",
    "rules/hubspot.rules",
    "--context",
    "examples/cloudtalk/hubspot.context.yaml",
    "--input",
    "cloudtalk",
];

fn eval(extra: &[&str]) -> crate::common::Run {
    let args: Vec<&str> = EVAL.iter().chain(extra).copied().collect();
    callassign(&args)
}

#[test]
fn the_example_records_are_decided_one_line_each() {
    let run = eval(&["examples/cloudtalk/records.jsonl"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout, @r#"
    {"call":"27","assignee":{"id":"101","email":"max.yellow@acme.com"},"step":"call_agent"}
    {"call":"28","assignee":{"id":"102","email":"Eva.Green@acme.com"},"step":"contact_owner"}
    {"call":"29","assignee":{"id":"103","email":"support@acme.com"},"step":"voicemail_email"}
    {"call":"30","assignee":{"id":"104","email":"sales@acme.com"},"step":"contact_owner"}
    {"call":"31","assignee":null,"step":"integration_fallback"}
    {"call":"12345","assignee":{"id":"104","email":"sales@acme.com"},"step":"call_agent"}
    {"call":"12346","assignee":{"id":"103","email":"support@acme.com"},"step":"voicemail_email"}
    "#);
    insta::assert_snapshot!(run.stderr, @r"
    warning: examples/cloudtalk/hubspot.context.yaml: the installer `105` is not active: calls that reach the integration fallback stay unassigned
    warning: examples/cloudtalk/hubspot.context.yaml: `user_map` links `tom.blue@acme.com` to `105`, who is not active: the link matches nothing
    7 calls decided, 1 unassigned, 0 unreadable lines
      call_agent                      2
      contact_owner                   2
      integration_fallback            1
      voicemail_email                 2
    ");
    // The list response gives the same lines as its items one per line.
    let list = eval(&["examples/cloudtalk/calls.json"]);
    assert_eq!(list.code, 0);
    let first_five: Vec<&str> = run.stdout.lines().take(5).collect();
    assert_eq!(list.stdout.lines().collect::<Vec<_>>(), first_five);
}

#[test]
fn explain_names_where_each_fact_came_from() {
    let run = eval(&[
        "--explain",
        "--format",
        "human",
        "examples/cloudtalk/detail-queue.json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
    let json = eval(&["--explain", "examples/cloudtalk/calls.json"]);
    let first: Value = serde_json::from_str(json.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(
        first["facts"][3],
        json!({"field": "agent", "value": "max.yellow@acme.sk", "from": "`Agent.email`"})
    );
    assert_eq!(
        first["trace"][0]["reason"],
        "`max.yellow@acme.sk` is linked by `user_map` to hubspot user `101`"
    );
}

#[test]
fn bad_cloudtalk_lines_are_error_lines_and_the_batch_goes_on() {
    let dir = folder(&[]);
    let good = r#"{"Cdr":{"id":"1","type":"outgoing","answered_at":"2026-01-01T00:00:00Z"},"Agent":{"email":"max.yellow@acme.sk"}}"#;
    let input = format!(
        "{good}\n{{\"Cdr\":{{\"type\":\"incoming\"}}}}\n{{\"responseData\":{{\"data\":[]}}}}\nnot json\n\n{good}\n{}\n{}\n",
        r#"{"Cdr":{"id":"2","type":"incoming","started_at":"2026-11-23 10:00:00"}}"#,
        r#"{"Cdr":{"id":-3.5,"type":"incoming"}}"#,
    );
    let context = crate::common::repo().join("examples/cloudtalk/hubspot.context.yaml");
    let run = eval_hubspot_in(
        dir.path(),
        context.to_str().unwrap(),
        &["--input", "cloudtalk", "--quiet", "-"],
        input.as_bytes(),
    );
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout, @r#"
    {"call":"1","assignee":{"id":"101","email":"max.yellow@acme.com"},"step":"call_agent"}
    {"line":2,"error":"`Cdr.id` is missing: a call-history item needs its call id"}
    {"line":3,"error":"a whole list response on one line; save it as a `.json` file, or write one call-history item per line"}
    {"line":4,"error":"not JSON: a bare word where a value goes (only `true`, `false` and `null` are written without quotes) (column 2)"}
    {"line":5,"error":"empty line, expected a CloudTalk call record"}
    {"call":"1","assignee":{"id":"101","email":"max.yellow@acme.com"},"step":"call_agent"}
    {"line":7,"call":"2","error":"`Cdr.started_at` is `2026-11-23 10:00:00`, which has no time zone offset, and callassign does not guess one; if it is UTC (as CloudTalk's API documents), write `2026-11-23T10:00:00Z`, else add its offset (`+01:00`)"}
    {"line":8,"error":"`Cdr.id` is `-3.5`, which cannot be kept exactly (a number with a decimal point or an exponent, or past 64 bits); send it as a string or a whole number"}
    "#);
}

#[test]
fn a_cloudtalk_record_read_as_a_native_call_says_to_use_input_cloudtalk() {
    let run = callassign(&[
        "eval",
        "--rules",
        "rules/hubspot.rules",
        "--context",
        "examples/hubspot.context.yaml",
        "examples/cloudtalk/detail-queue.json",
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("this is a CloudTalk record (it has `cdr_id`), not a call; read it with `--input cloudtalk`"),
        "{}",
        run.stdout
    );
}

#[test]
fn diff_stats_and_rule_tests_read_cloudtalk_records_too() {
    let stats = callassign(&[
        "stats",
        "--rules",
        "rules/hubspot.rules",
        "--context",
        "examples/cloudtalk/hubspot.context.yaml",
        "--input",
        "cloudtalk",
        "--format",
        "json",
        "examples/cloudtalk/records.jsonl",
    ]);
    assert_eq!(stats.code, 0, "{}", stats.stderr);
    let report: Value = serde_json::from_str(&stats.stdout).unwrap();
    assert_eq!(report["calls"], 7);
    assert_eq!(report["unassigned"], 1);
    let diff = callassign(&[
        "diff",
        "--context",
        "examples/cloudtalk/hubspot.context.yaml",
        "--input",
        "cloudtalk",
        "--format",
        "json",
        "rules/hubspot.rules",
        "rules/zendesk.rules",
        "examples/cloudtalk/records.jsonl",
    ]);
    assert_eq!(diff.code, 0, "{}", diff.stderr);
    let report: Value = serde_json::from_str(&diff.stdout).unwrap();
    assert_eq!(report["calls"], 7);
    // Zendesk's rules skip contact owners: call 30 loses its owner, call
    // 28 keeps Eva as its favorite agent.
    assert_eq!(report["reassigned"], 1, "{report}");
    assert_eq!(report["same_assignee_other_step"]["sample"], json!(["28"]));
    let tests = callassign(&["test", "examples/cloudtalk"]);
    assert_eq!(tests.code, 0, "{}{}", tests.stdout, tests.stderr);
    assert!(
        tests.stdout.contains("7 passed, 0 failed"),
        "{}",
        tests.stdout
    );
}

#[test]
fn error_lines_name_the_record_whose_id_could_be_read() {
    let dir = folder(&[(
        "calls.json",
        r#"{"responseData":{"data":[{"Cdr":{"id":27,"type":"sideways"}},{"Cdr":{"type":"incoming"}},{"cdr_id":"12346","call_steps":7}]}}"#,
    )]);
    let lines: String = [
        r#"{"Cdr":{"id":27,"type":"sideways"}}"#,
        r#"{"cdr_id":"12346","call_steps":7}"#,
        r#"{"Cdr":{"id":27.5,"type":"sideways"}}"#,
    ]
    .map(|line| format!("{line}\n"))
    .concat();
    let context = crate::common::repo().join("examples/cloudtalk/hubspot.context.yaml");
    for (input, stdin) in [("-", lines.as_bytes()), ("calls.json", &b""[..])] {
        let run = eval_hubspot_in(
            dir.path(),
            context.to_str().unwrap(),
            &["--input", "cloudtalk", input],
            stdin,
        );
        assert_eq!(run.code, 1, "{run:?}");
        let calls: Vec<Value> = run
            .stdout
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).unwrap()["call"].clone())
            .collect();
        let want = if input == "-" {
            json!(["27", "12346", null])
        } else {
            json!(["27", null, "12346"])
        };
        assert_eq!(Value::from(calls), want, "{}", run.stdout);
        // Human text names the call too.
        let text = eval_hubspot_in(
            dir.path(),
            context.to_str().unwrap(),
            &[
                "--input",
                "cloudtalk",
                "--format",
                "human",
                "--quiet",
                input,
            ],
            stdin,
        );
        assert!(
            text.stdout.starts_with("line 1 (27): error: "),
            "{}",
            text.stdout
        );
    }
}

#[test]
fn a_cloudtalk_json_response_gets_a_batch_summary_and_works_with_stats_and_diff() {
    // `eval` of a list response sums it up as a batch does.
    let list = eval(&["examples/cloudtalk/calls.json"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(
        list.stderr
            .contains("5 calls decided, 1 unassigned, 0 unreadable lines\n  call_agent"),
        "{}",
        list.stderr
    );
    // `stats` and `diff` read it as `eval` does: the same report as its
    // items one per line.
    let dir = folder(&[]);
    let items = dir.path().join("calls.jsonl");
    let response: Value = serde_json::from_str(
        &std::fs::read_to_string(crate::common::repo().join("examples/cloudtalk/calls.json"))
            .unwrap(),
    )
    .unwrap();
    let lines: String = response["responseData"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| format!("{item}\n"))
        .collect();
    std::fs::write(&items, lines).unwrap();
    let items = items.to_str().unwrap();
    for history in ["examples/cloudtalk/calls.json", items] {
        let stats = callassign(&[
            "stats",
            "--rules",
            "rules/hubspot.rules",
            "--context",
            "examples/cloudtalk/hubspot.context.yaml",
            "--input",
            "cloudtalk",
            "--format",
            "json",
            history,
        ]);
        assert_eq!(stats.code, 0, "{}", stats.stderr);
        let report: Value = serde_json::from_str(&stats.stdout).unwrap();
        assert_eq!(report["calls"], 5, "{history}");
        assert_eq!(report["unassigned"], 1, "{history}");
        let diff = callassign(&[
            "diff",
            "--context",
            "examples/cloudtalk/hubspot.context.yaml",
            "--input",
            "cloudtalk",
            "--format",
            "json",
            "rules/hubspot.rules",
            "rules/zendesk.rules",
            history,
        ]);
        assert_eq!(diff.code, 0, "{}", diff.stderr);
        let report: Value = serde_json::from_str(&diff.stdout).unwrap();
        assert_eq!(report["calls"], 5, "{history}");
        assert_eq!(report["reassigned"], 1, "{report}");
    }
    // Native calls still go one per line.
    let yaml = callassign(&[
        "stats",
        "--rules",
        "rules/hubspot.rules",
        "--context",
        "examples/cloudtalk/hubspot.context.yaml",
        "--input",
        "cloudtalk",
        "examples/cloudtalk/hubspot.yaml",
    ]);
    assert_eq!(yaml.code, 2, "{yaml:?}");
}

#[test]
fn a_cloudtalk_json_response_without_a_call_fails_stats_and_diff() {
    // A list response with no item saw no call; one whose every item is
    // unreadable read none: either gate would pass having checked nothing.
    let dir = folder(&[
        ("empty.json", r#"{"responseData":{"data":[]}}"#),
        (
            "unreadable.json",
            r#"{"responseData":{"data":[{"Cdr":{"id":7,"type":"sideways"}},{}]}}"#,
        ),
    ]);
    for (file, error) in [
        ("empty.json", "no call was seen in `"),
        ("unreadable.json", "no call of `"),
    ] {
        let history = dir.path().join(file);
        let history = history.to_str().unwrap();
        let stats = callassign(&[
            "stats",
            "--rules",
            "rules/hubspot.rules",
            "--context",
            "examples/cloudtalk/hubspot.context.yaml",
            "--input",
            "cloudtalk",
            history,
        ]);
        let diff = callassign(&[
            "diff",
            "--context",
            "examples/cloudtalk/hubspot.context.yaml",
            "--input",
            "cloudtalk",
            "--fail-on-change",
            "rules/hubspot.rules",
            "rules/zendesk.rules",
            history,
        ]);
        for run in [stats, diff] {
            assert_eq!(run.code, 2, "{file}: {run:?}");
            assert!(
                run.stderr.contains(&format!("error: {error}{history}`")),
                "{file}: {}",
                run.stderr
            );
        }
    }
    // The unreadable items are listed by their place in the list.
    let stats = callassign(&[
        "stats",
        "--rules",
        "rules/hubspot.rules",
        "--context",
        "examples/cloudtalk/hubspot.context.yaml",
        "--input",
        "cloudtalk",
        "--format",
        "json",
        dir.path().join("unreadable.json").to_str().unwrap(),
    ]);
    let report: Value = serde_json::from_str(&stats.stdout).unwrap();
    assert_eq!(report["unreadable"]["lines"], 2, "{report}");
    let text = report["unreadable"].to_string();
    assert!(
        text.contains("responseData.data[0]") && text.contains("responseData.data[1]"),
        "{text}"
    );
}

// ---- A generated corpus against a plain implementation ----

#[test]
fn a_generated_corpus_of_records_matches_the_plain_implementation() {
    use crate::support::cloudtalk::{context_files, generate};

    let records = generate(0xC10D_7A1C, 600);
    let bad = [
        r#"{"Cdr":{"type":"incoming"}}"#,
        r#"{"responseData":{"data":[]}}"#,
        r#"{"cdr_id":1,"direction":"sideways","status":"missed"}"#,
        "not json",
    ];
    let mut input = String::new();
    /// A line's expected output: (call id, assignee, step), or an error.
    type Expected = Result<(String, Option<&'static str>, &'static str), ()>;
    let mut expected: Vec<Expected> = Vec::new();
    for (n, record) in records.iter().enumerate() {
        if n % 41 == 40 {
            input.push_str(bad[n / 41 % bad.len()]);
            input.push('\n');
            expected.push(Err(()));
        }
        input.push_str(&record.json().to_string());
        input.push('\n');
        let (assignee, step) = record.decide();
        expected.push(Ok((record.id.to_string(), assignee, step)));
    }
    let files = context_files();
    let mut written: Vec<(&str, &str)> = files
        .iter()
        .map(|(name, text)| (*name, text.as_str()))
        .collect();
    written.push(("calls.jsonl", &input));
    let dir = folder(&written);
    for jobs in ["1", "3"] {
        let run = eval_hubspot_in(
            dir.path(),
            "context.yaml",
            &["--input", "cloudtalk", "--jobs", jobs, "calls.jsonl"],
            b"",
        );
        assert_eq!(run.code, 1, "{}", run.stderr);
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert_eq!(
            lines.len(),
            expected.len(),
            "one output line per input line"
        );
        let mut steps_seen = std::collections::BTreeSet::new();
        for (number, (line, expected)) in lines.iter().zip(&expected).enumerate() {
            let output: Value = serde_json::from_str(line).unwrap();
            match expected {
                Err(()) => assert_eq!(output["line"], number as u64 + 1, "{line}"),
                Ok((id, assignee, step)) => {
                    assert_eq!(output["call"], id.as_str(), "{line}");
                    assert_eq!(
                        output["assignee"]["id"].as_str(),
                        *assignee,
                        "record {id}: {line}"
                    );
                    assert_eq!(output["step"], *step, "record {id}: {line}");
                    steps_seen.insert(*step);
                }
            }
        }
        // The corpus reaches every step of the default priority.
        assert_eq!(steps_seen.len(), 6, "{steps_seen:?}");
    }
}

#[test]
fn a_failing_cloudtalk_case_shows_where_each_fact_came_from() {
    let rules = crate::common::repo().join("rules/hubspot.rules");
    let test_file = format!(
        "rules: {}\ncontext:\n  integration: hubspot\n  users: [{{id: hs-4, email: support@acme.com}}, {{id: hs-1, email: admin@acme.com}}]\n  voicemail_email: {{default: support@acme.com}}\ninput: cloudtalk\ncases:\n  - name: a voicemail\n    call: {{Cdr: {{id: '29', type: incoming, is_voicemail: true}}}}\n    assignee: hs-1\n",
        rules.display()
    );
    let dir = folder(&[("t.yaml", &test_file)]);
    let run = crate::common::callassign_in(dir.path(), &["test", "t.yaml"], b"");
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("fact        status = voicemail                  from `Cdr.is_voicemail`"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "fact        last_step.email = support@acme.com  from `voicemail_email` `default`"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn a_json_file_that_holds_no_records_is_one_located_error_line() {
    let dir = folder(&[
        (
            "broken.json",
            "{\n  \"responseData\": {\n    \"data\": [\n      {\"Cdr\": }\n",
        ),
        ("empty.json", "{\"responseData\": {\"itemsCount\": 0}}"),
    ]);
    let context = crate::common::repo().join("examples/cloudtalk/hubspot.context.yaml");
    for (file, expected) in [
        (
            "broken.json",
            r#"{"line":4,"error":"expected value at line 4 column 15"}"#,
        ),
        (
            "empty.json",
            r#"{"line":1,"error":"`responseData` has no `data` list of call-history items"}"#,
        ),
    ] {
        let run = eval_hubspot_in(
            dir.path(),
            context.to_str().unwrap(),
            &["--input", "cloudtalk", file],
            b"",
        );
        assert_eq!((run.code, run.stdout.trim_end()), (1, expected), "{file}");
    }
}

/// A line holding a history item and the detail record of the same call
/// (what the live loop fetches) is read as one call: the history item,
/// with the detail's call steps as its flow.
#[test]
fn eval_reads_a_history_item_and_its_detail_record_combined_on_one_line() {
    let dir = folder(&[]);
    let history = json!({"Cdr": {"id": 900, "type": "incoming", "public_external": "+447700900123",
        "started_at": "2026-11-24T13:00:00Z", "talking_time": 0}, "Contact": {"id": "77"}});
    let detail = json!({"cdr_id": 900, "direction": "incoming", "status": "missed",
        "call_steps": [{"type": "ivr"}, {"type": "agent", "id": 1237, "status": "missed"}]});
    let voicemail = json!({"Cdr": {"id": 901, "type": "incoming", "is_voicemail": true,
        "public_internal": "+421221291400"}});
    let voicemail_detail = json!({"cdr_id": 901, "direction": "incoming", "status": "missed",
        "call_steps": [{"type": "agent", "id": 1237, "status": "missed"}]});
    let input = format!(
        "{}\n{}\n",
        callassign::cloudtalk_combined(&history, &detail).unwrap(),
        callassign::cloudtalk_combined(&voicemail, &voicemail_detail).unwrap(),
    );
    let context = crate::common::repo().join("examples/cloudtalk/hubspot.context.yaml");
    let run = eval_hubspot_in(
        dir.path(),
        context.to_str().unwrap(),
        &["--input", "cloudtalk", "--quiet", "-"],
        input.as_bytes(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The last call step's agent (1237, linked by `user_map`) for the
    // first; `Cdr.is_voicemail` overrides the agent step for the second.
    insta::assert_snapshot!(run.stdout, @r#"
    {"call":"900","assignee":{"id":"104","email":"sales@acme.com"},"step":"last_step_agent"}
    {"call":"901","assignee":{"id":"103","email":"support@acme.com"},"step":"voicemail_email"}
    "#);
}
