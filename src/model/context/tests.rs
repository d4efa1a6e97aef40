use super::*;

fn context() -> Context {
    Context::from_yaml(
        "integration: hubspot\ncontact_owner: true\nfallback: installer\ninstaller: hs-1\nusers:\n  - {id: hs-1, email: admin@acme.com}\n  - {id: hs-2, email: ' Alice@Acme.com '}\n  - {id: hs-7, email: carol@acme.com, active: false}\n",
    )
    .unwrap()
}

#[test]
fn e_mails_match_trimmed_and_case_insensitively() {
    let context = context();
    let directory = Directory::new(&context.users);
    assert_eq!(
        directory
            .by_email("  ALICE@acme.COM")
            .active()
            .map(|u| u.id.as_str()),
        Some("hs-2")
    );
    assert!(matches!(
        directory.by_email("carol@acme.com"),
        Lookup::Inactive(_)
    ));
    assert_eq!(directory.by_email("nobody@acme.com"), Lookup::Unknown);
    assert_eq!(directory.by_email("ÄLICE@acme.com"), Lookup::Unknown);
    assert_eq!(directory.by_email("alİce@acme.com"), Lookup::Unknown);
}

#[test]
fn the_e_mail_rule_folds_ascii_letters_only_everywhere_it_compares() {
    // (context address, telephony address, whether they match). Outside
    // ASCII nothing is folded: lowercasing matched `É`/`é` but not
    // `ß`/`SS`, a final `ς`, or composed and decomposed accents.
    let rows = [
        ("Max.Yellow@ACME.sk", " max.yellow@acme.SK ", true),
        ("josé@acme.com", "josé@acme.com", true),
        ("josé@acme.com", "JOSÉ@acme.com", false),
        ("josé@acme.com", "JOSé@ACME.com", true),
        ("strauß@acme.de", "STRAUSS@acme.de", false),
        ("όλγας@acme.gr", "όλγασ@acme.gr", false),
        ("jos\u{e9}@acme.com", "jose\u{301}@acme.com", false),
        ("k@acme.com", "\u{212a}@acme.com", false), // the Kelvin sign is not `K`
    ];
    for (written, called, matches) in rows {
        let context =
            Context::from_yaml(&format!("users:\n  - {{id: u-1, email: \"{written}\"}}\n"))
                .unwrap();
        let directory = Directory::new(&context.users);
        assert_eq!(
            directory.by_email(called).active().is_some(),
            matches,
            "{written} / {called}"
        );
        // The same rule in a condition, in the plan's step names, and in
        // the context's duplicate check.
        let rules = format!(
            "ruleset r\nstep user \"{written}\" when agent == \"{written}\" and agent starts_with \"{written}\"\nstep user \"{called}\"\nfallback unassigned\n"
        );
        let compiled = crate::compile_text("r.rules", &rules);
        let duplicate = compiled
            .findings
            .iter()
            .any(|finding| finding.code() == crate::Code::DuplicateStep);
        assert_eq!(
            duplicate, matches,
            "{written} / {called}: {:?}",
            compiled.findings
        );
        let two = Context::from_yaml(&format!(
            "users:\n  - {{id: u-1, email: \"{written}\"}}\n  - {{id: u-2, email: \"{called}\"}}\n"
        ))
        .unwrap();
        assert_eq!(!two.problems().is_empty(), matches, "{written} / {called}");
        if !matches {
            continue;
        }
        let plan = compiled.plan.unwrap_or_else(|| {
            crate::compile_text(
                "r.rules",
                &rules.replacen(&format!("step user \"{called}\"\n"), "", 1),
            )
            .plan
            .unwrap()
        });
        let engine = crate::Engine::new(plan, context);
        let json =
            format!(r#"{{"id":"c","direction":"incoming","status":"missed","agent":"{called}"}}"#);
        let call = crate::Call::from_json(&json).unwrap();
        assert_eq!(
            engine.decide(&call).step.name(),
            "user",
            "{written} / {called}"
        );
    }
}

#[test]
fn addresses_outside_ascii_are_named_as_unreliable() {
    let mut context = Context::from_yaml(
        "users:\n  - {id: u-1, email: ann@acme.com}\n  - {id: u-2, email: strauß@acme.de}\nuser_map:\n  jürgen@acme.de: u-1\nvoicemail_email:\n  default: zoë@acme.com\n",
    )
    .unwrap();
    context.telephony.insert("7".into(), "Ωmega@acme.gr".into());
    context.telephony.insert("8".into(), "plain@acme.gr".into());
    assert_eq!(
        matching::unreliable_addresses(&context),
        [
            ("users[1] (`u-2`)".to_string(), "strauß@acme.de".to_string()),
            (
                "agent `7` in the agents list".to_string(),
                "Ωmega@acme.gr".to_string()
            ),
            ("a `user_map` key".to_string(), "jürgen@acme.de".to_string()),
            (
                "`voicemail_email` `default`".to_string(),
                "zoë@acme.com".to_string()
            ),
        ]
    );
    let warning = context
        .warnings()
        .into_iter()
        .find(|warning| matches!(warning, ContextWarning::UnreliableAddresses { .. }))
        .unwrap();
    assert_eq!(
        warning.to_string(),
        "4 addresses have characters outside ASCII, which match only an e-mail written the same way in the other system (same case, same accents, same composition; `ß` is not `SS`): `strauß@acme.de` (users[1] (`u-2`)), `Ωmega@acme.gr` (agent `7` in the agents list), `jürgen@acme.de` (a `user_map` key), `zoë@acme.com` (`voicemail_email` `default`); check that both systems write them alike, or link them by agent id in `user_map`"
    );
    let ascii = Context::from_yaml("users:\n  - {id: u-1, email: Ann@Acme.com}\n").unwrap();
    assert!(ascii.warnings().is_empty());
}

#[test]
fn ids_match_exactly() {
    let context = context();
    let directory = Directory::new(&context.users);
    assert!(directory.by_id("hs-2").active().is_some());
    assert_eq!(directory.by_id("HS-2"), Lookup::Unknown);
    assert!(matches!(directory.by_id("hs-7"), Lookup::Inactive(_)));
}

#[test]
fn an_active_user_wins_over_an_inactive_one_with_the_same_address() {
    let users = vec![
        User {
            id: "old".into(),
            email: Some("a@x.com".into()),
            active: false,
            name: None,
        },
        User {
            id: "new".into(),
            email: Some("A@x.com".into()),
            active: true,
            name: None,
        },
    ];
    assert_eq!(
        Directory::new(&users)
            .by_email("a@x.com")
            .active()
            .unwrap()
            .id,
        "new"
    );
}

#[test]
fn ambiguous_users_are_problems() {
    let context = Context::from_yaml("fallback: installer\ninstaller: ghost\nusers:\n  - {id: a, email: x@y.z}\n  - {id: a, email: q@y.z}\n  - {id: b, email: X@y.z}\n").unwrap();
    let problems: Vec<String> = context.problems().into_iter().map(|p| p.message).collect();
    assert_eq!(
        problems,
        [
            "users[1] (`a`) has the id of users[0] (`a`)",
            "users[2] (`b`) and users[0] (`a`) are both active with the e-mail `X@y.z`"
        ]
    );
}

#[test]
fn an_installer_who_left_is_a_warning_not_a_problem() {
    let context = Context::from_yaml(
        "integration: hubspot\nfallback: installer\ninstaller: ghost\nusers:\n  - {id: a, email: x@y.z}\n",
    )
    .unwrap();
    assert!(context.problems().is_empty());
    assert_eq!(
        context.warnings().iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["the installer `ghost` is not among the users: calls that reach the integration fallback stay unassigned"]
    );
}

#[test]
fn empty_ids_and_malformed_e_mails_are_problems() {
    let context = Context::from_yaml(
        "users:\n  - {id: ' ', email: a@x.com}\n  - {id: b, email: bob at acme}\n  - {id: c, email: ''}\ninstaller: ''\n",
    )
    .unwrap();
    let problems: Vec<String> = context.problems().into_iter().map(|p| p.message).collect();
    assert_eq!(
        problems,
        [
            "`installer` is empty",
            "users[0] (` `) has an empty id",
            "users[1] (`b`) has the e-mail `bob at acme`, which is not an e-mail address",
        ]
    );
}

#[test]
fn user_map_links_win_over_e_mail_matching() {
    let mut context = Context::from_yaml(
        "integration: hubspot\nusers:\n  - {id: '101', email: max@acme.com}\n  - {id: '102', email: eva@acme.com}\n  - {id: '103', email: old@acme.com, active: false}\nuser_map:\n  Max.Yellow@acme.sk: '101'\n  1234: 102\n  eva@acme.com: '103'\n  ghost@acme.sk: '999'\n",
    )
    .unwrap();
    context
        .telephony
        .insert("1234".into(), "agent@cloudtalk.io".into());
    let directory = Directory::for_context(&context);
    let id = |email: &str| {
        directory
            .by_email(email)
            .active()
            .map(|user| user.id.as_str())
    };
    assert_eq!(id(" max.yellow@ACME.sk"), Some("101"), "by e-mail");
    assert_eq!(id("1234"), Some("102"), "by agent id");
    assert_eq!(
        id("Agent@CloudTalk.io"),
        Some("102"),
        "by the agent id's e-mail"
    );
    assert!(
        matches!(directory.by_email("eva@acme.com"), Lookup::Inactive(_)),
        "the link wins, to an inactive user"
    );
    assert_eq!(directory.by_email("ghost@acme.sk"), Lookup::Unknown);
    assert_eq!(
        id("max@acme.com"),
        Some("101"),
        "unlinked e-mails match as before"
    );
    assert_eq!(
        context.warnings().iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "`user_map` links `eva@acme.com` to `103`, who is not active: the link matches nothing",
            "`user_map` links `ghost@acme.sk` to `999`, who is not a user of hubspot: the link matches nothing",
        ]
    );
}

