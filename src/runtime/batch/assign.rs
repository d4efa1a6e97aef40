//! Deciding calls handed over as bytes, one document or one line at a
//! time: what `eval` does with a `.json` file, and what a service does
//! with a request body or a stream that arrives in pieces. Every path
//! writes through the same functions as a batch, so the bytes are the
//! same as `eval`'s.

use super::*;

use crate::model::call::friendly_json_error;
use crate::model::Call;

/// Hears what became of each call a batch line or document held: a
/// service counts decisions by step, logs them, and names unknown keys.
/// Both methods do nothing by default; `()` hears nothing.
pub trait Observer {
    /// A call was decided; `trace` is there when explaining.
    fn decided(&mut self, call: &Call<'_>, decision: &Decision<'_>, trace: Option<&[TraceEntry]>) {
        let _ = (call, decision, trace);
    }

    /// A line (or a document) could not be read as a call: the error line
    /// written in its place says `message`.
    fn unreadable(&mut self, line: u64, call: Option<&str>, message: &str) {
        let _ = (line, call, message);
    }
}

impl Observer for () {}

/// What a document (one call, or a CloudTalk `.json` of several) is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentFormat {
    /// JSON: one call, or (with [`InputFormat::CloudTalk`]) a CloudTalk
    /// record or list response.
    Json,
    /// YAML: one native call (CloudTalk records are JSON only).
    Yaml,
}

/// What [`Engine::assign_document`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Written {
    /// Output lines written: one per call or record, decided or not.
    pub lines: u64,
    /// Of those, error lines for what could not be read.
    pub unreadable: u64,
}

/// A document that is not one call at all (a list of calls, several JSON
/// values, YAML where CloudTalk records are JSON): refused as a whole,
/// since an error line would misname the mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotOneCall {
    /// A native document that is a JSON list.
    #[error("a list, not one call")]
    List,
    /// A native document of several JSON values (JSON Lines).
    #[error("more than one JSON value, not one call")]
    SeveralValues,
    /// A YAML document where CloudTalk records are JSON.
    #[error("YAML, but CloudTalk records are JSON")]
    CloudTalkYaml,
}

impl NotOneCall {
    /// The stable code of the refusal, `callassign::not_one_call`, which
    /// `serve` answers with (422) and a service embedding the engine can
    /// put in its own error bodies.
    ///
    /// ```
    /// assert_eq!(callassign::NotOneCall::List.code(), "callassign::not_one_call");
    /// ```
    pub fn code(self) -> &'static str {
        "callassign::not_one_call"
    }

    /// How to fix it.
    pub fn help(self) -> &'static str {
        match self {
            NotOneCall::List => "one call per document; for many, send one call per line (JSON Lines): `jq -c '.[]'` writes them",
            NotOneCall::SeveralValues => "one call per document; one call per line is JSON Lines",
            NotOneCall::CloudTalkYaml => "save the API response as `.json`, or its items one per line as `.jsonl`",
        }
    }
}

impl Engine {
    /// Decides one batch line (`None`: a line longer than
    /// [`MAX_LINE_BYTES`]) and writes its output line, exactly as a batch
    /// does; `summary` counts it and `observer` hears about it.
    ///
    /// ```
    /// use callassign::{compile_text, Context, Engine, Options, Summary};
    ///
    /// let plan = compile_text("demo.rules", "ruleset demo extends default\n").plan.unwrap();
    /// let context = Context::from_yaml("integration: zendesk\nusers:\n  - {id: z-1, email: bob@acme.com}\n").unwrap();
    /// let engine = Engine::new(plan, context);
    /// let mut out = Vec::new();
    /// let mut summary = Summary::default();
    /// let line = br#"{"id":"c-1","direction":"outgoing","status":"answered","agent":"Bob@acme.com"}"#;
    /// engine.assign_line(1, Some(line), Options::default(), &mut out, &mut summary, &mut ()).unwrap();
    /// engine.assign_line(2, Some(b"{"), Options::default(), &mut out, &mut summary, &mut ()).unwrap();
    /// assert_eq!(
    ///     String::from_utf8(out).unwrap(),
    ///     "{\"call\":\"c-1\",\"assignee\":{\"id\":\"z-1\",\"email\":\"bob@acme.com\"},\"step\":\"call_agent\"}\n\
    ///      {\"line\":2,\"error\":\"a line holding only `{`: a batch holds one whole call per line (JSON Lines); write each call on one line (`jq -c '.[]'` does it for a list)\"}\n"
    /// );
    /// assert_eq!((summary.calls, summary.unreadable), (1, 1));
    /// ```
    pub fn assign_line<W: Write>(
        &self,
        line_number: u64,
        line: Option<&[u8]>,
        options: Options,
        output: &mut W,
        summary: &mut Summary,
        observer: &mut impl Observer,
    ) -> io::Result<()> {
        let mut scratch = String::new();
        process_line(
            self,
            line_number,
            line,
            output,
            options,
            &mut scratch,
            summary,
            observer,
        )
    }

