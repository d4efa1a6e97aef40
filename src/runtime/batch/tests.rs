use super::*;

/// What `for_each_line` must hand over, written the obvious way.
fn split_lines(input: &[u8]) -> Vec<Option<Vec<u8>>> {
    let mut parts: Vec<&[u8]> = input.split(|&byte| byte == b'\n').collect();
    let last = parts.pop().unwrap_or_default();
    let mut lines: Vec<&[u8]> = parts
        .into_iter()
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .collect();
    if !last.is_empty() {
        lines.push(last);
    }
    lines
        .into_iter()
        .map(|line| (line.len() <= MAX_LINE_BYTES).then(|| line.to_vec()))
        .collect()
}

/// Lines over every read buffer's edge: blank ones, `\r` alone or
/// doubled, lines one byte either side of the longest kept (with and
/// without a `\r`), and a last line without a line break.
fn awkward_lines() -> Vec<u8> {
    let mut input = b"{\"a\":1}\r\n\n\r\nplain\nx\r\r\n".to_vec();
    input.extend(vec![b'y'; MAX_LINE_BYTES + 1]);
    input.extend(b"\r\n");
    input.extend(vec![b'z'; MAX_LINE_BYTES]);
    input.extend(b"\r\n");
    input.extend(vec![b'w'; MAX_LINE_BYTES + 1]);
    input.extend(b"\nshort\n");
    input.extend(vec![b'v'; MAX_LINE_BYTES]);
    input.extend(b"\n");
    input.extend(vec![b'u'; 3 * MAX_LINE_BYTES]);
    input.extend(b"\nlast line\r");
    input
}

#[test]
fn lines_are_the_same_wherever_the_reader_buffer_cuts_them() {
    let input = awkward_lines();
    let expected = split_lines(&input);
    assert_eq!(expected.iter().filter(|line| line.is_none()).count(), 3);
    for capacity in [1, 2, 3, 5, 8, 13, 4096, 256 * 1024, 4 * MAX_LINE_BYTES] {
        let reader = io::BufReader::with_capacity(capacity, &input[..]);
        let mut seen = Vec::new();
        let count = for_each_line(reader, |number, line| {
            assert_eq!(number, seen.len() as u64 + 1);
            seen.push(line.map(<[u8]>::to_vec));
            Ok(())
        })
        .unwrap();
        assert_eq!(count, expected.len() as u64, "capacity {capacity}");
        assert!(seen == expected, "capacity {capacity}");
    }
}

#[test]
fn parallel_blocks_hold_the_same_lines_wherever_the_reader_buffer_cuts_them() {
    let input = awkward_lines();
    let expected = split_lines(&input);
    // Small buffers cut lines everywhere; the whole input as one buffer
    // is how a library caller's byte slice arrives.
    for capacity in [1, 7, 4096, 256 * 1024, input.len()] {
        let reader = io::BufReader::with_capacity(capacity, &input[..]);
        let seen = parallel::lines_of_blocks(reader);
        assert_eq!(seen.len(), expected.len(), "capacity {capacity}");
        for (index, ((number, line), expected)) in seen.iter().zip(&expected).enumerate() {
            assert_eq!(*number, index as u64 + 1, "capacity {capacity}");
            assert!(line == expected, "capacity {capacity}, line {number}");
        }
    }
}

