//! Properties of `fmt` over generated rule files: formatting is idempotent,
//! keeps every comment and does not change the compiled plan.

use std::sync::Arc;

use proptest::prelude::*;

use callassign::compile_text;
use callassign::diagnostics::finding::Code;
use callassign::diagnostics::source::Source;
use callassign::semantics::plan::{Condition, Fallback, Plan, StepId};
use callassign::syntax::format::{format_text, FormatError};
use callassign::syntax::parse::parse;

/// A token of generated rule text, and whether a line break may precede it
/// (a line starting with `fallback` would start a new statement).
#[derive(Debug, Clone)]
struct Token {
    text: String,
    may_break_before: bool,
}

fn tokens(words: &[&str]) -> Vec<Token> {
    words
        .iter()
        .map(|word| Token {
            text: word.to_string(),
            may_break_before: true,
        })
        .collect()
}

fn comparison(valid_only: bool) -> impl Strategy<Value = Vec<Token>> {
    let invalid = if valid_only {
        tokens(&["direction", "==", "outgoing"])
    } else {
        // Not valid, but it parses: the checker's findings must not change.
        tokens(&["stauts", "==", "missd"])
    };
    prop_oneof![
        Just(tokens(&["direction", "==", "incoming"])),
        Just(tokens(&[
            "status",
            "in",
            "[",
            "missed",
            ",",
            "voicemail",
            ",",
            "]"
        ])),
        Just(tokens(&["status", "not", "in", "[", "answered", "]"])),
        Just(tokens(&["\"vip\"", "in", "tags"])),
        Just(tokens(&["duration", ">", "30"])),
        Just(tokens(&["duration", "<=", "-5"])),
        Just(tokens(&["agent", "==", "null"])),
        Just(tokens(&["agent", "!=", "\"Al\\\"ice@acme.com\""])),
        Just(tokens(&["contact.owner", "==", "\"hs-1\""])),
        Just(tokens(&["last_step", "==", "voicemail"])),
        Just(tokens(&["number", "starts_with", "\"+44\""])),
        Just(tokens(&["tags", "==", "[", "]"])),
        Just(tokens(&["started_at", ">=", "\"2026-01-01T00:00:00Z\""])),
        Just(invalid),
    ]
}

fn condition(valid_only: bool) -> impl Strategy<Value = Vec<Token>> {
    comparison(valid_only).prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..5).prop_map(|parts| join(parts, "and")),
            prop::collection::vec(inner.clone(), 2..5).prop_map(|parts| join(parts, "or")),
            (1..3usize, inner.clone()).prop_map(|(nots, body)| {
                let mut out = tokens(&vec!["not"; nots]);
                out.extend(parenthesised(body));
                out
            }),
            inner.prop_map(parenthesised),
        ]
    })
}

fn join(parts: Vec<Vec<Token>>, word: &str) -> Vec<Token> {
    let mut out = Vec::new();
    for (index, part) in parts.into_iter().enumerate() {
        if index > 0 {
            out.extend(tokens(&[word]));
        }
        out.extend(part);
    }
    out
}

fn parenthesised(body: Vec<Token>) -> Vec<Token> {
    let mut out = tokens(&["("]);
    out.extend(body);
    out.extend(tokens(&[")"]));
    out
}

fn step_name() -> impl Strategy<Value = Vec<Token>> {
    prop_oneof![
        Just(tokens(&["call_agent"])),
        Just(tokens(&["last_step_agent"])),
        Just(tokens(&["voicemail_email"])),
        Just(tokens(&["contact_owner"])),
        Just(tokens(&["favorite_agent"])),
        Just(tokens(&["user", "\"ops@acme.com\""])),
        Just(tokens(&["user", "\"Sales-Ops@Acme.com\""])),
        Just(tokens(&["favourite_agent"])),
    ]
}

