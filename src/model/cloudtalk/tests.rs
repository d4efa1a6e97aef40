use super::*;

fn context() -> Context {
    let mut context = Context::from_yaml(
        "users: [{id: hs-4, email: support@acme.com}]\nvoicemail_email: {default: support@acme.com}\n",
    )
    .unwrap();
    context.telephony.insert("11".into(), "ola@acme.com".into());
    context
}

/// What a record reads as, comparably: the call and its facts, or the
/// error.
fn outcome(read: Result<CallRecord<'_>, String>) -> String {
    match read {
        Ok(record) => format!("{:?} {:?}", record.call.into_owned(), record.facts),
        Err(error) => format!("error: {error}"),
    }
}

#[test]
fn a_line_reads_as_the_same_record_from_text_and_from_a_value() {
    // Every kind of value in every place the mapping reads, good and bad.
    let lines = [
        r#"{"Cdr":{"id":27,"type":"incoming","is_voicemail":"1","public_internal":421221291400,"user_id":"11"},"Tags":[{"name":"vip"},{"name":null},7,{"label":"x"}],"Agent":[1]}"#,
        r#"{"Cdr":{"id":"c\u002d1","type":"outgoing","answered_at":"2026-11-23 10:00:00","talking_time":"42","public_external":"+44 20"},"Contact":{"id":42,"favorite_agent":{"id":11}},"Agent":{"email":"Max@acme.com"}}"#,
        r#"{"Cdr":{"id":1,"type":"internal","talking_time":1.5}}"#,
        r#"{"Cdr":{"id":1,"type":"incoming"},"Contact":{"favorite_agent":[1]}}"#,
        r#"{"Cdr":{"id":1,"type":"incoming"},"Contact":"x"}"#,
        r#"{"Cdr":{"id":1,"type":"incoming"},"Tags":{"name":"a"}}"#,
        r#"{"Cdr":{"id":1,"type":"incoming","talking_time":true}}"#,
        r#"{"Cdr":{"id":" ","type":"incoming"}}"#,
        r#"{"Cdr":{"id":[],"type":"incoming"}}"#,
        r#"{"Cdr":{"id":1,"type":"sideways"}}"#,
        r#"{"Cdr":null,"cdr_id":1}"#,
        r#"{"cdr_id":5,"direction":"incoming","status":"missed","call_steps":[{"type":"ivr"},{"type":"queue","agent_calls":[{"id":11,"status":"answered"},{"id":12,"status":"missed"},"x"]},{"type":"agent","id":"11","status":"answered"},{"type":"voicemail"}],"internal_number":{"number":421221291400},"contact":{"id":"c","number":"+1"},"call_times":{"talking_time":3},"call_tags":[{"label":"a"}],"date":"2026-11-23"}"#,
        r#"{"cdr_id":5,"direction":"incoming","status":"answered","call_steps":[{"type":"queue","agent_calls":[{"id":12,"status":"missed"}]}]}"#,
        r#"{"cdr_id":5,"direction":"incoming","status":"answered","call_steps":[{"type":"agent","id":12}],"contact":[1],"call_times":3}"#,
        r#"{"cdr_id":5,"direction":"incoming","status":"answered","call_steps":[{"type":"conference"}]}"#,
        r#"{"cdr_id":5,"direction":"incoming","status":"answered","call_steps":[{"type":"voicemail","email":"v@acme.com"}]}"#,
        r#"{"cdr_id":5,"direction":"incoming","status":"answered","call_steps":[{"id":1}]}"#,
        r#"{"cdr_id":5,"direction":"incoming","status":"answered","call_steps":[3]}"#,
        r#"{"cdr_id":5,"direction":"incoming","status":"answered","call_steps":{}}"#,
        r#"{"cdr_id":5,"direction":"incoming","status":"ringing"}"#,
        r#"{"cdr_id":5,"direction":"incoming"}"#,
        r#"{"id":"c-1"}"#,
        r#"17"#,
        r#""text""#,
        r#"null"#,
    ];
    let context = context();
    for line in lines {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        let from_value = outcome(read_value(&value, &context));
        assert_eq!(outcome(read_line(line, &context)), from_value, "{line}");
    }
}