#[test]
fn json_lines_are_the_bytes_serde_writes() {
    let context = crate::model::Context::from_yaml(
        "integration: hubspot\nusers:\n  - {id: hs-1, email: a@x.com}\n  - {id: \"q\\\"1\"}\n",
    )
    .unwrap();
    let plan = crate::compile_text(
        "t.rules",
        "ruleset t\nstep call_agent unless direction == incoming\nstep favorite_agent\nfallback integration\n",
    )
    .plan
    .unwrap();
    let evaluator = Engine::new(plan.clone(), context.clone());
    let lines = [
        r#"{"id":"c-1","direction":"outgoing","status":"answered","agent":"A@x.com"}"#,
        r#"{"id":"c\"2\\\u0001é","direction":"incoming","status":"missed","contact":{"favorite_agent":"nobody\t@x.com"}}"#,
        r#"{"id":17,"direction":"incoming","status":"voicemail"}"#,
    ];
    for line in lines {
        let Line::Call(call) = read_line(line.as_bytes()) else {
            panic!("{line}")
        };
        let facts = [Fact {
            field: "status",
            value: Some("voicemail \"x\"".to_string()),
            from: "`Cdr.is_voicemail`".to_string(),
        }];
        for (explain, facts) in [(false, &[][..]), (true, &[][..]), (true, &facts[..])] {
            let (decision, trace) = evaluator.explain(&call);
            let explained = explain.then_some(Explained {
                facts,
                trace: &trace,
            });
            let mut ours = Vec::new();
            let mut scratch = String::new();
            write_assignment(
                &evaluator,
                &mut ours,
                &call,
                &decision,
                explained,
                OutputFormat::Json,
                &mut scratch,
            )
            .unwrap();
            let mut serde = serde_json::to_vec(&Assignment {
                call: &call.id,
                assignee: decision
                    .assignee
                    .map(crate::runtime::evaluate::Assignee::from),
                step: decision.step.name(),
                user: decision.step.user(),
                facts: explained
                    .map(|explained| explained.facts)
                    .filter(|facts| !facts.is_empty()),
                trace: explained.map(|explained| explained.trace),
            })
            .unwrap();
            serde.push(b'\n');
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(serde).unwrap()
            );
        }
    }
}

#[test]
fn json_errors_name_data_not_rust_types() {
    let Line::Unreadable(error) = read_line(b"[1,2]") else {
        panic!()
    };
    assert_eq!(error, "expected a call object `{…}`, found a list");
    let Line::Unreadable(error) = read_line(br#"{"id":"x","direction":"in","status":"missed"}"#)
    else {
        panic!()
    };
    assert!(
        error == "direction: unknown value `in`, expected `incoming`, `outgoing` or `internal` (column 26)",
        "{error}"
    );
}

#[test]
fn a_key_given_twice_is_named_with_how_to_fix_it() {
    for (line, expected) in [
        (
            &br#"{"id":"c","id":"d","direction":"incoming","status":"missed"}"#[..],
            "`id` is given twice; keep one (column 18)",
        ),
        (
            br#"{"id":"c","direction":"incoming","status":"missed","contact":{"owner":"1","owner":"2"}}"#,
            "contact: `owner` is given twice; keep one (column 87)",
        ),
    ] {
        let Line::Unreadable(error) = read_line(line) else {
            panic!()
        };
        assert_eq!(error, expected);
    }
}

#[test]
fn text_after_a_call_on_its_line_says_one_call_per_line() {
    let Line::Unreadable(error) =
        read_line(b"{\"id\":\"c\",\"direction\":\"incoming\",\"status\":\"missed\"}\0")
    else {
        panic!()
    };
    assert_eq!(
        error,
        "more after the end of the object; a batch holds one call per line (column 52)"
    );
}

#[test]
fn a_byte_order_mark_starting_a_line_mid_batch_is_skipped_like_the_first() {
    // `cat a.jsonl b.jsonl` of two files saved with a mark.
    let line = "\u{feff}{\"id\":\"c-2\",\"direction\":\"incoming\",\"status\":\"missed\"}";
    let Line::Call(call) = read_line(line.as_bytes()) else {
        panic!("{line}")
    };
    assert_eq!(call.id, "c-2");
    let Line::Unreadable(error) = read_line("\u{feff}".as_bytes()) else {
        panic!("a mark alone is an empty line")
    };
    assert_eq!(error, "empty line, expected a call object");
}

#[test]
fn the_keys_not_read_line_names_the_most_frequent_keys_and_counts_the_rest() {
    let mut summary = Summary::default();
    for call in 0..30 {
        // `common` in every call, `k00`…`k29` in one each.
        summary
            .unknown_keys
            .note(["common".to_string(), format!("k{call:02}")].into_iter());
    }
    let line = summary.render_unknown_keys();
    assert!(
        line.starts_with("keys not read: `common` (30 calls), `k00` (1 call)"),
        "{line}"
    );
    assert!(line.ends_with(", and 11 more keys\n"), "{line}");
    assert_eq!(line.matches("` (").count(), Summary::KEYS_SHOWN, "{line}");
    let mut few = Summary::default();
    few.unknown_keys.note(["b", "a"].into_iter());
    assert_eq!(
        few.render_unknown_keys(),
        "keys not read: `a` (1 call), `b` (1 call)\n"
    );
}

/// The shape of an assignment line, derived: what the hand-written writer
/// must produce byte for byte.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Assignment<'a> {
    pub call: &'a str,
    pub assignee: Option<crate::runtime::evaluate::Assignee<'a>>,
    pub step: &'static str,
    /// The address of the fixed user that decided (`"step":"user"`): a
    /// plan may hold several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<&'a str>,
    /// Where the call's fields came from, for a call read from another
    /// system's record (`--explain` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facts: Option<&'a [crate::model::Fact]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<&'a [crate::runtime::evaluate::TraceEntry]>,
}

