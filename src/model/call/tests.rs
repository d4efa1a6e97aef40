use super::*;

#[test]
fn reads_the_design_example() {
    let json = r#"{
      "id": "c-1001", "direction": "incoming", "status": "missed", "agent": "alice@acme.com",
      "started_at": "2026-11-23T10:00:00Z", "duration_s": 0, "number": "+442071234567", "tags": ["vip"],
      "flow": [
        {"type": "welcome_message"}, {"type": "ivr", "choice": "2"},
        {"type": "call_to_group", "group": "Support", "agent": null},
        {"type": "call_to_agent", "agent": "bob@acme.com"},
        {"type": "voicemail", "email": "support@acme.com"}
      ],
      "contact": {"id": "42", "owner": "hs-7", "favorite_agent": "dave@acme.com"}
    }"#;
    let call = Call::from_json(json).unwrap();
    assert_eq!(call.status, Status::Missed);
    let last = call.last_step.unwrap();
    assert_eq!(last.kind, "voicemail");
    assert_eq!(last.email.as_deref(), Some("support@acme.com"));
    assert_eq!(call.tags, ["vip"]);
    assert_eq!(call.contact.unwrap().owner.as_deref(), Some("hs-7"));
}

#[test]
fn absent_null_and_unknown_fields_are_accepted() {
    let json = r#"{"id": 17, "direction": "outgoing", "status": "answered", "agent": null,
                   "flow": null, "tags": null, "contact": {"owner": 123}, "recording": {"url": "x"}}"#;
    let call = Call::from_json(json).unwrap();
    assert_eq!(call.id, "17");
    assert!(call.agent.is_none() && call.last_step.is_none() && call.tags.is_empty());
    assert_eq!(call.contact.unwrap().owner.as_deref(), Some("123"));
}