#[test]
fn strings_without_escapes_are_borrowed_from_the_line() {
    let line = r#"{"Cdr":{"id":"c-1","type":"incoming","answered_at":"2026-11-23 10:01:00","started_at":"2026-11-23T10:00:00Z"},"Agent":{"email":"max@acme.com"},"Tags":[{"name":"vip"},{"name":"n\u00e9"}]}"#;
    let call = read_line(line, &context()).unwrap().call;
    assert!(matches!(call.id, Cow::Borrowed("c-1")));
    assert!(matches!(call.agent, Some(Cow::Borrowed("max@acme.com"))));
    assert!(matches!(call.started_at, Some(Cow::Borrowed(_))));
    let tags: Vec<&Cow<str>> = call.tags.texts().collect();
    assert!(matches!(tags[0], Cow::Borrowed("vip")));
    assert!(matches!(tags[1], Cow::Owned(tag) if tag == "né"));
}

#[test]
fn a_key_given_twice_keeps_its_last_value_as_a_json_value_does() {
    let line =
        r#"{"Cdr":{"id":1,"type":"outgoing","id":2,"Cdr":3},"Cdr":{"id":3,"type":"incoming"}}"#;
    let call = read_line(line, &context()).unwrap().call;
    assert_eq!((&*call.id, call.direction), ("3", Direction::Incoming));
}

#[test]
fn list_responses_are_refused_on_one_line_whatever_they_hold() {
    for line in [r#"{"responseData":null}"#, r#"[{"Cdr":{}}]"#, "[]"] {
        let error = read_line(line, &context()).unwrap_err();
        assert!(
            error.starts_with("a whole list response on one line"),
            "{line}: {error}"
        );
    }
}

/// A history item and a detail record of one call, combined: each field
/// as the table in `combined.rs` says.
#[test]
fn a_combined_record_takes_the_history_item_where_both_give_a_field() {
    let mut context = context();
    context.telephony.insert("12".into(), "bo@acme.com".into());
    let detail = r#""cdr_id":7,"direction":"outgoing","status":"answered","date":"2026-11-23T09:00:00Z","call_times":{"talking_time":5},"call_tags":[{"label":"d"}],"contact":{"id":"dc","number":"+2"},"internal_number":{"number":"+9"},"call_steps":[{"type":"agent","id":12,"status":"answered"},{"type":"queue","agent_calls":[{"id":11,"status":"answered"}]}]"#;
    // (history item keys, field, expected value)
    type Field = fn(&Call) -> String;
    let cases: [(&str, Field, &str); 12] = [
        // The history item alone gives id, direction and status.
        (
            r#""Cdr":{"id":7,"type":"incoming"}"#,
            |c| format!("{} {} {}", c.id, c.direction.name(), c.status.name()),
            "7 incoming missed",
        ),
        (
            r#""Cdr":{"id":7,"type":"incoming","answered_at":"2026-11-23T09:00:01Z"}"#,
            |c| c.status.name().to_string(),
            "answered",
        ),
        // The agent: the history item's, else the detail's answering agent.
        (
            r#""Cdr":{"id":7,"type":"incoming"},"Agent":{"email":"max@acme.com"}"#,
            |c| format!("{:?}", c.agent),
            r#"Some("max@acme.com")"#,
        ),
        (
            r#""Cdr":{"id":7,"type":"incoming"}"#,
            |c| format!("{:?}", c.agent),
            r#"Some("ola@acme.com")"#,
        ),
        // The flow is the detail's, unless `Cdr.is_voicemail`.
        (
            r#""Cdr":{"id":7,"type":"incoming"}"#,
            |c| {
                format!(
                    "{:?}",
                    c.last_step.as_ref().map(|s| (&*s.kind, s.agent.as_deref()))
                )
            },
            r#"Some(("call_to_group", Some("ola@acme.com")))"#,
        ),
        (
            r#""Cdr":{"id":7,"type":"incoming","is_voicemail":true}"#,
            |c| {
                format!(
                    "{} {:?}",
                    c.status.name(),
                    c.last_step.as_ref().map(|s| (&*s.kind, s.email.as_deref()))
                )
            },
            r#"voicemail Some(("voicemail", Some("support@acme.com")))"#,
        ),
        // Times, numbers, tags and contact: the history item's, else the detail's.
        (
            r#""Cdr":{"id":7,"type":"incoming","started_at":"2026-11-23T10:00:00Z","talking_time":0,"public_external":"+1"}"#,
            |c| format!("{:?} {:?} {:?}", c.started_at, c.duration_s, c.number),
            r#"Some("2026-11-23T10:00:00Z") Some(0) Some("+1")"#,
        ),
        (
            r#""Cdr":{"id":7,"type":"incoming"}"#,
            |c| format!("{:?} {:?} {:?}", c.started_at, c.duration_s, c.number),
            r#"Some("2026-11-23T09:00:00Z") Some(5) Some("+2")"#,
        ),
        (
            r#""Cdr":{"id":7,"type":"incoming"},"Tags":[{"name":"h"}]"#,
            |c| c.tags.iter().collect::<Vec<_>>().join(","),
            "h",
        ),
        (
            r#""Cdr":{"id":7,"type":"incoming"},"Tags":[]"#,
            |c| c.tags.iter().collect::<Vec<_>>().join(","),
            "d",
        ),
        (
            r#""Cdr":{"id":7,"type":"incoming"},"Contact":{"id":"hc","favorite_agent":{"email":"fa@acme.com"}}"#,
            |c| {
                format!(
                    "{:?}",
                    c.contact
                        .as_ref()
                        .map(|k| (k.id.as_deref(), k.favorite_agent.as_deref()))
                )
            },
            r#"Some((Some("hc"), Some("fa@acme.com")))"#,
        ),
        (
            r#""Cdr":{"id":7,"type":"incoming"}"#,
            |c| {
                format!(
                    "{:?}",
                    c.contact
                        .as_ref()
                        .map(|k| (k.id.as_deref(), k.favorite_agent.as_deref()))
                )
            },
            r#"Some((Some("dc"), None))"#,
        ),
    ];
    for (history, field, expected) in cases {
        let line = format!("{{{history},{detail}}}");
        let record = read_line(&line, &context).unwrap_or_else(|error| panic!("{line}: {error}"));
        assert_eq!(field(&record.call), expected, "{line}");
        // Built from the two records apart, it is the same record.
        let (history, detail): (serde_json::Value, serde_json::Value) = (
            serde_json::from_str(&format!("{{{history}}}")).unwrap(),
            serde_json::from_str(&format!("{{{detail}}}")).unwrap(),
        );
        let combined = combine(&history, &detail).unwrap().to_string();
        assert_eq!(
            outcome(read_line(&combined, &context)),
            outcome(read_line(&line, &context))
        );
    }
}

