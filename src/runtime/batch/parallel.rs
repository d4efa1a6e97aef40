//! `--jobs N`: a batch evaluated on several threads, written in input order.
//!
//! Each of `N` workers takes the next block of whole lines from the input
//! (under a lock: reading is the only step done one at a time, and it is a
//! few large copies), splits and evaluates the block's lines into the
//! block's own output buffer, and hands the block to the calling thread,
//! which writes the buffers in block order. A block is read and evaluated
//! on one thread, so its bytes stay in that core's cache: with a reader
//! thread of its own, every byte went from one core to another, and two
//! threads gained only half again on one. A fixed set of blocks circulates
//! (worker → writer → worker), so memory stays bounded however long the
//! batch and however far one worker falls behind.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Mutex;
use std::thread;

use super::lines::{bounded, has_more};
use super::{process_line, run, Options, Summary, MAX_LINE_BYTES};
use crate::runtime::evaluate::Engine;

/// A block ends at the first line break past this many bytes: large
/// enough that handing a block between threads is rare next to evaluating
/// it, small enough to keep memory low.
const BLOCK_BYTES: usize = 512 * 1024;

/// A run of consecutive input lines and, once evaluated, their output.
struct Block {
    sequence: u64,
    /// The line number of the first line.
    first_line: u64,
    /// The lines, each with its line break; the last one may have none
    /// (the end of the input).
    input: Vec<u8>,
    /// How many lines `input` holds.
    lines: u64,
    /// The lines longer than [`MAX_LINE_BYTES`] that did not fit in one
    /// read buffer, by their index in the block, in order: their bytes are
    /// dropped as they are read, and an empty line stands in for each.
    too_long: Vec<u64>,
    output: Vec<u8>,
    summary: Summary,
    /// Evaluation could not write its output (it never should: the output
    /// is memory).
    failed: Option<io::Error>,
}

impl Block {
    fn new() -> Block {
        Block {
            sequence: 0,
            first_line: 0,
            input: Vec::new(),
            lines: 0,
            too_long: Vec::new(),
            output: Vec::new(),
            summary: Summary::default(),
            failed: None,
        }
    }

    /// Hands `visit` each line's number and bytes, as [`super::for_each_line`]
    /// does: the same `\r` and length rules.
    fn for_each_line(
        &self,
        mut visit: impl FnMut(u64, Option<&[u8]>) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut too_long = self.too_long.iter().copied().peekable();
        let mut start = 0;
        for index in 0..self.lines {
            let rest = self.input.get(start..).unwrap_or_default();
            let (line, ended_by_break) = match memchr::memchr(b'\n', rest) {
                Some(at) => (&rest[..at], true),
                None => (rest, false),
            };
            start += line.len() + 1;
            let line = if too_long.next_if_eq(&index).is_some() {
                None
            } else {
                bounded(line, ended_by_break)
            };
            visit(self.first_line + index, line)?;
        }
        Ok(())
    }

    fn evaluate(&mut self, evaluator: &Engine, options: Options, scratch: &mut String) {
        let mut output = std::mem::take(&mut self.output);
        let mut summary = std::mem::take(&mut self.summary);
        let evaluated = self.for_each_line(|line_number, line| {
            process_line(
                evaluator,
                line_number,
                line,
                &mut output,
                options,
                scratch,
                &mut summary,
                &mut (),
            )
        });
        self.output = output;
        self.summary = summary;
        self.failed = evaluated.err();
    }
}

/// The input, shared by the workers: each takes the next block in turn.
struct Reader<R> {
    input: R,
    sequence: u64,
    next_line: u64,
    /// A read failed: every worker stops, and the batch returns the error.
    failed: Option<io::Error>,
}

impl<R: BufRead> Reader<R> {
    /// A reader at the first line of `input`.
    fn new(input: R) -> Reader<R> {
        Reader {
            input,
            sequence: 0,
            next_line: 1,
            failed: None,
        }
    }

