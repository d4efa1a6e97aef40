//! The engine a service embeds: owned and shared across threads, a
//! ruleset named by the hash of everything it read, and calls decided from
//! bytes that arrive in pieces, with the bytes a batch writes.

use std::fs;
use std::io::Cursor;
use std::path::Path;

use callassign::runtime::batch::{self, for_each_line};
use callassign::{Engine, Error, LineSplitter, Options, Ruleset, Summary, MAX_LINE_BYTES};
use proptest::prelude::*;

use crate::common::{folder, repo};

#[test]
fn an_engine_is_owned_shared_and_sent_across_threads() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    fn sendable<T: Send + Sync + std::error::Error + 'static>() {}
    shareable::<Engine>();
    shareable::<Ruleset>();
    sendable::<Error>();
}

fn hubspot() -> Ruleset {
    Ruleset::load(
        &repo().join("rules/hubspot.rules"),
        &repo().join("examples/hubspot.context.yaml"),
    )
    .expect("the shipped rules load")
}

/// A copy of the CloudTalk example: rules that extend `default`, and a
/// context that reads users, agents and owners from files.
fn cloudtalk_project(root: &Path) {
    let from = repo().join("examples/cloudtalk");
    fs::create_dir_all(root.join("rules")).unwrap();
    fs::create_dir_all(root.join("contexts")).unwrap();
    for rules in ["default.rules", "hubspot.rules"] {
        fs::copy(
            repo().join("rules").join(rules),
            root.join("rules").join(rules),
        )
        .unwrap();
    }
    for entry in fs::read_dir(&from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), root.join("contexts").join(entry.file_name())).unwrap();
    }
}

fn load(root: &Path) -> Ruleset {
    Ruleset::load(
        &root.join("rules/hubspot.rules"),
        &root.join("contexts/hubspot.context.yaml"),
    )
    .expect("the copy loads")
}

#[test]
fn a_ruleset_lists_every_file_it_read_rules_first() {
    let dir = tempfile::tempdir().unwrap();
    cloudtalk_project(dir.path());
    let ruleset = load(dir.path());
    let names: Vec<String> = ruleset
        .files
        .iter()
        .map(|path| path.strip_prefix(dir.path()).unwrap().display().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "rules/default.rules",
            "rules/hubspot.rules",
            "contexts/hubspot.context.yaml",
            "contexts/hubspot-owners-1.json",
            "contexts/hubspot-owners-2.json",
            "contexts/cloudtalk-agents.json",
            "contexts/contact-owners.csv",
        ]
    );
    assert_eq!(ruleset.name, "hubspot");
}