#[test]
fn a_telephony_user_is_linked_once() {
    let context = Context::from_yaml(
        "users: [{id: a, email: a@x.com}]\nuser_map:\n  Max@acme.sk: a\n  ' max@ACME.sk': b\n",
    )
    .unwrap();
    let problems: Vec<String> = context.problems().into_iter().map(|p| p.message).collect();
    assert_eq!(
        problems,
        ["`user_map` links `Max@acme.sk` and ` max@ACME.sk`, which are one address"]
    );
}

#[test]
fn a_user_map_entry_must_be_a_pair_of_strings() {
    let error = Context::from_yaml("user_map:\n  max@acme.sk: [101, 102]\n").unwrap_err();
    assert!(
        error.to_string().starts_with("user_map.max@acme.sk: invalid type: sequence, expected an id: a string or a whole number at line 2"),
        "{error}"
    );
    let error = Context::from_yaml("user_map: [max@acme.sk]\n").unwrap_err();
    assert!(
        error.to_string().starts_with(
            "user_map: invalid type: sequence, expected a mapping of `key: value` pairs of strings"
        ),
        "{error}"
    );
}

#[test]
fn voicemail_addresses_are_found_by_internal_number_then_default() {
    let context = Context::from_yaml(
        "voicemail_email:\n  '+421 2 2129 1400': sales@acme.com\n  default: support@acme.com\n",
    )
    .unwrap();
    assert_eq!(
        context.voicemail_email_for(Some("421221291400")),
        Some(("+421 2 2129 1400", "sales@acme.com"))
    );
    assert_eq!(
        context.voicemail_email_for(Some("+44 20 1234")),
        Some(("default", "support@acme.com"))
    );
    assert_eq!(
        context.voicemail_email_for(None),
        Some(("default", "support@acme.com"))
    );
}