#[test]
fn a_combined_record_of_two_calls_or_with_an_unreadable_half_is_refused() {
    let context = context();
    for (line, error) in [
        (
            r#"{"Cdr":{"id":7,"type":"incoming"},"cdr_id":8,"direction":"incoming","status":"missed"}"#,
            "`Cdr.id` is `7` but `cdr_id` is `8`: the call-history item and the call-detail record are of different calls",
        ),
        (
            r#"{"Cdr":{"id":7,"type":"incoming"},"cdr_id":7,"direction":"incoming"}"#,
            "`status` is missing",
        ),
        (
            r#"{"Cdr":{"id":7},"cdr_id":7,"direction":"incoming","status":"missed"}"#,
            "`Cdr.type` is missing",
        ),
    ] {
        assert_eq!(read_line(line, &context).unwrap_err(), error, "{line}");
    }
    let detail = serde_json::json!({"cdr_id": 7});
    assert!(combine(&serde_json::json!({"cdr_id": 7}), &detail).is_err());
    assert!(combine(&serde_json::json!({"Cdr": {}}), &serde_json::json!([])).is_err());
}

#[test]
fn a_combined_record_says_where_each_field_came_from() {
    let line = r#"{"Cdr":{"id":7,"type":"incoming","public_external":"+1"},"Contact":{"id":"hc"},"cdr_id":7,"direction":"incoming","status":"missed","contact":{"id":"dc"},"call_steps":[{"type":"agent","id":11,"status":"missed"}]}"#;
    let facts: Vec<String> = read_line(line, &context())
        .unwrap()
        .facts
        .into_iter()
        .map(|fact| format!("{} = {:?} from {}", fact.field, fact.value, fact.from))
        .collect();
    assert_eq!(
        facts,
        [
            "id = Some(\"7\") from `Cdr.id`",
            "direction = Some(\"incoming\") from `Cdr.type`",
            "status = Some(\"missed\") from no `Cdr.answered_at`, not `Cdr.is_voicemail`",
            "last_step = Some(\"call_to_agent\") from `call_steps[0]` (agent)",
            "last_step.agent = Some(\"ola@acme.com\") from agent `11` in `call_steps[0]` (agent), through the agents list (`telephony_users_from`)",
            "number = Some(\"+1\") from `Cdr.public_external`",
            "contact.id = Some(\"hc\") from `Contact.id`",
        ]
    );
}
