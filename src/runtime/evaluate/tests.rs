use super::*;

#[test]
fn assignee_json_is_rendered_once_and_right_for_any_user() {
    let context =
        Context::from_yaml("users:\n  - {id: hs-1, email: A@x.com}\n  - {id: \"q\\\"2\"}\n")
            .unwrap();
    let plan = crate::compile_text("t.rules", "ruleset t\nfallback integration\n")
        .plan
        .unwrap();
    let evaluator = Engine::new(plan, context.clone());
    let serde = |user: &User| serde_json::to_vec(&Assignee::from(user)).unwrap();
    for user in &evaluator.context().users {
        let json = evaluator.assignee_json(user);
        assert!(matches!(json, Cow::Borrowed(_)));
        assert_eq!(json.as_ref(), serde(user));
    }
    // A user of another copy of the context is not one of the engine's:
    // rendered on the spot.
    let copy = &context.users[0];
    let json = evaluator.assignee_json(copy);
    assert!(matches!(json, Cow::Owned(_)));
    assert_eq!(json.as_ref(), serde(copy));
}

#[test]
fn every_way_of_deciding_has_its_own_counter() {
    let indices: Vec<usize> = DecidedBy::all().map(DecidedBy::index).collect();
    assert_eq!(indices, (0..DecidedBy::COUNT).collect::<Vec<_>>());
}

/// The prepared table must say exactly what walking the condition says.
#[test]
fn prepared_guard_tables_agree_with_the_condition() {
    let guards = [
        "unless direction == incoming and status in [missed, voicemail]",
        "when direction == outgoing",
        "when not (status == answered or direction != incoming)",
        "unless status in [answered] or (direction == incoming and not status == missed)",
    ];
    for guard in guards {
        let rules = format!("ruleset demo\nstep call_agent {guard}\nfallback integration\n");
        let compiled = crate::compile_text("demo.rules", &rules);
        assert!(compiled.findings.is_empty(), "{:?}", compiled.findings);
        let plan = compiled.plan.unwrap();
        let guard_plan = plan.steps[0].guard.as_ref().unwrap();
        let PreparedGuard::Table(table) = PreparedGuard::new(Some(guard_plan)) else {
            panic!("`{guard}` should become a table");
        };
        for direction in Direction::ALL {
            for status in Status::ALL {
                let json = format!(
                    r#"{{"id":"c","direction":"{}","status":"{}"}}"#,
                    direction.name(),
                    status.name()
                );
                let call = Call::from_json(&json).unwrap();
                let walked = holds(&guard_plan.condition, &call) != guard_plan.unless;
                let looked_up = table >> table_bit(direction, status) & 1 != 0;
                assert_eq!(looked_up, walked, "`{guard}` for {json}");
            }
        }
    }
    let compiled = crate::compile_text(
        "demo.rules",
        "ruleset demo\nstep call_agent when direction == incoming and \"vip\" in tags\nfallback integration\n",
    );
    let plan = compiled.plan.unwrap();
    assert!(matches!(
        PreparedGuard::new(plan.steps[0].guard.as_ref()),
        PreparedGuard::Walk
    ));
}
