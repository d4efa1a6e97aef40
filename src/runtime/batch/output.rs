//! Writing a batch: assignment lines (with the assignee JSON rendered once
//! per user), explain traces, error lines, and the readable text form.

use super::*;

/// Decides one call and writes its line.
pub fn write_decision<'e, W: Write>(
    evaluator: &'e Engine,
    call: &'e Call<'_>,
    output: &mut W,
    options: Options,
    scratch: &mut String,
) -> io::Result<Decision<'e>> {
    write_explained_decision(evaluator, call, &[], output, options, scratch, &mut ())
}

/// Like [`write_decision`], for a call read from another system's record:
/// `--explain` also shows where each of its fields came from.
pub(crate) fn write_explained_decision<'e, W: Write>(
    evaluator: &'e Engine,
    call: &'e Call<'_>,
    facts: &[Fact],
    output: &mut W,
    options: Options,
    scratch: &mut String,
    observer: &mut impl Observer,
) -> io::Result<Decision<'e>> {
    if options.explain {
        let (decision, trace) = evaluator.explain(call);
        let explained = Explained {
            facts,
            trace: &trace,
        };
        write_assignment(
            evaluator,
            output,
            call,
            &decision,
            Some(explained),
            options.format,
            scratch,
        )?;
        observer.decided(call, &decision, Some(&trace));
        Ok(decision)
    } else {
        let decision = evaluator.decide(call);
        write_assignment(
            evaluator,
            output,
            call,
            &decision,
            None,
            options.format,
            scratch,
        )?;
        observer.decided(call, &decision, None);
        Ok(decision)
    }
}

/// What `--explain` adds to an assignment line.
#[derive(Debug, Clone, Copy)]
pub struct Explained<'a> {
    /// Where the call's fields came from; empty for a native call.
    pub facts: &'a [Fact],
    pub trace: &'a [TraceEntry],
}

pub(crate) fn write_assignment<W: Write>(
    evaluator: &Engine,
    output: &mut W,
    call: &Call<'_>,
    decision: &Decision<'_>,
    explained: Option<Explained<'_>>,
    format: OutputFormat,
    scratch: &mut String,
) -> io::Result<()> {
    match format {
        OutputFormat::Json => {
            // The bytes serde writes for an `Assignment`, written piece by
            // piece so the assignee comes pre-rendered from the evaluator.
            output.write_all(b"{\"call\":")?;
            write_json_string(output, &call.id)?;
            output.write_all(b",\"assignee\":")?;
            match decision.assignee {
                Some(user) => output.write_all(&evaluator.assignee_json(user))?,
                None => output.write_all(b"null")?,
            }
            output.write_all(b",\"step\":\"")?;
            output.write_all(decision.step.name().as_bytes())?;
            output.write_all(b"\"")?;
            if let Some(email) = decision.step.user() {
                // Beside `"step":"user"`: which fixed user decided.
                output.write_all(b",\"user\":")?;
                write_json_string(output, email)?;
            }
            if let Some(explained) = explained {
                if !explained.facts.is_empty() {
                    output.write_all(b",\"facts\":")?;
                    serde_json::to_writer(&mut *output, explained.facts)
                        .map_err(io::Error::from)?;
                }
                output.write_all(b",\"trace\":")?;
                write_trace_json(output, explained.trace)?;
            }
            output.write_all(b"}\n")
        }
        OutputFormat::Human => {
            scratch.clear();
            human_assignment(scratch, &call.id, decision, explained);
            output.write_all(scratch.as_bytes())
        }
    }
}

/// A trace as serde writes `[TraceEntry]`, by hand: with serde, escaping
/// its strings one byte at a time was a third of `--explain`.
pub(super) fn write_trace_json<W: Write>(output: &mut W, trace: &[TraceEntry]) -> io::Result<()> {
    output.write_all(b"[")?;
    for (index, entry) in trace.iter().enumerate() {
        output.write_all(if index == 0 {
            b"{\"step\":"
        } else {
            b",{\"step\":"
        })?;
        write_json_string(output, entry.step)?;
        if let Some(user) = &entry.user {
            output.write_all(b",\"user\":")?;
            write_json_string(output, user)?;
        }
        output.write_all(b",\"label\":")?;
        write_json_string(output, &entry.label)?;
        output.write_all(b",\"from\":")?;
        write_json_string(output, &entry.from)?;
        output.write_all(b",\"result\":\"")?;
        output.write_all(entry.result.json_name().as_bytes())?;
        output.write_all(b"\"")?;
        if let Some(reason) = &entry.reason {
            output.write_all(b",\"reason\":")?;
            write_json_string(output, reason)?;
        }
        if let Some(assignee) = &entry.assignee {
            output.write_all(b",\"assignee\":")?;
            // `{"id":…,"email":…}`, as serde writes the assignment's own.
            output.write_all(b"{\"id\":")?;
            write_json_string(output, &assignee.id)?;
            output.write_all(b",\"email\":")?;
            match &assignee.email {
                Some(email) => write_json_string(output, email)?,
                None => output.write_all(b"null")?,
            }
            output.write_all(b"}")?;
        }
        output.write_all(b"}")?;
    }
    output.write_all(b"]")
}

