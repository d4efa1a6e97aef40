//! A team embedding the library in its own service: `examples/embed.rs`,
//! built from the crate root's names only, runs and says what
//! docs/library.md promises; the facade's types can be shared as a service
//! shares them.

#[allow(dead_code)] // its `main`, which `cargo run --example embed` runs
#[path = "../../examples/embed.rs"]
mod embed_example;

/// Every step of the example: one call, a batch, threads and a reload, a
/// trace, and every error with its code and place.
#[test]
fn the_embedding_example_decides_explains_reloads_and_reports_errors() {
    let mut out = Vec::new();
    embed_example::run(&mut out).expect("the example runs");
    let out = String::from_utf8(out).expect("UTF-8");
    insta::assert_snapshot!(out);
}

/// What a service keeps and hands between threads is `Send + Sync`, what
/// it logs is `Debug`, and what it swaps on reload is `Clone`.
#[test]
fn the_facade_types_can_be_shared_logged_and_cloned() {
    fn shared<T: Send + Sync + std::fmt::Debug>() {}
    fn cloned<T: Clone>() {}
    shared::<callassign::Engine>();
    shared::<callassign::Ruleset>();
    shared::<callassign::Plan>();
    shared::<callassign::Context>();
    shared::<callassign::Error>();
    shared::<callassign::Problem>();
    shared::<callassign::Finding>();
    shared::<callassign::Summary>();
    shared::<callassign::NotOneCall>();
    shared::<callassign::TraceEntry>();
    cloned::<callassign::Engine>();
    cloned::<callassign::Ruleset>();
    cloned::<callassign::Problem>();
    cloned::<callassign::Finding>();
    cloned::<callassign::Summary>();

    // An `Error` crosses threads as a boxed error, as services return it.
    let error = std::thread::spawn(|| {
        callassign::Ruleset::load(
            "rules/none.rules".as_ref(),
            "examples/hubspot.context.yaml".as_ref(),
        )
        .map(|_| ())
        .map_err(Box::<dyn std::error::Error + Send + Sync>::from)
    })
    .join()
    .expect("no panic")
    .expect_err("no such file");
    assert!(
        error
            .to_string()
            .starts_with("cannot read `rules/none.rules`"),
        "{error}"
    );
}