    /// Decides a JSON Lines batch read from `input`, writing one line to
    /// `output` per line read, exactly as `eval` does (a line longer than
    /// [`MAX_LINE_BYTES`] is an error line, not held in memory), then
    /// flushes `output`. `observer` hears each line; the [`Summary`] it
    /// returns is what `eval` prints on stderr ([`Summary::render`]).
    ///
    /// An error only when reading `input` or writing `output` fails: a
    /// line that is not a call is an error line in the output, as in a
    /// batch.
    ///
    /// ```
    /// use callassign::{compile_text, Context, Engine, Options};
    ///
    /// let plan = compile_text("demo.rules", "ruleset demo extends default\n").plan.unwrap();
    /// let context = Context::from_yaml("integration: zendesk\nusers:\n  - {id: z-1, email: bob@acme.com}\n").unwrap();
    /// let engine = Engine::new(plan, context);
    /// let input: &[u8] = b"{\"id\":\"c-1\",\"direction\":\"outgoing\",\"status\":\"answered\",\"agent\":\"bob@acme.com\"}\n{\"id\":\"c-2\"}\n";
    /// let mut output = Vec::new();
    /// let summary = engine.assign_batch(input, Options::default(), &mut output, &mut ()).unwrap();
    /// assert_eq!((summary.calls, summary.unreadable), (1, 1));
    /// assert_eq!(summary.by_step()["call_agent"], 1);
    /// let output = String::from_utf8(output).unwrap();
    /// assert_eq!(output.lines().count(), 2);
    /// assert!(output.lines().nth(1).unwrap().starts_with(r#"{"line":2,"call":"c-2","error":"#));
    /// ```
    pub fn assign_batch<R: BufRead, W: Write>(
        &self,
        input: R,
        options: Options,
        output: &mut W,
        observer: &mut impl Observer,
    ) -> io::Result<Summary> {
        run(self, input, output, options, observer, |_| {})
    }

    /// Decides the call a document holds (a `.json` or `.yaml` file, a
    /// request body) and writes its line as `eval` does: an assignment, or
    /// an error line for a call that cannot be read. A CloudTalk `.json`
    /// may hold a whole list response: one line per record, in order.
    ///
    /// Refused as a whole ([`NotOneCall`]): a native `.json` holding a list
    /// or several values, and YAML for CloudTalk records.
    pub fn assign_document<W: Write>(
        &self,
        text: &str,
        format: DocumentFormat,
        options: Options,
        output: &mut W,
        observer: &mut impl Observer,
    ) -> Result<io::Result<Written>, NotOneCall> {
        let mut scratch = String::new();
        match (options.input, format) {
            (InputFormat::CloudTalk, DocumentFormat::Yaml) => Err(NotOneCall::CloudTalkYaml),
            (InputFormat::CloudTalk, DocumentFormat::Json) => {
                Ok(self.assign_cloudtalk_document(text, options, output, observer))
            }
            (InputFormat::Native, _) => {
                let parsed = match format {
                    DocumentFormat::Json => Call::from_json(text).map_err(|error| {
                        if let Some(refusal) = not_one_call(text, &error) {
                            return Err(refusal);
                        }
                        Ok((error.line() as u64, friendly_json_error(&error.to_string())))
                    }),
                    DocumentFormat::Yaml => Call::read_yaml(text).map_err(|error| {
                        Ok((
                            error.location().map_or(1, |at| at.line() as u64),
                            friendly_json_error(&error.to_string()),
                        ))
                    }),
                };
                let written = match parsed {
                    Ok(call) => write_explained_decision(
                        self,
                        &call,
                        &[],
                        output,
                        options,
                        &mut scratch,
                        observer,
                    )
                    .map(|_| Written {
                        lines: 1,
                        unreadable: 0,
                    }),
                    Err(Err(refusal)) => return Err(refusal),
                    Err(Ok((line, error))) => {
                        let call = match format {
                            DocumentFormat::Json => call_id_of(text.as_bytes()),
                            DocumentFormat::Yaml => None,
                        };
                        observer.unreadable(line, call.as_deref(), &error);
                        write_error(output, line, call.as_deref(), &error, options.format).map(
                            |()| Written {
                                lines: 1,
                                unreadable: 1,
                            },
                        )
                    }
                };
                Ok(written)
            }
        }
    }