#[test]
fn unknown_top_level_keys_are_refused() {
    let error = Context::from_yaml("integration: x\ncontact_owners: true\n").unwrap_err();
    assert!(error.to_string().contains("contact_owners"), "{error}");
}

#[test]
fn a_misspelt_user_key_is_refused_not_ignored() {
    let error = Context::from_yaml("users:\n  - {id: hs-3, email: bob@acme.com, activ: false}\n")
        .unwrap_err();
    assert!(
        error.to_string().starts_with(
            "users[0]: unknown field `activ`, expected one of `id`, `email`, `active`, `name`"
        ),
        "{error}"
    );
    let named =
        Context::from_yaml("users:\n  - {id: hs-3, email: bob@acme.com, name: Bob}\n").unwrap();
    assert_eq!(named.users[0].name.as_deref(), Some("Bob"));
}

#[test]
fn ids_are_strings_or_whole_numbers() {
    assert_eq!(
        Context::from_yaml("users:\n  - {id: 17}\n").unwrap().users[0].id,
        "17"
    );
    let error = Context::from_yaml("users:\n  - {id: 1.5}\n").unwrap_err();
    assert!(error.to_string().starts_with("users[0].id: invalid type: floating point `1.5`, expected an id: a string or a whole number"), "{error}");
}