#[test]
fn the_keys_not_read_are_kept_and_printed_within_bounds() {
    // Ever new keys, each a kilobyte long: memory and the line stay
    // bounded (100,000 distinct keys of 1 KB would be 100 MB otherwise).
    let mut summary = Summary::default();
    for call in 0..100_000u32 {
        let key = format!("{call:06}{}", "k".repeat(1_000));
        summary.unknown_keys.note([key].into_iter());
    }
    assert_eq!(summary.unknown_keys.sorted().len(), KeyCounts::MAX_KEYS);
    assert_eq!(
        summary.unknown_keys.not_kept(),
        100_000 - KeyCounts::MAX_KEYS as u64
    );
    let line = summary.render_unknown_keys();
    assert!(line.len() < 4_000, "{} bytes", line.len());
    let cut = format!(
        "`000000{}…` (1 call)",
        "k".repeat(KeyCounts::MAX_KEY_BYTES - 6)
    );
    assert!(line.starts_with(&format!("keys not read: {cut}")), "{line}");
    assert!(
        line.ends_with(", and 980 more keys, and 99000 more uses of keys past the first 1000 (not counted one by one)\n"),
        "{line}"
    );
    // A key cut to the same text is the same key, and keeps counting.
    summary
        .unknown_keys
        .note([format!("000000{}", "k".repeat(2_000))].into_iter());
    assert!(summary.render_unknown_keys().starts_with(&format!(
        "keys not read: `000000{}…` (2 calls)",
        "k".repeat(KeyCounts::MAX_KEY_BYTES - 6)
    )));
}

/// Reads `good` (split into small reads), then fails.
struct FailingAfter {
    good: Vec<u8>,
    at: usize,
}

impl io::Read for FailingAfter {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if self.at == self.good.len() {
            return Err(io::Error::other("the disk went away"));
        }
        let end = self
            .good
            .len()
            .min(self.at + 4096)
            .min(self.at + buffer.len());
        let taken = end - self.at;
        buffer[..taken].copy_from_slice(&self.good[self.at..end]);
        self.at = end;
        Ok(taken)
    }
}

#[test]
fn an_input_that_fails_mid_way_keeps_the_lines_read_before_at_every_jobs() {
    let plan = crate::compile_text(
        "demo.rules",
        "ruleset demo\nstep call_agent\nfallback unassigned\n",
    )
    .plan
    .unwrap();
    let context = Context::from_yaml("users:\n  - {id: u-1, email: a@b.c}\n").unwrap();
    let engine = Engine::new(plan, context);
    let options = Options {
        format: OutputFormat::Json,
        explain: false,
        input: InputFormat::Native,
    };
    // Whole lines, then half a line when the read fails; more than one
    // parallel block, and less than one.
    for count in [3usize, 20_000] {
        let mut good = Vec::new();
        for index in 0..count {
            good.extend_from_slice(
                format!("{{\"id\":\"c-{index}\",\"direction\":\"incoming\",\"status\":\"answered\",\"agent\":\"a@b.c\"}}\n").as_bytes(),
            );
        }
        good.extend_from_slice(b"{\"id\":\"cut");
        let mut outputs = Vec::new();
        for jobs in [1, 2, 4] {
            let input = io::BufReader::new(FailingAfter {
                good: good.clone(),
                at: 0,
            });
            let mut output = Vec::new();
            let error =
                run_parallel(&engine, input, &mut output, options, jobs, |_| {}).unwrap_err();
            assert_eq!(error.to_string(), "the disk went away");
            assert_eq!(
                output.iter().filter(|&&b| b == b'\n').count(),
                count,
                "--jobs {jobs}"
            );
            outputs.push(output);
        }
        assert!(
            outputs.windows(2).all(|pair| pair[0] == pair[1]),
            "{count} calls"
        );
    }
}