    /// A CloudTalk `.json`: a list response (a line per item), a list of
    /// records, or one record. A file that holds no records is one error
    /// line, as a single native call that cannot be read is.
    fn assign_cloudtalk_document<W: Write>(
        &self,
        text: &str,
        options: Options,
        output: &mut W,
        observer: &mut impl Observer,
    ) -> io::Result<Written> {
        let facts = cloudtalk::Provenance::when(options.explain);
        let mut scratch = String::new();
        let mut written = Written::default();
        // Each item is decided and written as it is read, then dropped.
        let read = cloudtalk::for_each_document_record(text, self.context(), facts, |record| {
            written.lines += 1;
            match record {
                Ok(record) => write_explained_decision(
                    self,
                    &record.call,
                    &record.facts,
                    output,
                    options,
                    &mut scratch,
                    observer,
                )
                .map(|_| ()),
                Err(error) => {
                    // The items of one document share its first line.
                    written.unreadable += 1;
                    let call = error.call.as_deref();
                    observer.unreadable(1, call, &error.message);
                    write_error(output, 1, call, &error.message, options.format)
                }
            }
        });
        match read {
            Ok(result) => {
                result?;
            }
            Err(error) => {
                observer.unreadable(error.line, None, &error.message);
                write_error(output, error.line, None, &error.message, options.format)?;
                return Ok(Written {
                    lines: 1,
                    unreadable: 1,
                });
            }
        }
        Ok(written)
    }
}

/// A native `.json` document that holds a list of calls or several JSON
/// values rather than one call: a usage mistake, said as such rather than
/// as a parse error.
fn not_one_call(text: &str, error: &serde_json::Error) -> Option<NotOneCall> {
    if text.trim_start().starts_with('[') {
        Some(NotOneCall::List)
    } else if error.to_string().starts_with("trailing characters") {
        Some(NotOneCall::SeveralValues)
    } else {
        None
    }
}

/// Splits a byte stream that arrives in pieces (a request body) into the
/// lines a batch reads, with the same bounds as [`for_each_line`]: a line
/// longer than [`MAX_LINE_BYTES`] is handed over as `None` without being
/// held, a `\r` before a line break is dropped, a byte-order mark at the
/// start is skipped, and a last line without a break still counts.
///
/// ```
/// use callassign::LineSplitter;
///
/// let mut lines = Vec::new();
/// let mut splitter = LineSplitter::default();
/// for piece in [&b"{\"a\":1}\r\n{\"b"[..], b"\":2}\n", b"{\"c\":3}"] {
///     splitter.push(piece, |number, line| lines.push((number, line.map(<[u8]>::to_vec))));
/// }
/// splitter.finish(|number, line| lines.push((number, line.map(<[u8]>::to_vec))));
/// assert_eq!(lines, [
///     (1, Some(b"{\"a\":1}".to_vec())),
///     (2, Some(b"{\"b\":2}".to_vec())),
///     (3, Some(b"{\"c\":3}".to_vec())),
/// ]);
/// ```
#[derive(Debug, Default)]
pub struct LineSplitter {
    /// The start of a line cut by the end of a piece.
    carried: Vec<u8>,
    /// The carried line is already too long to keep.
    too_long: bool,
    /// Lines handed over so far.
    lines: u64,
    /// Bytes of the stream seen so far, up to the length of a byte-order mark.
    seen: usize,
}

impl LineSplitter {
    /// Takes the next piece of the stream, handing `visit` each line it
    /// completes.
    pub fn push(&mut self, mut piece: &[u8], mut visit: impl FnMut(u64, Option<&[u8]>)) {
        // A byte-order mark may itself arrive in pieces.
        while self.seen < UTF8_BOM.len() && !piece.is_empty() {
            if piece[0] != UTF8_BOM[self.seen] {
                // Not a mark after all: what was held back is text.
                let held = &UTF8_BOM[..self.seen];
                self.seen = UTF8_BOM.len();
                carry(&mut self.carried, &mut self.too_long, held);
                break;
            }
            self.seen += 1;
            piece = &piece[1..];
        }
        let mut start = 0;
        while let Some(at) = memchr(&piece[start..]) {
            let end = start + at;
            self.lines += 1;
            if self.carried.is_empty() && !self.too_long {
                visit(self.lines, bounded(&piece[start..end], true));
            } else {
                carry(&mut self.carried, &mut self.too_long, &piece[start..end]);
                let line = if self.too_long {
                    None
                } else {
                    bounded(&self.carried, true)
                };
                visit(self.lines, line);
                self.carried.clear();
                self.too_long = false;
            }
            start = end + 1;
        }
        carry(&mut self.carried, &mut self.too_long, &piece[start..]);
    }

    /// Ends the stream: hands over a last line without a line break.
    /// Returns the number of lines.
    pub fn finish(&mut self, mut visit: impl FnMut(u64, Option<&[u8]>)) -> u64 {
        if self.seen > 0 && self.seen < UTF8_BOM.len() {
            // The stream ended inside what looked like a mark.
            let held = &UTF8_BOM[..self.seen];
            self.seen = UTF8_BOM.len();
            carry(&mut self.carried, &mut self.too_long, held);
        }
        if !self.carried.is_empty() || self.too_long {
            self.lines += 1;
            let line = if self.too_long {
                None
            } else {
                bounded(&self.carried, false)
            };
            visit(self.lines, line);
            self.carried.clear();
            self.too_long = false;
        }
        self.lines
    }

    /// Lines handed over so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }
}