    /// Fills `block` with the next lines; false at the end of the input
    /// or after a read error. A read that fails keeps the error in
    /// `failed`, and the block the whole lines read before it: they are
    /// evaluated and written, as [`run`] writes every line read before an
    /// error (the line cut by the error is not one).
    fn fill(&mut self, block: &mut Block) -> bool {
        if self.failed.is_some() {
            return false;
        }
        block.input.clear();
        block.too_long.clear();
        block.output.clear();
        block.summary = Summary::default();
        block.failed = None;
        block.lines = 0;
        if let Err(error) = read_lines(&mut self.input, block) {
            self.failed = Some(error);
        }
        if block.lines == 0 {
            return false;
        }
        block.sequence = self.sequence;
        block.first_line = self.next_line;
        self.sequence += 1;
        self.next_line += block.lines;
        true
    }
}

/// Reads the next lines into `block`: whole lines up to [`BLOCK_BYTES`],
/// each line's bytes dropped once it is longer than any line kept.
fn read_lines<R: BufRead>(input: &mut R, block: &mut Block) -> io::Result<()> {
    // Where the line being read starts in `block.input`.
    let mut line_start = 0;
    // The line being read is too long: its bytes are skipped.
    let mut dropping = false;
    loop {
        let within_a_line = dropping || line_start < block.input.len();
        if block.input.len() >= BLOCK_BYTES && !within_a_line {
            return Ok(());
        }
        if !has_more(input)? {
            break;
        }
        // Filled by `has_more`: this hands the buffer over without reading.
        let available = input.fill_buf()?;
        if dropping {
            match memchr::memchr(b'\n', available) {
                Some(at) => {
                    block.too_long.push(block.lines);
                    block.input.push(b'\n');
                    block.lines += 1;
                    line_start = block.input.len();
                    dropping = false;
                    input.consume(at + 1);
                }
                None => {
                    let length = available.len();
                    input.consume(length);
                }
            }
            continue;
        }
        // Whole lines up to the block's size, or the rest of one line.
        let room = BLOCK_BYTES.saturating_sub(block.input.len()).max(1);
        let window = &available[..available.len().min(room)];
        let taken = match memchr::memrchr(b'\n', window) {
            Some(at) => at + 1,
            // A line longer than the room: up to its end, or a line's
            // worth of it at a time (the input may be one huge buffer).
            None => match memchr::memchr(b'\n', available) {
                Some(at) if at <= MAX_LINE_BYTES + 1 => at + 1,
                _ => available.len().min(MAX_LINE_BYTES + 2),
            },
        };
        let taken_bytes = &available[..taken];
        let before = block.input.len();
        block.input.extend_from_slice(taken_bytes);
        let breaks = memchr::memchr_iter(b'\n', taken_bytes).count() as u64;
        block.lines += breaks;
        if let Some(last) = memchr::memrchr(b'\n', taken_bytes) {
            line_start = before + last + 1;
        }
        input.consume(taken);
        // Kept only while it may still be a line callassign reads
        // (one more byte for a `\r` before the line break).
        if block.input.len() - line_start > MAX_LINE_BYTES + 1 {
            block.input.truncate(line_start);
            dropping = true;
        }
    }
    // The input ended inside a line: it is the last line.
    if dropping {
        block.too_long.push(block.lines);
        block.lines += 1;
    } else if line_start < block.input.len() {
        block.lines += 1;
    }
    Ok(())
}

