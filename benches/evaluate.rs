//! In-process throughput of the default rules against a hand-written Rust
//! function of the same steps (the practical limit). Target: within 1.3×.
//!
//! `cargo bench --bench evaluate`

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use callassign::model::{Call, Context};

use callassign::runtime::batch::{self, Line};
use callassign::runtime::evaluate::Engine;
use callassign::vocabulary::Status;

#[path = "common/corpus.rs"]
mod corpus;

use corpus::{Facts, PlainCall};

const CALLS: u64 = 10_000;

fn facts<'a>(call: &'a Call<'_>) -> Facts<'a> {
    Facts {
        incoming: call.direction == callassign::vocabulary::Direction::Incoming,
        unanswered: matches!(call.status, Status::Missed | Status::Voicemail),
        agent: call.agent.as_deref(),
        last_step: call
            .last_step
            .as_ref()
            .map(|step| (&*step.kind, step.agent.as_deref(), step.email.as_deref())),
        owner: call
            .contact
            .as_ref()
            .and_then(|contact| contact.owner.as_deref()),
        favorite_agent: call
            .contact
            .as_ref()
            .and_then(|contact| contact.favorite_agent.as_deref()),
    }
}

fn default_plan() -> callassign::semantics::plan::Plan {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/default.rules");
    let compiled = callassign::compile_file(&path).expect("rules/default.rules is readable");
    compiled.plan.expect("rules/default.rules compiles")
}

fn benches(c: &mut Criterion) {
    let plan = default_plan();
    let context = Context::from_yaml(&corpus::context_yaml()).expect("generated context");
    let evaluator = Engine::new(plan.clone(), context.clone());
    let baseline = corpus::baseline();
    let text = corpus::calls_jsonl(42, CALLS);
    let calls: Vec<Call<'_>> = text
        .lines()
        .map(|line| Call::from_json(line).expect("generated call"))
        .collect();

    // Both sides must decide the same: otherwise the comparison is void.
    let mut steps = std::collections::BTreeMap::<&str, u64>::new();
    for call in &calls {
        let decision = evaluator.decide(call);
        let (user, step) = baseline.decide(&facts(call));
        assert_eq!(
            (
                decision.assignee.map(|user| user.id.as_str()),
                decision.step.name()
            ),
            (
                user.map(|index| baseline.users[index as usize].id.as_str()),
                step
            ),
            "call {}",
            call.id
        );
        *steps.entry(step).or_default() += 1;
    }
    eprintln!("corpus of {CALLS} calls, decided by: {steps:?}");

    let mut group = c.benchmark_group("evaluate");
    group.throughput(Throughput::Elements(CALLS));
    group.bench_function("callassign", |b| {
        b.iter(|| {
            for call in &calls {
                black_box(evaluator.decide(black_box(call)));
            }
        })
    });
    group.bench_function("hand_written", |b| {
        b.iter(|| {
            for call in &calls {
                black_box(baseline.decide(&facts(black_box(call))));
            }
        })
    });
    group.finish();

    let mut group = c.benchmark_group("read_and_evaluate");
    group.throughput(Throughput::Bytes(text.len() as u64));
    let mut output = Vec::with_capacity(text.len());
    group.bench_function("callassign", |b| {
        b.iter(|| {
            output.clear();
            let options = batch::Options {
                format: batch::OutputFormat::Json,
                explain: false,
                input: batch::InputFormat::Native,
            };
            let mut scratch = String::new();
            for line in text.lines() {
                match batch::read_line(line.as_bytes()) {
                    Line::Call(call) => {
                        batch::write_decision(
                            &evaluator,
                            &call,
                            &mut output,
                            options,
                            &mut scratch,
                        )
                        .unwrap();
                    }
                    Line::Unreadable(error) => panic!("{error}"),
                    Line::Record(_) => unreachable!("a native read gives no CloudTalk record"),
                }
            }
            black_box(&output);
        })
    });
    group.bench_function("hand_written", |b| {
        b.iter(|| {
            output.clear();
            for line in text.lines() {
                let call: PlainCall<'_> = serde_json::from_str(line).unwrap();
                baseline.write_line(&call, &mut output).unwrap();
            }
            black_box(&output);
        })
    });
    group.finish();
}

criterion_group!(evaluate, benches);
criterion_main!(evaluate);
