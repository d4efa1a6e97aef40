//! Reading and deciding a native call allocates nothing once the evaluator
//! is built, tags and unknown keys included: `eval` is
//! benchmarked against a hand-written peer, and every call of a real export
//! carries a key or two callassign does not read.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use callassign::model::Context;
use callassign::runtime::batch::{self, Line, Summary};
use callassign::runtime::evaluate::Engine;

thread_local! {
    /// Allocations made by this thread: tests run in parallel, and only
    /// the measuring thread's count matters.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    /// Bytes this thread holds (allocated minus freed), and the most it
    /// held since [`reset_peak`].
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

fn grow(by: i64) {
    let _ = LIVE.try_with(|live| {
        live.set(live.get() + by);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(live.get())));
    });
}

/// Starts measuring the peak from what this thread holds now.
fn reset_peak() -> i64 {
    let live = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(live));
    live
}

struct Counting;

// SAFETY: every call is passed to the system allocator unchanged; the
// count is a thread-local cell, which needs no allocation.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        grow(layout.size() as i64);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        grow(-(layout.size() as i64));
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        grow(new_size as i64 - layout.size() as i64);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn reading_and_deciding_a_native_call_does_not_allocate() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let plan = callassign::compile_file(&repo.join("rules/hubspot.rules"))
        .unwrap()
        .plan
        .unwrap();
    let context = Context::load(&repo.join("examples/hubspot.context.yaml")).unwrap();
    let evaluator = Engine::new(plan.clone(), context.clone());
    let lines = [
        r#"{"id":"c-1","direction":"incoming","status":"missed","agent":"Alice@Acme.com","started_at":"2026-11-23T10:00:00Z","duration_s":0,"number":"+442071234567","tags":["vip","emea","renewal"],"flow":[{"type":"ivr","choice":"2"},{"type":"call_to_agent","agent":"bob@acme.com"}],"contact":{"id":"42","owner":"hs-7","favorite_agent":"dave@acme.com"},"recording":{"url":"https://rec.example/x","size":123456},"uuid":"u-1"}"#,
        r#"{"id":"c-2","direction":"internal","status":"answered","agent":"nobody@acme.com","flow":[],"recording":null}"#,
        r#"{"id":"c-3","direction":"outgoing","status":"voicemail","flow":[{"type":"voicemail","email":"support@acme.com"}],"uuid":"u-3","crm":1,"queue":"Support","notes":[]}"#,
    ];
    let mut summary = Summary::default();
    let decide_all = |summary: &mut Summary| {
        for line in lines {
            let Line::Call(call) = batch::read_line(line.as_bytes()) else {
                panic!("{line}")
            };
            let decision = evaluator.decide(&call);
            std::hint::black_box(decision);
            summary.note_unknown_keys(&call);
        }
    };
    // The summary learns each key's name once.
    decide_all(&mut summary);
    let before = allocations();
    for _ in 0..100 {
        decide_all(&mut summary);
    }
    assert_eq!(allocations() - before, 0, "allocations for 300 calls");
    assert_eq!(summary.unknown_keys.get("recording"), Some(202));
}

#[test]
fn a_cloudtalk_document_is_decided_one_item_at_a_time() {
    // 200,000 empty items (600 KB): held all at once as records they
    // took over 100 MB; read one at a time, the memory of one item.
    use callassign::{DocumentFormat, InputFormat, Options, OutputFormat};
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let plan = callassign::compile_file(&repo.join("rules/hubspot.rules"))
        .unwrap()
        .plan
        .unwrap();
    let context = Context::load(&repo.join("examples/hubspot.context.yaml")).unwrap();
    let engine = Engine::new(plan, context);
    let items = 200_000;
    let mut text = String::from(r#"{"responseData":{"data":["#);
    for index in 0..items {
        text.push_str(if index == 0 { "{}" } else { ",{}" });
    }
    text.push_str("]}}");
    let options = Options {
        format: OutputFormat::Json,
        explain: false,
        input: InputFormat::CloudTalk,
    };
    let start = reset_peak();
    let written = engine
        .assign_document(
            &text,
            DocumentFormat::Json,
            options,
            &mut std::io::sink(),
            &mut (),
        )
        .unwrap()
        .unwrap();
    let peak = PEAK.with(Cell::get) - start;
    assert_eq!((written.lines, written.unreadable), (items, items));
    assert!(peak < 1 << 20, "{peak} bytes held at the peak");
}

#[test]
fn a_cloudtalk_document_is_read_as_a_history_one_item_at_a_time() {
    // `stats` and `diff` read a `.json` response through the same
    // reader: 200,000 empty items cost the memory of one.
    use callassign::impact::history::{for_each_call_in_document, Unreadable};
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let context = Context::load(&repo.join("examples/hubspot.context.yaml")).unwrap();
    let items = 200_000;
    let mut text = String::from(r#"{"responseData":{"data":["#);
    for index in 0..items {
        text.push_str(if index == 0 { "{}" } else { ",{}" });
    }
    text.push_str("]}}");
    let mut unreadable = Unreadable::default();
    let mut calls = 0u64;
    let start = reset_peak();
    for_each_call_in_document(&text, &context, &mut unreadable, |_| calls += 1).unwrap();
    let peak = PEAK.with(Cell::get) - start;
    assert_eq!((calls, unreadable.lines), (0, items));
    assert!(peak < 1 << 20, "{peak} bytes held at the peak");
}