/// Like [`run`], evaluating on `jobs` threads; the output is the same,
/// byte for byte. `jobs` of 0 or 1 is [`run`] itself.
///
/// ```
/// use callassign::{runtime::batch, compile_text, runtime::evaluate::Engine, model::Context};
///
/// let plan = compile_text("demo.rules", "ruleset demo\nstep call_agent\nfallback unassigned\n").plan.unwrap();
/// let context = Context::from_yaml("users:\n  - {id: u-1, email: a@b.c}\n").unwrap();
/// let evaluator = Engine::new(plan.clone(), context.clone());
/// let options = batch::Options { format: batch::OutputFormat::Json, explain: false, input: batch::InputFormat::Native };
/// let input: &[u8] = b"{\"id\":\"1\",\"direction\":\"incoming\",\"status\":\"answered\",\"agent\":\"A@b.c\"}\nnot json\n";
/// let mut output = Vec::new();
/// let summary = batch::run_parallel(&evaluator, input, &mut output, options, 4, |_| {}).unwrap();
/// assert_eq!((summary.calls, summary.unreadable), (1, 1));
/// assert_eq!(String::from_utf8(output).unwrap().lines().count(), 2);
/// ```
pub fn run_parallel<R: BufRead + Send, W: Write>(
    evaluator: &Engine,
    mut input: R,
    output: &mut W,
    options: Options,
    jobs: usize,
    mut progress: impl FnMut(u64),
) -> io::Result<Summary> {
    if jobs <= 1 {
        return run(evaluator, input, output, options, &mut (), progress);
    }
    super::skip_byte_order_mark(&mut input)?;
    let reader = Mutex::new(Reader::new(input));
    let (free_sender, free) = channel::<Block>();
    let (done_sender, done) = channel::<Block>();
    let free = Mutex::new(free);
    for _ in 0..jobs * 2 {
        free_sender
            .send(Block::new())
            .expect("the receiver is alive");
    }

    thread::scope(|scope| {
        for _ in 0..jobs {
            let done_sender = done_sender.clone();
            let (reader, free) = (&reader, &free);
            scope.spawn(move || {
                let mut scratch = String::new();
                loop {
                    // Ends when the writer stops handing blocks back.
                    let Ok(Ok(mut block)) = free.lock().map(|free| free.recv()) else {
                        break;
                    };
                    let Ok(mut reader) = reader.lock() else { break };
                    if !reader.fill(&mut block) {
                        break;
                    }
                    drop(reader);
                    block.evaluate(evaluator, options, &mut scratch);
                    if done_sender.send(block).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_sender);

        let written = write_in_order(done, output, free_sender, &mut progress);
        let summary = written?;
        let read_failure = reader
            .lock()
            .map_or(None, |mut reader| reader.failed.take());
        if let Some(error) = read_failure {
            return Err(error);
        }
        output.flush()?;
        Ok(summary)
    })
}

/// Writes evaluated blocks in sequence order and hands each back to the
/// workers. Dropping `free` on return (error or not) stops them.
fn write_in_order<W: Write>(
    done: Receiver<Block>,
    output: &mut W,
    free: Sender<Block>,
    progress: &mut impl FnMut(u64),
) -> io::Result<Summary> {
    let mut summary = Summary::default();
    let mut waiting: BTreeMap<u64, Block> = BTreeMap::new();
    let mut next = 0;
    let mut lines = 0u64;
    for block in done {
        waiting.insert(block.sequence, block);
        while let Some(mut block) = waiting.remove(&next) {
            if let Some(error) = block.failed.take() {
                return Err(error);
            }
            output.write_all(&block.output)?;
            summary.merge(&block.summary);
            let before = lines;
            lines += block.lines;
            if before / 65_536 != lines / 65_536 {
                progress(lines);
            }
            next += 1;
            // The workers may have finished; then the block is simply dropped.
            let _ = free.send(block);
        }
    }
    Ok(summary)
}

/// Every line of `input` with its number, as the workers see them, block
/// after block (for tests: the blocks must hold the lines [`run`] reads).
#[cfg(test)]
pub(super) fn lines_of_blocks<R: BufRead>(input: R) -> Vec<(u64, Option<Vec<u8>>)> {
    let mut reader = Reader::new(input);
    let mut block = Block::new();
    let mut lines = Vec::new();
    while reader.fill(&mut block) {
        assert!(block.input.len() < BLOCK_BYTES + 2 * MAX_LINE_BYTES + 4);
        block
            .for_each_line(|number, line| {
                lines.push((number, line.map(<[u8]>::to_vec)));
                Ok(())
            })
            .unwrap();
    }
    assert!(reader.failed.is_none());
    lines
}
