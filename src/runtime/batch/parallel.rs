//! `--jobs N`: a batch evaluated on several threads, written in input order.
//!
//! One thread reads chunks of lines, `N` workers evaluate each chunk into
//! its own output buffer, and the calling thread writes the buffers in
//! chunk order. A fixed set of chunks circulates (reader → worker → writer
//! → reader), so memory stays bounded however long the batch and however
//! far one worker falls behind: when every chunk is in flight, the reader
//! waits.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};
use std::sync::mpsc::{channel, Receiver};
use std::sync::Mutex;
use std::thread;

use super::{process_line, read_bounded_line, run, Options, Summary, MAX_LINE_BYTES};
use crate::runtime::evaluate::Evaluator;

/// Lines per chunk: large enough that handing a chunk between threads is
/// rare next to evaluating it, small enough to keep memory low.
const CHUNK_LINES: usize = 1024;
/// A chunk also ends once it holds this many bytes of input.
const CHUNK_BYTES: usize = 512 * 1024;

/// A run of consecutive input lines and, once evaluated, their output.
struct Chunk {
    sequence: u64,
    /// The line number of the first line.
    first_line: u64,
    input: Vec<u8>,
    /// Each line's byte range in `input`; `None` for a line longer than
    /// [`MAX_LINE_BYTES`], which is not kept.
    lines: Vec<Option<(usize, usize)>>,
    output: Vec<u8>,
    summary: Summary,
    /// Evaluation could not write its output (it never should: the output
    /// is memory).
    failed: Option<io::Error>,
}

impl Chunk {
    fn new() -> Chunk {
        Chunk {
            sequence: 0,
            first_line: 0,
            input: Vec::new(),
            lines: Vec::with_capacity(CHUNK_LINES),
            output: Vec::new(),
            summary: Summary::default(),
            failed: None,
        }
    }

    /// Fills the chunk with the next lines; false at the end of the input.
    fn fill<R: BufRead>(
        &mut self,
        input: &mut R,
        sequence: u64,
        first_line: u64,
    ) -> io::Result<bool> {
        self.sequence = sequence;
        self.first_line = first_line;
        self.input.clear();
        self.lines.clear();
        self.output.clear();
        self.summary = Summary::default();
        self.failed = None;
        while self.lines.len() < CHUNK_LINES && self.input.len() < CHUNK_BYTES {
            let start = self.input.len();
            let (read, too_long) = read_bounded_line(input, &mut self.input, MAX_LINE_BYTES)?;
            if read == 0 {
                break;
            }
            self.lines
                .push((!too_long).then_some((start, self.input.len())));
        }
        Ok(!self.lines.is_empty())
    }

    fn evaluate(&mut self, evaluator: &Evaluator<'_>, options: Options, scratch: &mut String) {
        for (offset, range) in self.lines.iter().enumerate() {
            let line = range.map(|(start, end)| &self.input[start..end]);
            if let Err(error) = process_line(
                evaluator,
                self.first_line + offset as u64,
                line,
                &mut self.output,
                options,
                scratch,
                &mut self.summary,
            ) {
                self.failed = Some(error);
                return;
            }
        }
    }
}

/// Like [`run`], evaluating on `jobs` threads; the output is the same,
/// byte for byte. `jobs` of 0 or 1 is [`run`] itself.
///
/// ```
/// use callassign::{runtime::batch, compile_text, runtime::evaluate::Evaluator, runtime::model::Context};
///
/// let plan = compile_text("demo.rules", "ruleset demo\nstep call_agent\nfallback unassigned\n").plan.unwrap();
/// let context = Context::from_yaml("users:\n  - {id: u-1, email: a@b.c}\n").unwrap();
/// let evaluator = Evaluator::new(&plan, &context);
/// let options = batch::Options { format: batch::OutputFormat::Json, explain: false, input: batch::InputFormat::Native };
/// let input: &[u8] = b"{\"id\":\"1\",\"direction\":\"incoming\",\"status\":\"answered\",\"agent\":\"A@b.c\"}\nnot json\n";
/// let mut output = Vec::new();
/// let summary = batch::run_parallel(&evaluator, input, &mut output, options, 4, |_| {}).unwrap();
/// assert_eq!((summary.calls, summary.unreadable), (1, 1));
/// assert_eq!(String::from_utf8(output).unwrap().lines().count(), 2);
/// ```
pub fn run_parallel<R: BufRead + Send, W: Write>(
    evaluator: &Evaluator<'_>,
    mut input: R,
    output: &mut W,
    options: Options,
    jobs: usize,
    mut progress: impl FnMut(u64),
) -> io::Result<Summary> {
    if jobs <= 1 {
        return run(evaluator, input, output, options, progress);
    }
    super::skip_byte_order_mark(&mut input)?;
    let (free_sender, free) = channel::<Chunk>();
    let (work_sender, work) = channel::<Chunk>();
    let (done_sender, done) = channel::<Chunk>();
    let work = Mutex::new(work);
    for _ in 0..jobs * 2 {
        free_sender
            .send(Chunk::new())
            .expect("the reader has not started");
    }

    thread::scope(|scope| {
        let reader = scope.spawn(move || -> io::Result<()> {
            let mut sequence = 0;
            let mut next_line = 1;
            // Ends when the writer stops handing chunks back.
            while let Ok(mut chunk) = free.recv() {
                if !chunk.fill(&mut input, sequence, next_line)? {
                    break;
                }
                sequence += 1;
                next_line += chunk.lines.len() as u64;
                if work_sender.send(chunk).is_err() {
                    break;
                }
            }
            Ok(())
        });
        for _ in 0..jobs {
            let done_sender = done_sender.clone();
            let work = &work;
            scope.spawn(move || {
                let mut scratch = String::new();
                loop {
                    let next = work.lock().map(|queue| queue.recv());
                    let Ok(Ok(mut chunk)) = next else { break };
                    chunk.evaluate(evaluator, options, &mut scratch);
                    if done_sender.send(chunk).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_sender);

        let written = write_in_order(done, output, free_sender, &mut progress);
        let read = reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let summary = written?;
        read?;
        output.flush()?;
        Ok(summary)
    })
}

/// Writes evaluated chunks in sequence order and hands each back to the
/// reader. Dropping `free` on return (error or not) stops the reader.
fn write_in_order<W: Write>(
    done: Receiver<Chunk>,
    output: &mut W,
    free: std::sync::mpsc::Sender<Chunk>,
    progress: &mut impl FnMut(u64),
) -> io::Result<Summary> {
    let mut summary = Summary::default();
    let mut waiting: BTreeMap<u64, Chunk> = BTreeMap::new();
    let mut next = 0;
    let mut lines = 0u64;
    for chunk in done {
        waiting.insert(chunk.sequence, chunk);
        while let Some(mut chunk) = waiting.remove(&next) {
            if let Some(error) = chunk.failed.take() {
                return Err(error);
            }
            output.write_all(&chunk.output)?;
            summary.merge(&chunk.summary);
            let before = lines;
            lines += chunk.lines.len() as u64;
            if before / 65_536 != lines / 65_536 {
                progress(lines);
            }
            next += 1;
            // The reader may have finished; then the chunk is simply dropped.
            let _ = free.send(chunk);
        }
    }
    Ok(summary)
}