/// `text` as a JSON string, the bytes serde_json writes. Most strings need
/// no escape: one scan without early exit (so the compiler can vectorise
/// it) tells, and then they are copied whole.
pub(super) fn write_json_string<W: Write>(output: &mut W, text: &str) -> io::Result<()> {
    let plain = text.bytes().fold(true, |plain, byte| {
        plain & (byte >= 0x20) & (byte != b'"') & (byte != b'\\')
    });
    if plain {
        output.write_all(b"\"")?;
        output.write_all(text.as_bytes())?;
        output.write_all(b"\"")
    } else {
        serde_json::to_writer(output, text).map_err(io::Error::from)
    }
}

/// `c-1001: hs-2 (Alice@Acme.com) by voicemail_email`, then the trace.
pub fn human_assignment(
    out: &mut String,
    call_id: &str,
    decision: &Decision<'_>,
    explained: Option<Explained<'_>>,
) {
    let who = match decision.assignee {
        Some(user) => match &user.email {
            Some(email) => format!("{} ({})", printable(&user.id), printable(email)),
            None => printable(&user.id).into_owned(),
        },
        None => "unassigned".to_string(),
    };
    let _ = writeln!(
        out,
        "{}: {who} by {}",
        printable(call_id),
        printable(&decision.step.label())
    );
    if let Some(explained) = explained {
        human_facts(out, explained.facts);
        let trace = explained.trace;
        let width = trace
            .iter()
            .map(|entry| printable(&entry.shown).chars().count())
            .max()
            .unwrap_or(0);
        let from_width = trace
            .iter()
            .map(|entry| entry.from.chars().count())
            .max()
            .unwrap_or(0);
        let mut line = String::new();
        for entry in trace {
            line.clear();
            line.push_str("  ");
            push_padded(&mut line, entry.result.as_str(), 11, Align::Left);
            line.push(' ');
            push_padded(&mut line, &printable(&entry.shown), width, Align::Left);
            line.push_str("  ");
            push_padded(&mut line, &entry.from, from_width, Align::Left);
            line.push_str("  ");
            line.push_str(&printable(entry.reason.as_deref().unwrap_or("")));
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
}

/// `  fact        status = voicemail  from `Cdr.is_voicemail``, one line
/// per field read from another system's record.
pub(super) fn human_facts(out: &mut String, facts: &[Fact]) {
    let shown: Vec<String> = facts
        .iter()
        .map(|fact| match &fact.value {
            Some(value) => format!("{} = {}", fact.field, printable(value)),
            None => format!("{} = null", fact.field),
        })
        .collect();
    let width = shown
        .iter()
        .map(|text| text.chars().count())
        .max()
        .unwrap_or(0);
    for (fact, text) in facts.iter().zip(&shown) {
        // A fact's value comes from the call: no `format!` width for it.
        let mut line = String::from("  fact        ");
        push_padded(&mut line, text, width, Align::Left);
        let _ = writeln!(out, "{line}  from {}", printable(&fact.from));
    }
}

/// The `id` of a call line that could not be read, when the JSON is
/// whole enough to hold one: an error line names the call to fix.
pub(crate) fn call_id_of(line: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct IdOnly {
        #[serde(default)]
        id: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<IdOnly>(line).ok()?.id? {
        // An empty id names no call.
        serde_json::Value::String(id) if id.trim().is_empty() => None,
        serde_json::Value::String(id) => Some(id),
        // A float is not the id as sent (`27.0`, a rounded 30-digit id).
        serde_json::Value::Number(id) if !id.is_f64() => Some(id.to_string()),
        _ => None,
    }
}

/// Writes the error line of an input line that could not be read, with
/// the call's id when it is known.
pub(crate) fn write_error<W: Write>(
    output: &mut W,
    line: u64,
    call: Option<&str>,
    error: &str,
    format: OutputFormat,
) -> io::Result<()> {
    match format {
        OutputFormat::Json => {
            serde_json::to_writer(&mut *output, &ErrorLine { line, call, error })
                .map_err(io::Error::from)?;
            output.write_all(b"\n")
        }
        OutputFormat::Human => match call {
            Some(call) => writeln!(
                output,
                "line {line} ({}): error: {}",
                printable(call),
                printable(error)
            ),
            None => writeln!(output, "line {line}: error: {}", printable(error)),
        },
    }
}

/// A batch line that could not be read.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct ErrorLine<'a> {
    pub line: u64,
    /// The call's `id`, when the line got that far: which call to fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<&'a str>,
    pub error: &'a str,
}