#[test]
fn strings_without_escapes_are_borrowed() {
    let call =
        Call::from_json(r#"{"id":"c-1","direction":"incoming","status":"missed","agent":"a@b.c"}"#)
            .unwrap();
    assert!(matches!(call.id, Cow::Borrowed(_)));
    assert!(matches!(call.agent, Some(Cow::Borrowed(_))));
}

#[test]
fn nested_objects_are_not_read_from_arrays() {
    let contact = Call::from_json(
        r#"{"id":"c","direction":"incoming","status":"missed","contact":["42","hs-7"]}"#,
    )
    .unwrap_err();
    assert_eq!(
        contact.to_string(),
        "contact: invalid type: sequence, expected a contact object at line 1 column 61"
    );
    let step = Call::from_json(
        r#"{"id":"c","direction":"incoming","status":"missed","flow":[["voicemail"]]}"#,
    )
    .unwrap_err();
    assert!(
        step.to_string()
            .starts_with("flow: invalid type: sequence, expected a flow step object"),
        "{step}"
    );
}

#[test]
fn known_keys_are_found_where_call_keys_lists_them() {
    for (index, key) in CALL_KEYS.iter().enumerate() {
        assert_eq!(known_key(key), Some(index), "{key}");
    }
    assert_eq!(known_key("Status"), None);
}

#[test]
fn unknown_keys_are_kept_in_order_and_near_misses_refused() {
    let call = Call::from_json(
        r#"{"id":"c","direction":"internal","status":"missed","uuid":"u","recording":{"a":[1]}}"#,
    )
    .unwrap();
    assert_eq!(call.direction, Direction::Internal);
    assert_eq!(
        call.unknown_keys.iter().collect::<Vec<_>>(),
        ["uuid", "recording"]
    );
    let many = Call::from_json(
        r#"{"id":"c","direction":"internal","status":"missed","a":1,"b":2,"c":3,"e":4,"f":5,"g":6}"#,
    )
    .unwrap();
    assert_eq!(many.unknown_keys.len(), 6);
    assert_eq!(
        many.into_owned().unknown_keys.iter().collect::<Vec<_>>(),
        ["a", "b", "c", "e", "f", "g"]
    );
    let error =
        Call::from_json(r#"{"id":"c","direction":"incoming","status":"missed","duration":3}"#)
            .unwrap_err();
    assert!(error
        .to_string()
        .starts_with("`duration` is not a call key; did you mean `duration_s`?"));
    let error = Call::from_json(r#"{"id":"c","id":"d","direction":"incoming","status":"missed"}"#)
        .unwrap_err();
    assert!(
        error.to_string().starts_with("duplicate field `id`"),
        "{error}"
    );
    let error = Call::from_json(r#"{"id":"c","status":"missed"}"#).unwrap_err();
    assert!(
        error.to_string().starts_with("missing field `direction`"),
        "{error}"
    );
}

#[test]
fn a_cloudtalk_key_is_named_before_near_misses_and_the_first_near_miss_is_named() {
    let error = Call::from_json(
        r#"{"id":"c","direction":"incoming","status":"missed","flows":[],"cdr_id":1,"Cdr":{}}"#,
    )
    .unwrap_err();
    assert!(
        error.to_string().starts_with(
            "this is a CloudTalk record (it has `cdr_id`), not a call; read it with `--input cloudtalk`"
        ),
        "{error}"
    );
    let error = Call::from_json(
        r#"{"id":"c","direction":"incoming","status":"missed","uuid":1,"Status":"x","flows":[]}"#,
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("`Status` is not a call key; did you mean `status`?"),
        "{error}"
    );
}

#[test]
fn near_misses_are_found_the_same_the_second_time() {
    for _ in 0..2 {
        assert_eq!(near_miss("recording"), None);
        assert_eq!(near_miss("duration"), Some("duration_s"));
        assert_eq!(near_miss("Status"), Some("status"));
    }
}

#[test]
fn yaml_calls_are_read_too() {
    let call = Call::from_yaml("id: c-9\ndirection: incoming\nstatus: voicemail\nflow:\n  - type: voicemail\n    email: x@y.z\n").unwrap();
    assert_eq!(call.last_step.unwrap().email.as_deref(), Some("x@y.z"));
}

#[test]
fn a_talking_time_below_zero_is_refused_and_whole_floats_are_seconds() {
    let read = |duration: &str| {
        Call::from_json(&format!(
            r#"{{"id":"c","direction":"incoming","status":"missed","duration_s":{duration}}}"#
        ))
        .map(|call| call.duration_s)
        .map_err(|error| error.to_string())
    };
    assert_eq!(read("184"), Ok(Some(184)));
    assert_eq!(read("184.0"), Ok(Some(184)));
    assert_eq!(read("0"), Ok(Some(0)));
    for negative in ["-5", "-5.0"] {
        let error = read(negative).unwrap_err();
        assert!(
            error.starts_with("duration_s: `-5` seconds is negative; a talking time is 0 or more"),
            "{negative}: {error}"
        );
    }
}

#[test]
fn many_keys_inside_flow_steps_and_the_contact_are_kept_once_each() {
    // Past the few a list is searched for, a set: each key once, in order.
    let keys: Vec<String> = (0..100).map(|n| format!("k{n}")).collect();
    let object = |extra: &str| {
        let fields: Vec<String> = keys.iter().map(|key| format!("\"{key}\":1")).collect();
        format!("{{{extra}{}}}", fields.join(","))
    };
    let text = format!(
        r#"{{"id":"c","direction":"incoming","status":"missed","flow":[{},{},{}],"contact":{}}}"#,
        object(r#""type":"ivr","#),
        object(r#""type":"ivr","x":1,"#),
        object(r#""type":"voicemail","#),
        object(r#""id":"1","k0":2,"#),
    );
    let call = Call::from_json(&text).unwrap();
    let mut flow = keys.clone();
    flow.insert(0, "x".into());
    flow.sort();
    let mut read: Vec<&str> = call.unknown_flow_keys.iter().collect();
    read.sort();
    assert_eq!(read, flow);
    assert_eq!(call.unknown_flow_keys.iter().next(), Some("k0"));
    assert!(call
        .unknown_contact_keys
        .iter()
        .eq(keys.iter().map(String::as_str)));
}

#[test]
fn keys_inside_flow_steps_and_the_contact_are_kept_once_or_refused_when_a_slip() {
    let call = Call::from_json(
        r#"{"id":"c","direction":"incoming","status":"missed",
            "flow":[{"type":"ivr","choice":"2","ring_s":3},{"type":"call_to_group","group":"Support","ring_s":4,"queue":"q"}],
            "contact":{"id":"1","name":"Ann","owner":"hs-1"}}"#,
    )
    .unwrap();
    // `group` and `choice` are in the data contract: not unknown.
    assert_eq!(call.unknown_flow_keys, ["ring_s", "queue"]);
    assert_eq!(call.unknown_contact_keys, ["name"]);
    assert!(call.unknown_keys.is_empty() && call.has_unknown_keys());
    assert_eq!(call.contact.unwrap().owner.as_deref(), Some("hs-1"));

    for (part, expected) in [
        (
            r#""flow":[{"type":"voicemail","emial":"x@y.z"}]"#,
            "flow: `emial` is not a flow step key; did you mean `email`?",
        ),
        (
            r#""flow":[{"Type":"voicemail"}]"#,
            "flow: `Type` is not a flow step key; did you mean `type`?",
        ),
        (
            r#""contact":{"favourite_agent":"a@b.c"}"#,
            "contact: `favourite_agent` is not a contact key; did you mean `favorite_agent`?",
        ),
        (
            r#""contact":{"Owner":"hs-1"}"#,
            "contact: `Owner` is not a contact key; did you mean `owner`?",
        ),
        (
            r#""flow":[{"agent":"a@b.c"}]"#,
            "flow: missing field `type`",
        ),
        (
            r#""flow":[["voicemail"]]"#,
            "flow: invalid type: sequence, expected a flow step object",
        ),
        (
            r#""contact":["42"]"#,
            "contact: invalid type: sequence, expected a contact object",
        ),
    ] {
        let json = format!(r#"{{"id":"c","direction":"incoming","status":"missed",{part}}}"#);
        let error = Call::from_json(&json).unwrap_err().to_string();
        assert!(error.starts_with(expected), "{part}: {error}");
    }
}