#[test]
fn a_context_that_can_never_assign_is_a_problem() {
    let empty = Context::from_yaml("integration: hubspot\n").unwrap();
    assert_eq!(
        empty.problems()[0].message,
        "the context lists no users, so no call can ever be assigned"
    );
    let no_installer =
        Context::from_yaml("fallback: installer\nusers:\n  - {id: a, email: a@x.com}\n").unwrap();
    assert_eq!(
        no_installer.problems()[0].message,
        "`fallback: installer` but no `installer` is given"
    );
}

#[test]
fn a_key_given_twice_is_located_in_its_own_mapping() {
    let described = |text: &str| {
        let error = Context::read_yaml(text).unwrap_err();
        describe_yaml_error(&error, text)
    };
    // Deeper lines, comments and blank lines inside the mapping are not
    // its keys; the second user's `id` is not the first user's.
    assert_eq!(
        described(
            "users:\n  - id: a\n    # id: x\n\n    email: a@acme.com\n  - id: b\n    id: c\n"
        ),
        "users[1]: `id` is given on line 6 and again on line 7; keep one"
    );
    assert_eq!(
        described("integration: a\nuser_map:\n  integration: '1'\nintegration: c\n"),
        "`integration` is given on line 1 and again on line 4; keep one"
    );
    // A flow mapping keeps serde_yaml's own position, when it gives one.
    assert_eq!(
        described("users:\n  - {id: a, id: b}\n"),
        "users[0]: `id` is given twice at line 2 column 5; keep one"
    );
    assert_eq!(
        described("{integration: a, integration: b, users: [{id: a, email: a@x.com}]}\n"),
        "`integration` is given twice; keep one"
    );
}

#[test]
fn a_context_that_does_not_parse_is_a_problem_located_in_its_file() {
    use crate::diagnostics::problem::ProblemCode;
    let dir = tempfile::tempdir().unwrap();
    for (name, text, at) in [
        // YAML: serde_yaml's position, the unclosed flow sequence's end.
        (
            "a.yaml",
            "integration: a\nusers: [\n",
            "integration: a\nusers: [\n".len(),
        ),
        // JSON: serde_json's line and column, as a byte offset.
        ("b.json", "{\"integration\": \"a\",\n \"users\": 7}\n", 31),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let problems = Context::load(&path).unwrap_err();
        let problem = &problems[0];
        assert_eq!(problem.code, ProblemCode::InvalidContext);
        assert_eq!(problem.file.as_deref(), Some(path.as_path()), "{name}");
        assert_eq!(
            problem.span.map(|span| span.start),
            Some(at),
            "{name}: {problem:?}"
        );
        assert!(problem
            .help
            .as_deref()
            .is_some_and(|help| help.contains("`users`")));
    }
    // A problem found after parsing names the file, without a span.
    let path = dir.path().join("c.yaml");
    std::fs::write(&path, "integration: a\nusers: []\n").unwrap();
    let problem = &Context::load(&path).unwrap_err()[0];
    assert_eq!(problem.file.as_deref(), Some(path.as_path()));
    assert_eq!(problem.span, None);
}

/// An id or address holding a character that does not show (a control, a
/// direction mark, a zero-width space) reads like another and matches
/// nothing: refused, named, and quoted escaped so the message can neither
/// restyle the terminal nor hide what it quotes.
#[test]
fn ids_and_addresses_with_hidden_characters_are_refused_and_quoted_escaped() {
    let context = Context::from_yaml(
        "users:\n  - {id: \"a\\e[31m\", email: a@x.com}\n  - {id: b, email: \"b\\u202e@x.com\"}\n  - {id: c, email: \"c\\u200b@x.com\"}\n  - {id: d, email: \"d\\0@x.com\"}\n  - {id: e, email: e@x.com}\n",
    )
    .unwrap();
    let problems: Vec<String> = context.problems().into_iter().map(|p| p.message).collect();
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(problems[0].contains("`a\\u{1b}[31m`"), "{}", problems[0]);
    assert!(
        problems[1].contains("`b\\u{202e}@x.com`"),
        "{}",
        problems[1]
    );
    assert!(
        problems[1].contains("text direction mark"),
        "{}",
        problems[1]
    );
    assert!(problems[2].contains("zero-width space"), "{}", problems[2]);
    assert!(problems[3].contains("U+0000"), "{}", problems[3]);
    for problem in &problems {
        assert!(
            !problem.chars().any(crate::diagnostics::terminal::is_hidden),
            "{problem:?}"
        );
    }
}
