use super::*;

const FIELDS_THEN_NOT: &[&str] = &[
    "direction",
    "status",
    "agent",
    "tags",
    "number",
    "duration",
    "started_at",
    "contact",
    "contact.id",
    "contact.owner",
    "contact.favorite_agent",
    "last_step",
    "not",
];
const STEP_KINDS_THEN_USER: &[&str] = &[
    "call_agent",
    "last_step_agent",
    "voicemail_email",
    "contact_owner",
    "favorite_agent",
    "user",
];

fn labels(text_with_cursor: &str, known: &Known) -> Vec<String> {
    let offset = text_with_cursor.find('|').expect("a cursor");
    let text = text_with_cursor.replace('|', "");
    complete(&text, offset, known)
        .candidates
        .into_iter()
        .map(|candidate| candidate.label)
        .collect()
}

/// The text once the candidate `label` is chosen, as an editor applies
/// it: the replaced bytes give way to the label.
fn chosen(text_with_cursor: &str, label: &str, known: &Known) -> String {
    let offset = text_with_cursor.find('|').expect("a cursor");
    let mut text = text_with_cursor.replace('|', "");
    let completion = complete(&text, offset, known);
    assert!(
        completion.candidates.iter().any(|c| c.label == label),
        "`{label}` is not offered in {text_with_cursor:?}: {:?}",
        completion.candidates
    );
    text.replace_range(completion.replace.range(), label);
    text
}

#[test]
fn completes_by_what_comes_before_the_cursor() {
    let plan_steps = [
        "call_agent".to_string(),
        "user \"ops@acme.com\"".to_string(),
    ];
    let emails = ["ops@acme.com".to_string(), "bob@acme.com".to_string()];
    let rule_names = ["default".to_string(), "zendesk".to_string()];
    let known = Known {
        stem: Some("zendesk"),
        rule_names: &rule_names,
        plan_steps: &plan_steps,
        user_emails: &emails,
    };
    let cases: &[(&str, &[&str])] = &[
        ("|", &["ruleset"]),
        ("ruleset |", &["zendesk"]),
        (
            "ruleset zendesk ext|",
            &["extends", "step", "disable", "move", "fallback"],
        ),
        ("ruleset zendesk extends |", &["default"]),
        (
            "ruleset x\n|",
            &["extends", "step", "disable", "move", "fallback"],
        ),
        (
            "ruleset x extends y\nst|",
            &["step", "disable", "move", "fallback"],
        ),
        ("ruleset x\nstep |", STEP_KINDS_THEN_USER),
        (
            "ruleset x\ndisable |",
            &["call_agent", "user \"ops@acme.com\""],
        ),
        (
            "ruleset x\nmove call_agent |",
            &["before", "after", "first", "last"],
        ),
        (
            "ruleset x\nmove user \"a@b.c\" |",
            &["before", "after", "first", "last"],
        ),
        (
            "ruleset x\nmove call_agent before |",
            &["call_agent", "user \"ops@acme.com\"", "fallback"],
        ),
        (
            "ruleset x\nfallback |",
            &["integration", "unassigned", "user"],
        ),
        (
            "ruleset x\nstep user \"|",
            &["ops@acme.com", "bob@acme.com"],
        ),
        (
            "ruleset x\nstep user \"\n|",
            &["when", "unless", "step", "disable", "move", "fallback"],
        ),
        (
            "ruleset x\nstep call_agent |",
            &["when", "unless", "step", "disable", "move", "fallback"],
        ),
        ("ruleset x\nstep call_agent when st|", FIELDS_THEN_NOT),
        (
            "ruleset x\nstep call_agent when status == |",
            &["answered", "missed", "voicemail"],
        ),
        (
            "ruleset x\nstep call_agent when direction in [incoming, |",
            &["incoming", "outgoing", "internal"],
        ),
        (
            "ruleset x\nstep call_agent when last_step != |",
            &[
                "welcome_message",
                "ivr",
                "call_to_agent",
                "call_to_group",
                "voicemail",
                "null",
            ],
        ),
        (
            "ruleset x\nstep call_agent when agent == |",
            &["\"ops@acme.com\"", "\"bob@acme.com\"", "null"],
        ),
        (
            "ruleset x\nstep call_agent when status not in [|",
            &["answered", "missed", "voicemail"],
        ),
        (
            "ruleset x\nstep call_agent when status == missed |",
            &["and", "or", "step", "disable", "move", "fallback"],
        ),
        (
            "ruleset x\nstep call_agent when status == missed and (|",
            FIELDS_THEN_NOT,
        ),
        ("ruleset x\nstep call_agent when \"vip\" not |", &["in"]),
        (
            "# step |\nruleset x\n|",
            &["extends", "step", "disable", "move", "fallback"],
        ),
    ];
    for (text, expected) in cases {
        // The first `|` of a case with two is inside a comment: drop it.
        let text = if text.matches('|').count() == 2 {
            text.replacen('|', "", 1)
        } else {
            text.to_string()
        };
        assert_eq!(labels(&text, &known), *expected, "completing {text:?}");
    }
}