fn statement() -> impl Strategy<Value = Vec<Token>> {
    let guarded_step = (
        step_name(),
        prop::option::of((prop::bool::ANY, condition(false))),
    )
        .prop_map(|(step, guard)| {
            let mut out = tokens(&["step"]);
            out.extend(step);
            if let Some((unless, condition)) = guard {
                out.extend(tokens(&[if unless { "unless" } else { "when" }]));
                out.extend(condition);
            }
            out
        });
    let placement = prop_oneof![
        Just(tokens(&["first"])),
        Just(tokens(&["last"])),
        step_name().prop_map(|step| [tokens(&["before"]), step].concat()),
        step_name().prop_map(|step| [tokens(&["after"]), step].concat()),
        Just(vec![
            Token {
                text: "before".into(),
                may_break_before: true
            },
            Token {
                text: "fallback".into(),
                may_break_before: false
            },
        ]),
    ];
    prop_oneof![
        4 => guarded_step,
        1 => step_name().prop_map(|step| [tokens(&["disable"]), step].concat()),
        1 => (step_name(), placement).prop_map(|(step, placement)| [tokens(&["move"]), step, placement].concat()),
    ]
}

/// A ruleset that compiles: distinct steps with valid conditions, moves
/// among them, a fallback.
fn valid_statements() -> impl Strategy<Value = Vec<Token>> {
    const NAMES: [&[&str]; 7] = [
        &["call_agent"],
        &["last_step_agent"],
        &["voicemail_email"],
        &["contact_owner"],
        &["favorite_agent"],
        &["user", "\"ops@acme.com\""],
        &["user", "\"Sales-Ops@Acme.com\""],
    ];
    let step = (
        0..NAMES.len(),
        prop::option::of((prop::bool::ANY, condition(true))),
    );
    (
        prop::collection::vec(step, 1..7),
        prop::collection::vec((0..NAMES.len(), 0..NAMES.len(), 0..5u8), 0..3),
        fallback(),
    )
        .prop_map(|(steps, moves, fallback)| {
            let mut seen = Vec::new();
            let mut out = Vec::new();
            for (name, guard) in steps {
                if seen.contains(&name) {
                    continue;
                }
                seen.push(name);
                out.extend(tokens(&["step"]));
                out.extend(tokens(NAMES[name]));
                if let Some((unless, condition)) = guard {
                    out.extend(tokens(&[if unless { "unless" } else { "when" }]));
                    out.extend(condition);
                }
            }
            for (step, anchor, kind) in moves {
                let (step, anchor) = (seen[step % seen.len()], seen[anchor % seen.len()]);
                if step == anchor && kind < 2 {
                    continue;
                }
                out.extend(tokens(&["move"]));
                out.extend(tokens(NAMES[step]));
                match kind {
                    0 => out.extend(tokens(&["before"])),
                    1 => out.extend(tokens(&["after"])),
                    2 => out.extend(tokens(&["first"])),
                    _ => out.extend(tokens(&["last"])),
                }
                if kind < 2 {
                    out.extend(tokens(NAMES[anchor]));
                }
            }
            out.extend(fallback);
            out
        })
}

fn fallback() -> impl Strategy<Value = Vec<Token>> {
    prop_oneof![
        Just(tokens(&["fallback", "integration"])),
        Just(tokens(&["fallback", "unassigned"])),
        Just(tokens(&["fallback", "user", "\"lead@acme.com\""])),
    ]
}

/// What goes between two tokens: white space, line breaks, blank lines
/// and comments (own-line and trailing).
const SEPARATORS: [&str; 10] = [
    " ",
    " ",
    "  ",
    "\t",
    "\n",
    "\n\n\n",
    " # trailing remark   \n",
    "\n# own line\n",
    "\n\n  #indented, after a blank\n\n",
    "\r\n",
];

prop_compose! {
    fn any_statements()(
        extends in prop::option::weighted(0.1, Just("default")),
        statements in prop::collection::vec(statement(), 0..8),
        fallback in prop::option::weighted(0.8, fallback()),
        after_fallback in prop::collection::vec(statement(), 0..2),
    ) -> (Option<&'static str>, Vec<Token>) {
        let mut all = Vec::new();
        for statement in statements {
            all.extend(statement);
        }
        if let Some(fallback) = fallback {
            all.extend(fallback);
        }
        for statement in after_fallback {
            all.extend(statement);
        }
        (extends, all)
    }
}

