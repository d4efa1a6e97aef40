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