#[test]
fn a_candidate_replaces_the_whole_word_or_address_being_typed() {
    let emails = ["bob@acme.com".to_string()];
    let known = Known {
        user_emails: &emails,
        ..Known::default()
    };
    let cases = [
        // An address is all that is inside the quotes, `@` and `.`
        // included, whatever the editor takes for a word.
        (
            "ruleset x\nstep user \"bob@ac|",
            "bob@acme.com",
            "ruleset x\nstep user \"bob@acme.com",
        ),
        (
            "ruleset x\nstep user \"bob@ac|\" when status == missed",
            "bob@acme.com",
            "ruleset x\nstep user \"bob@acme.com\" when status == missed",
        ),
        (
            "ruleset x\nstep user \"|bob@old.example\"",
            "bob@acme.com",
            "ruleset x\nstep user \"bob@acme.com\"",
        ),
        (
            "ruleset x\nstep call_agent when agent == \"b|\"",
            "bob@acme.com",
            "ruleset x\nstep call_agent when agent == \"bob@acme.com\"",
        ),
        (
            "ruleset x\nstep call_agent when contact.favorite_agent in [\"a@b.c\", \"|",
            "bob@acme.com",
            "ruleset x\nstep call_agent when contact.favorite_agent in [\"a@b.c\", \"bob@acme.com",
        ),
        (
            "ruleset x\nstep call_agent when agent == |",
            "\"bob@acme.com\"",
            "ruleset x\nstep call_agent when agent == \"bob@acme.com\"",
        ),
        // A dotted field is one word, before and after the cursor.
        (
            "ruleset x\nstep call_agent when contact.ow|",
            "contact.owner",
            "ruleset x\nstep call_agent when contact.owner",
        ),
        (
            "ruleset x\nstep call_agent when contact.fav|_agent == null",
            "contact.favorite_agent",
            "ruleset x\nstep call_agent when contact.favorite_agent == null",
        ),
        (
            "ruleset x\nstep call_agent when status no|",
            "not in",
            "ruleset x\nstep call_agent when status not in",
        ),
        // Nothing of a word before the cursor: inserted, the next
        // word kept.
        (
            "ruleset x\nstep call_agent when |status == missed",
            "not",
            "ruleset x\nstep call_agent when notstatus == missed",
        ),
        ("ruleset é\nst|", "step", "ruleset é\nstep"),
    ];
    for (text, label, expected) in cases {
        assert_eq!(
            chosen(text, label, &known),
            expected,
            "choosing {label} in {text:?}"
        );
    }
}

#[test]
fn nothing_is_offered_in_a_comment_or_a_string_that_holds_no_address() {
    let emails = ["bob@acme.com".to_string()];
    let known = Known {
        user_emails: &emails,
        ..Known::default()
    };
    for text in [
        "# step |",
        "ruleset x\n# step |",
        "ruleset x\nstep call_agent # note: |",
        "ruleset x\nstep call_agent # when status == |",
        "ruleset x\nstep call_agent #|",
        "ruleset x\nstep \"|",
        "ruleset x\nstep call_agent when tags in [\"vi|",
        "ruleset x\nstep call_agent when number starts_with \"+33|",
        "ruleset x\nstep call_agent when status == \"|",
        "ruleset x\nstep call_agent when \"|",
        // The owner is the CRM's id, not an address.
        "ruleset x\nstep call_agent when contact.owner == \"|",
    ] {
        assert_eq!(
            labels(text, &known),
            Vec::<String>::new(),
            "completing {text:?}"
        );
    }
    // A `#` inside a string starts no comment.
    assert_eq!(
        labels("ruleset x\nstep user \"a#b\" |", &known),
        ["when", "unless", "step", "disable", "move", "fallback"]
    );
}

#[test]
fn plan_unknown_falls_back_to_step_kinds() {
    let known = Known::default();
    assert_eq!(
        labels("ruleset x extends y\ndisable |", &known),
        STEP_KINDS_THEN_USER
    );
    assert!(labels("ruleset x\nstep user \"|", &known).is_empty());
}

#[test]
fn cursor_anywhere_in_any_text_is_answered_with_a_range_around_it() {
    let emails = ["é@x.y".to_string()];
    let known = Known {
        user_emails: &emails,
        ..Known::default()
    };
    let texts = [
        "ruleset é\nstep \"unterminated\n((((( [ , ] == \\\" #\u{1F600}",
        "ruleset x\r\nstep user \"é@x.y\"\r\nstep call_agent when agent in [\"a\", \"é\"] # ☎\r\n",
    ];
    for text in texts {
        for offset in 0..=text.len() + 2 {
            let replace = complete(text, offset, &known).replace;
            // The cursor (clamped, on a character) is inside the range,
            // which is on one line: what the protocol asks of an edit.
            let mut cursor = offset.min(text.len());
            while !text.is_char_boundary(cursor) {
                cursor -= 1;
            }
            assert!(
                replace.start <= cursor && cursor <= replace.end,
                "{replace:?} around {cursor} in {text:?}"
            );
            let replaced = text.get(replace.range()).expect("on characters");
            assert!(!replaced.contains(['\n', '\r']), "{replaced:?}");
        }
    }
}