#[test]
fn equal_content_hashes_alike_wherever_it_is_and_any_change_changes_it() {
    let one = tempfile::tempdir().unwrap();
    let two = tempfile::tempdir().unwrap();
    cloudtalk_project(one.path());
    cloudtalk_project(two.path());
    let hash = load(one.path()).hash;
    assert_eq!(hash.len(), 64);
    assert!(hash
        .bytes()
        .all(|byte| byte.is_ascii_hexdigit() && !byte.is_ascii_uppercase()));
    assert_eq!(
        load(two.path()).hash,
        hash,
        "another folder, the same content"
    );

    // A change anywhere in what the ruleset reads: the base rules, the
    // context, or a user list the context names.
    for (file, append) in [
        ("rules/default.rules", "# a comment\n"),
        ("contexts/hubspot.context.yaml", "# a comment\n"),
        ("contexts/contact-owners.csv", "4321,,101\n"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        cloudtalk_project(dir.path());
        let path = dir.path().join(file);
        let mut text = fs::read_to_string(&path).unwrap();
        text.push_str(append);
        fs::write(&path, text).unwrap();
        assert_ne!(load(dir.path()).hash, hash, "{file} changed");
    }
}

#[test]
fn the_built_in_default_counts_by_its_text() {
    let with_file = hubspot();
    let dir = folder(&[("hubspot.rules", "ruleset hubspot extends default\n")]);
    let built_in = Ruleset::load(
        &dir.path().join("hubspot.rules"),
        &repo().join("examples/hubspot.context.yaml"),
    )
    .unwrap();
    // The built-in text is the shipped file's, so only the leaf differs.
    assert_eq!(built_in.files.len(), 2, "{:?}", built_in.files);
    assert_ne!(built_in.hash, with_file.hash);
}

#[test]
fn a_ruleset_with_errors_or_a_refused_context_is_an_error_with_its_code() {
    let dir = folder(&[
        (
            "bad.rules",
            "ruleset bad\nstep last_step_agnet\nfallback integration\n",
        ),
        (
            "context.yaml",
            "integration: x\nusers: [{id: 1, email: a@x.com, activ: false}]\n",
        ),
    ]);
    let error = Ruleset::load(
        &dir.path().join("bad.rules"),
        &repo().join("examples/hubspot.context.yaml"),
    )
    .unwrap_err();
    assert_eq!(error.code(), "callassign::rules_have_errors");
    let Error::Rules { findings, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(findings[0].code(), callassign::Code::UnknownStep);
    assert!(
        error.to_string().ends_with("has errors (1 error)"),
        "{error}"
    );

    let error = Ruleset::load(
        &repo().join("rules/hubspot.rules"),
        &dir.path().join("context.yaml"),
    )
    .unwrap_err();
    assert_eq!(error.code(), "callassign::context_refused");
    assert!(error.to_string().contains("activ"), "{error}");

    let error = Ruleset::load(
        &dir.path().join("missing.rules"),
        &repo().join("examples/hubspot.context.yaml"),
    )
    .unwrap_err();
    assert_eq!(error.code(), "callassign::unreadable_file");
}

/// Lines as a batch reader hands them over.
fn lines_read(input: &[u8]) -> Vec<(u64, Option<Vec<u8>>)> {
    let mut lines = Vec::new();
    for_each_line(Cursor::new(input), |number, line| {
        lines.push((number, line.map(<[u8]>::to_vec)));
        Ok(())
    })
    .unwrap();
    lines
}

/// Lines as a splitter hands them over, the input cut at `cuts`.
fn lines_split(input: &[u8], cuts: &[usize]) -> Vec<(u64, Option<Vec<u8>>)> {
    let mut lines = Vec::new();
    let mut splitter = LineSplitter::default();
    let mut start = 0;
    let mut cuts: Vec<usize> = cuts.iter().map(|cut| cut % (input.len() + 1)).collect();
    cuts.sort_unstable();
    for cut in cuts.into_iter().chain([input.len()]) {
        splitter.push(&input[start..cut], |number, line| {
            lines.push((number, line.map(<[u8]>::to_vec)))
        });
        start = cut;
    }
    let total = splitter.finish(|number, line| lines.push((number, line.map(<[u8]>::to_vec))));
    assert_eq!(total, lines.len() as u64);
    lines
}

fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just("\u{feff}".as_bytes().to_vec()),
        Just(vec![0xEF]),
        Just(vec![0xEF, 0xBB]),
        Just(br#"{"id":"c","direction":"incoming","status":"missed"}"#.to_vec()),
        proptest::collection::vec(any::<u8>(), 0..8),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// However a body is cut into pieces, the lines are the batch reader's.
    #[test]
    fn a_stream_cut_anywhere_splits_into_the_lines_a_batch_reads(
        pieces in proptest::collection::vec(piece(), 0..12),
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        let input: Vec<u8> = pieces.concat();
        prop_assert_eq!(lines_split(&input, &cuts), lines_read(&input));
    }
}

#[test]
fn over_long_lines_are_none_at_the_same_place_as_in_a_batch() {
    for length in [
        MAX_LINE_BYTES - 1,
        MAX_LINE_BYTES,
        MAX_LINE_BYTES + 1,
        MAX_LINE_BYTES + 2,
    ] {
        let mut input = vec![b'x'; length];
        input.extend_from_slice(b"\r\n{}\n");
        input.extend(vec![b'y'; length]);
        for cuts in [
            &[][..],
            &[1, 65_536, MAX_LINE_BYTES / 2][..],
            &[length, length + 1][..],
        ] {
            assert_eq!(
                lines_split(&input, cuts),
                lines_read(&input),
                "length {length}, cuts {cuts:?}"
            );
        }
    }
}

/// A line at a time through [`Engine::assign_line`] writes what a batch
/// writes, for the shipped example batch and a batch of bad lines, with
/// and without explanations, native and CloudTalk.
#[test]
fn line_by_line_writes_the_bytes_of_a_batch() {
    let native = fs::read(repo().join("examples/calls.jsonl")).unwrap();
    let bad = b"{\n\n[1]\n{\"id\":\"c\",\"direction\":\"incoming\",\"status\":\"mised\"}\n\xff\n{\"id\":\"k\",\"direction\":\"incoming\",\"status\":\"missed\",\"colour\":1}".to_vec();
    let cloudtalk = fs::read(repo().join("examples/cloudtalk/records.jsonl")).unwrap();
    let examples = Ruleset::load(
        &repo().join("rules/hubspot.rules"),
        &repo().join("examples/cloudtalk/hubspot.context.yaml"),
    )
    .unwrap();
    let cases = [
        (&hubspot().engine, &native, callassign::InputFormat::Native),
        (&hubspot().engine, &bad, callassign::InputFormat::Native),
        (
            &examples.engine,
            &cloudtalk,
            callassign::InputFormat::CloudTalk,
        ),
    ];
    for (engine, input, format) in cases {
        for explain in [false, true] {
            for output in [
                callassign::OutputFormat::Json,
                callassign::OutputFormat::Human,
            ] {
                let options = Options {
                    format: output,
                    explain,
                    input: format,
                };
                let mut expected = Vec::new();
                let batch_summary = batch::run(
                    engine,
                    Cursor::new(input),
                    &mut expected,
                    options,
                    &mut (),
                    |_| {},
                )
                .unwrap();
                let mut written = Vec::new();
                let mut summary = Summary::default();
                let mut splitter = LineSplitter::default();
                for piece in input.chunks(7) {
                    splitter.push(piece, |number, line| {
                        engine
                            .assign_line(number, line, options, &mut written, &mut summary, &mut ())
                            .unwrap()
                    });
                }
                splitter.finish(|number, line| {
                    engine
                        .assign_line(number, line, options, &mut written, &mut summary, &mut ())
                        .unwrap()
                });
                assert_eq!(
                    String::from_utf8_lossy(&written),
                    String::from_utf8_lossy(&expected),
                    "{format:?} explain={explain} {output:?}"
                );
                assert_eq!(summary, batch_summary);
            }
        }
    }
}