prop_compose! {
    fn rule_file()(
        (extends, body) in prop_oneof![
            1 => any_statements(),
            2 => valid_statements().prop_map(|body| (None, body)),
        ],
        separators in prop::collection::vec(0..SEPARATORS.len(), 64),
        opening in 0..SEPARATORS.len(),
    ) -> String {
        let mut all = tokens(&["ruleset", "demo"]);
        if let Some(extends) = extends {
            all.extend(tokens(&["extends", extends]));
        }
        all.extend(body);
        // Statements start on lines of their own or after a space.
        let mut text = String::from(SEPARATORS[opening].trim_start_matches(' '));
        for (index, token) in all.iter().enumerate() {
            if index > 0 {
                let separator = SEPARATORS[separators[index % separators.len()]];
                if token.may_break_before || !separator.contains('\n') {
                    text.push_str(separator);
                } else {
                    text.push(' ');
                }
            }
            text.push_str(&token.text);
        }
        text.push_str(SEPARATORS[separators[0]]);
        text
    }
}

type Steps = Vec<(StepId, Option<(bool, Condition)>)>;

/// What a plan decides, without where its lines were written.
fn meaning(plan: &Plan) -> (Steps, Fallback, Steps) {
    let steps = |steps: &[callassign::semantics::plan::PlanStep]| -> Steps {
        steps
            .iter()
            .map(|step| {
                (
                    step.step.clone(),
                    step.guard
                        .as_ref()
                        .map(|guard| (guard.unless, guard.condition.clone())),
                )
            })
            .collect()
    };
    (
        steps(&plan.steps),
        plan.fallback.fallback.clone(),
        steps(&plan.unreachable),
    )
}

fn comment_texts(text: &str) -> Vec<String> {
    let parsed = parse(&Arc::new(Source::new("demo.rules", text)));
    let mut texts: Vec<String> = parsed
        .file
        .map(|file| {
            file.comments
                .into_iter()
                .map(|comment| comment.text.trim_end().to_string())
                .collect()
        })
        .unwrap_or_default();
    texts.sort();
    texts
}

fn codes(text: &str) -> Vec<Code> {
    let mut codes: Vec<Code> = compile_text("demo.rules", text)
        .findings
        .iter()
        .map(|finding| finding.code())
        .collect();
    codes.sort();
    codes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn fmt_is_idempotent_and_keeps_the_plan(original in rule_file()) {
        let formatted = match format_text("demo.rules", &original) {
            Ok(formatted) => formatted,
            Err(FormatError::Unparsable(findings)) => {
                return Err(TestCaseError::fail(format!("generated text does not parse: {findings:?}\n{original}")));
            }
            Err(error) => return Err(TestCaseError::fail(format!("{error}\n{original}"))),
        };
        prop_assert_eq!(format_text("demo.rules", &formatted).ok(), Some(formatted.clone()), "not idempotent");
        prop_assert!(formatted.ends_with('\n') && !formatted.ends_with("\n\n"));
        prop_assert!(!formatted.contains("\n\n\n"));
        prop_assert!(formatted.lines().all(|line| line == line.trim_end()));

        prop_assert_eq!(comment_texts(&formatted), comment_texts(&original));
        prop_assert_eq!(codes(&formatted), codes(&original));
        let before = compile_text("demo.rules", &original).plan.map(|plan| meaning(&plan));
        let after = compile_text("demo.rules", &formatted).plan.map(|plan| meaning(&plan));
        prop_assert_eq!(after, before);
    }
}

#[test]
fn the_generator_produces_plans() {
    // Without plans, the property above would only compare findings.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let with_plan = (0..200)
        .filter(|_| {
            let text = rule_file().new_tree(&mut runner).unwrap().current();
            compile_text("demo.rules", &text).plan.is_some()
        })
        .count();
    assert!(with_plan >= 100, "only {with_plan} of 200 files compile");
}
