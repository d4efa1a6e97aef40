//! Source text of a rule file, its byte spans and a line index.
//!
//! Every finding points into a [`Source`] with a [`Span`]; the line index
//! turns the span into the 1-based line and column that JSON and GitHub
//! reports need, without rescanning the file for each finding.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A byte range in a [`Source`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// The first byte.
    pub start: usize,
    /// The byte after the last.
    pub end: usize,
}

impl Span {
    /// The bytes from `start` up to (not including) `end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// How many bytes.
    pub fn len(self) -> usize {
        self.end - self.start
    }

    /// Whether it covers no byte (a position).
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// The same bytes as a range, to slice text with.
    pub fn range(self) -> Range<usize> {
        self.start..self.end
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        (span.start, span.len()).into()
    }
}

/// A value with the span it was written at. The span is left out of
/// equality so that trees parsed from differently laid out text compare equal.
#[derive(Debug, Clone, Copy)]
pub struct Spanned<T> {
    /// The node.
    pub node: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// `node`, written at `span`.
    pub fn new(node: T, span: Span) -> Spanned<T> {
        Spanned { node, span }
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node
    }
}

impl<T: Eq> Eq for Spanned<T> {}

/// The text of one rule file and where it came from.
#[derive(Debug)]
pub struct Source {
    /// What reports call the file: the path as the user gave it.
    pub name: String,
    /// The path on disk, if the text came from a file.
    pub path: Option<PathBuf>,
    /// The whole text.
    pub text: Arc<str>,
    line_starts: Vec<usize>,
    /// The text as reports draw it: control characters (an escape
    /// sequence in a `user "…"` address) replaced by `?`, byte for byte, so
    /// spans still fit and a report cannot restyle the terminal. Made on
    /// the first report that needs it; `None` when the text has none.
    shown: std::sync::OnceLock<Option<Arc<str>>>,
}

impl Source {
    /// A source named `name` (as reports show it) holding `text`.
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Source {
        let text: Arc<str> = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Source {
            name: name.into(),
            path: None,
            text,
            line_starts,
            shown: std::sync::OnceLock::new(),
        }
    }

    /// A source read from `path`, named by it.
    pub fn from_path(path: &Path, text: impl Into<Arc<str>>) -> Source {
        let mut source = Source::new(path.display().to_string(), text);
        source.path = Some(path.to_path_buf());
        source
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let start = self.line_starts[line];
        let column = self.text[start..floor_char_boundary(&self.text, offset)]
            .chars()
            .count();
        (line + 1, column + 1)
    }

    /// The text of a 1-based line, without its line break; `None` past the
    /// last line.
    pub fn line_text(&self, line: usize) -> Option<&str> {
        let start = *self.line_starts.get(line.checked_sub(1)?)?;
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |next| next - 1);
        Some(&self.text[start..end])
    }

    /// The whole lines a span touches, with the line break after them:
    /// what to delete to remove a statement.
    pub(crate) fn line_span(&self, span: Span) -> Span {
        let first = self.line(span.start) - 1;
        let last = self.line(span.end.max(span.start + 1) - 1);
        let start = self.line_starts[first];
        let end = self
            .line_starts
            .get(last)
            .copied()
            .unwrap_or(self.text.len());
        Span::new(start, end)
    }

    /// Byte offset where a 1-based line starts; the end of the text past
    /// the last line.
    pub fn line_start(&self, line: usize) -> usize {
        line.checked_sub(1)
            .and_then(|index| self.line_starts.get(index))
            .copied()
            .unwrap_or(self.text.len())
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        self.line_col(offset).0
    }

    /// The file name without folder and `.rules` extension, which is the
    /// name a ruleset must carry and the name `extends` refers to.
    pub fn stem(&self) -> Option<&str> {
        let path = Path::new(self.path.as_deref().unwrap_or(Path::new(&self.name)));
        path.file_stem().and_then(|stem| stem.to_str())
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The source as miette reads it: the text, named as reports name the file.
impl Source {
    /// [`Source::text`] with every control character but line breaks and
    /// tabs replaced by `?` of the same byte length (a C1 control is two
    /// bytes, `??`).
    fn shown(&self) -> &str {
        let is_hidden = |c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t');
        // Once per file, not per report: 40,000 findings share one scan.
        let shown = self.shown.get_or_init(|| {
            self.text.contains(is_hidden).then(|| {
                self.text
                    .chars()
                    .map(|c| {
                        if is_hidden(c) {
                            "?".repeat(c.len_utf8())
                        } else {
                            c.to_string()
                        }
                    })
                    .collect::<String>()
                    .into()
            })
        });
        shown.as_deref().unwrap_or(&self.text)
    }
}

/// miette reads a span by scanning the text from its start, so 40,000
/// findings in one file took minutes to render. The line index finds the
/// lines around the span right away; miette scans only those, and its
/// positions are moved back to the whole file's.
impl miette::SourceCode for Source {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let first_line = self
            .line(span.offset())
            .saturating_sub(context_lines_before)
            .max(1);
        let last_line = self.line(span.offset() + span.len()) + context_lines_after;
        let start = self.line_start(first_line);
        let end = self.line_start(last_line + 1);
        let Some(offset) = span.offset().checked_sub(start) else {
            return Err(miette::MietteError::OutOfBounds);
        };
        let window = self
            .shown()
            .get(start..end)
            .ok_or(miette::MietteError::OutOfBounds)?;
        let contents = window.read_span(
            &miette::SourceSpan::new(offset.into(), span.len()),
            context_lines_before,
            context_lines_after,
        )?;
        let lines_above = first_line - 1;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            contents.data(),
            miette::SourceSpan::new(
                (contents.span().offset() + start).into(),
                contents.span().len(),
            ),
            contents.line() + lines_above,
            contents.column(),
            contents.line_count() + lines_above,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let source = Source::new("x.rules", "ab\ncdé f\n");
        assert_eq!(source.line_col(0), (1, 1));
        assert_eq!(source.line_col(3), (2, 1));
        // `f` is after a two-byte `é`: column counts characters, not bytes.
        assert_eq!(source.line_col(8), (2, 5));
        assert_eq!(source.line_col(999), (3, 1));
    }

    #[test]
    fn line_text_is_one_line_without_its_break() {
        let source = Source::new("x.rules", "ab\ncd\n");
        assert_eq!(source.line_text(1), Some("ab"));
        assert_eq!(source.line_text(2), Some("cd"));
        assert_eq!(source.line_text(3), Some(""));
        assert_eq!(source.line_text(0), None);
        assert_eq!(source.line_text(4), None);
    }

    #[test]
    fn stem_drops_folder_and_extension() {
        let source = Source::from_path(Path::new("rules/zendesk.rules"), "");
        assert_eq!(source.stem(), Some("zendesk"));
    }
}
