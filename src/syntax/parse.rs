//! Parse: rule text → [`RuleFile`] syntax tree, or syntax findings.
//!
//! pest stops at the first error, so a file is parsed in *chunks*: a chunk
//! starts at every line that begins with a statement keyword (`step`,
//! `disable`, `move`, `fallback`). Those words are reserved and a string
//! cannot span lines, so such a line always starts a statement; a syntax
//! error costs only its own chunk and every broken statement is reported.
//!
//! Parentheses are the only recursion in the grammar. Their depth is
//! measured before pest sees a chunk (pest recurses on the machine stack,
//! see pest-parser/pest#1129), and a chunk nested deeper than
//! [`MAX_NESTING`] gets a finding instead of a parse.

use std::sync::Arc;

use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;
use pest::Parser as _;

use crate::diagnostics::finding::Finding;
use crate::diagnostics::kind::FindingKind;
use crate::syntax::ast::*;
use crate::syntax::source::{Source, Span, Spanned};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/callassign.pest"]
struct Grammar;

/// How deeply parentheses may nest in a condition.
pub const MAX_NESTING: usize = 32;

/// What parsing a file gives: the tree when the header parsed, with the
/// statements that parsed, and a finding for every chunk that did not.
#[derive(Debug)]
pub struct Parsed {
    pub file: Option<RuleFile>,
    pub findings: Vec<Finding>,
}

/// Parses one rule file.
///
/// ```
/// use std::sync::Arc;
/// use callassign::syntax::{parse::parse, source::Source};
///
/// let source = Arc::new(Source::new("demo.rules", "ruleset demo\nstep call_agent\nfallback unassigned\n"));
/// let parsed = parse(&source);
/// assert!(parsed.findings.is_empty());
/// assert_eq!(parsed.file.unwrap().statements.len(), 2);
/// ```
pub fn parse(source: &Arc<Source>) -> Parsed {
    let text: &str = &source.text;
    let starts = chunk_starts(text);
    let mut findings = Vec::new();
    let mut file: Option<RuleFile> = None;
    let mut statements = Vec::new();

    for (index, &start) in starts.iter().enumerate() {
        let end = starts.get(index + 1).copied().unwrap_or(text.len());
        let chunk = &text[start..end];
        if let Some(offset) = too_deep_at(chunk) {
            let at = start + offset;
            findings.push(Finding::new(
                FindingKind::NestingTooDeep { limit: MAX_NESTING },
                source,
                Span::new(at, at + 1),
            ));
            continue;
        }
        let rule = if index == 0 {
            Rule::file
        } else {
            Rule::statements
        };
        match Grammar::parse(rule, chunk) {
            Ok(mut pairs) => {
                let root = pairs.next().expect("a successful parse has a root pair");
                let lowering = Lowering {
                    source,
                    offset: start,
                    findings: &mut findings,
                };
                if index == 0 {
                    let (name, extends, header_span, chunk_statements) = lowering.file(root);
                    file = Some(RuleFile {
                        name,
                        extends,
                        header_span,
                        statements: Vec::new(),
                        comments: Vec::new(),
                    });
                    statements.extend(chunk_statements);
                } else {
                    statements.extend(lowering.statements(root));
                }
            }
            Err(error) => findings.push(syntax_finding(source, start, end, &error)),
        }
    }

    let file = file.map(|mut file| {
        file.statements = statements;
        file.comments = comments(text);
        file
    });
    Parsed { file, findings }
}

/// Byte offsets where chunks start: 0, then every line whose first word is
/// a statement keyword.
fn chunk_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start_matches([' ', '\t']);
        let word_end = trimmed
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(trimmed.len());
        if line_start > 0
            && matches!(
                &trimmed[..word_end],
                "step" | "disable" | "move" | "fallback"
            )
        {
            starts.push(line_start + (line.len() - trimmed.len()));
        }
        line_start += line.len();
    }
    starts
}

/// Where parentheses or brackets first nest deeper than [`MAX_NESTING`],
/// ignoring strings and comments.
fn too_deep_at(chunk: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut in_comment = false;
    let mut escaped = false;
    for (offset, byte) in chunk.bytes().enumerate() {
        if in_comment {
            in_comment = byte != b'\n';
            continue;
        }
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' | b'\n' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'#' => in_comment = true,
            b'"' => in_string = true,
            b'(' | b'[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(offset);
                }
            }
            b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Every `#` comment outside a string.
fn comments(text: &str) -> Vec<Comment> {
    let mut comments = Vec::new();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let mut in_string = false;
        let mut escaped = false;
        for (offset, byte) in line.bytes().enumerate() {
            if in_string {
                match byte {
                    _ if escaped => escaped = false,
                    b'\\' => escaped = true,
                    b'"' => in_string = false,
                    _ => {}
                }
            } else if byte == b'"' {
                in_string = true;
            } else if byte == b'#' {
                let body = line[offset + 1..].trim_end_matches(['\n', '\r']);
                let start = line_start + offset;
                comments.push(Comment {
                    text: body.to_string(),
                    span: Span::new(start, start + 1 + body.len()),
                });
                break;
            }
        }
        line_start += line.len();
    }
    comments
}

fn syntax_finding(
    source: &Arc<Source>,
    chunk_start: usize,
    chunk_end: usize,
    error: &pest::error::Error<Rule>,
) -> Finding {
    let local = match error.location {
        InputLocation::Pos(pos) => pos,
        InputLocation::Span((start, _)) => start,
    };
    let mut at = chunk_start + local;
    // An error at the end of a chunk is about whatever comes next in the file.
    if next_token(&source.text, at) >= chunk_end {
        at = next_token(&source.text, at);
    }
    let found = describe_found(&source.text, at);
    let expected = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => expected_words(positives),
        ErrorVariant::CustomError { message } => message.clone(),
    };
    let token_end = token_end(&source.text, at);
    if let Some(finding) = string_problem(source, at) {
        return finding;
    }
    let help = syntax_help(&source.text[at..token_end], &expected);
    Finding::new(
        FindingKind::Syntax {
            expected,
            found,
            help,
        },
        source,
        Span::new(at, token_end),
    )
}

/// A string that fails to parse is either not closed on its line or uses
/// an escape the language does not have; say which, at the spot.
fn string_problem(source: &Arc<Source>, at: usize) -> Option<Finding> {
    let text: &str = &source.text;
    if !text[at..].starts_with('"') {
        return None;
    }
    let line_end = text[at..].find('\n').map_or(text.len(), |end| at + end);
    let mut chars = text[at + 1..line_end].char_indices();
    while let Some((offset, c)) = chars.next() {
        match c {
            '"' => return None,
            '\\' => match chars.next() {
                Some((_, '"' | '\\')) => {}
                Some((escaped_at, escaped)) => {
                    let start = at + 1 + offset;
                    let end = at + 1 + escaped_at + escaped.len_utf8();
                    return Some(Finding::new(
                        FindingKind::UnsupportedEscape { escaped },
                        source,
                        Span::new(start, end),
                    ));
                }
                None => break,
            },
            _ => {}
        }
    }
    Some(Finding::new(
        FindingKind::UnterminatedString,
        source,
        Span::new(at, line_end),
    ))
}

/// Skips white space and comments.
fn next_token(text: &str, mut at: usize) -> usize {
    loop {
        let rest = &text[at..];
        let trimmed = rest.trim_start();
        at += rest.len() - trimmed.len();
        if trimmed.starts_with('#') {
            at += trimmed.find('\n').unwrap_or(trimmed.len());
        } else {
            return at;
        }
    }
}

fn token_end(text: &str, at: usize) -> usize {
    let rest = &text[at..];
    let Some(first) = rest.chars().next() else {
        return at;
    };
    if first.is_alphanumeric() || first == '_' {
        at + rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '.'))
            .unwrap_or(rest.len())
    } else {
        at + first.len_utf8()
    }
}

fn describe_found(text: &str, at: usize) -> String {
    let end = token_end(text, at);
    if at >= text.len() {
        "end of file".to_string()
    } else if text[at..].starts_with('\n') || text[at..].starts_with("\r\n") {
        "end of line".to_string()
    } else {
        format!("`{}`", &text[at..end])
    }
}

fn syntax_help(found: &str, expected: &str) -> Option<String> {
    match found {
        "&&" | "&" => Some("write `and` to require both conditions".into()),
        "||" | "|" => Some("write `or` to accept either condition".into()),
        "!" => Some("write `not` before a condition, or `!=` to compare".into()),
        "'" => Some("strings are written in double quotes: `\"vip\"`".into()),
        "@" => Some("e-mail addresses are written in double quotes: `agent == \"bob@acme.com\"`".into()),
        "." => Some("numbers are whole: `duration` counts seconds (`duration > 30`)".into()),
        _ if expected == "a string in double quotes" => {
            Some("a fixed user is named by e-mail in double quotes: `user \"ops@acme.com\"`".into())
        }
        _ if expected.contains("a field or value") || expected.contains("a condition") => Some(
            "a condition compares a field with a value: `status == missed`, `\"vip\" in tags`, `duration > 30`".into(),
        ),
        _ if expected.contains("an operator") => {
            Some("compare with `==`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `not in` or `starts_with`".into())
        }
        _ if expected.contains("`step`") => Some(
            "each statement starts with `step`, `disable`, `move` or `fallback`; a condition continues with `and` or `or`".into(),
        ),
        _ => None,
    }
}

/// "a, b or c" from pest's expected rules, each as a user would name it.
fn expected_words(rules: &[Rule]) -> String {
    let mut words: Vec<&str> = rules.iter().filter_map(|rule| rule_word(*rule)).collect();
    words.sort_unstable();
    words.dedup();
    match words.len() {
        0 => "something else".to_string(),
        1 => words[0].to_string(),
        n => format!("{} or {}", words[..n - 1].join(", "), words[n - 1]),
    }
}

fn rule_word(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::header | Rule::kw_ruleset => "`ruleset NAME`",
        Rule::kw_extends => "`extends`",
        Rule::kw_step => "`step`",
        Rule::kw_disable => "`disable`",
        Rule::kw_move => "`move`",
        Rule::kw_fallback => "`fallback`",
        Rule::kw_when => "`when`",
        Rule::kw_unless => "`unless`",
        Rule::guard => "`when` or `unless`",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::kw_not => "`not`",
        Rule::negation => "a condition",
        Rule::kw_in => "`in`",
        Rule::kw_null => "`null`",
        Rule::kw_user | Rule::user_ref => "`user \"email\"`",
        Rule::kw_before => "`before`",
        Rule::kw_after => "`after`",
        Rule::kw_first => "`first`",
        Rule::kw_last => "`last`",
        Rule::placement => "`before`, `after`, `first` or `last`",
        Rule::name => "a name",
        Rule::extends_target => "the name of a rule file",
        Rule::path => "a field or value",
        Rule::string | Rule::string_text => "a string in double quotes",
        Rule::integer => "a number",
        Rule::list | Rule::open_bracket => "a list `[…]`",
        Rule::close_bracket => "`]`",
        Rule::open_paren => "`(`",
        Rule::close_paren => "`)`",
        Rule::operator
        | Rule::eq
        | Rule::ne
        | Rule::lt
        | Rule::le
        | Rule::gt
        | Rule::ge
        | Rule::not_in
        | Rule::starts_with
        | Rule::single_eq => "an operator (`==`, `!=`, `<`, `in`, …)",
        Rule::condition | Rule::disjunction | Rule::conjunction | Rule::comparison => "a condition",
        Rule::step_stmt | Rule::disable_stmt | Rule::move_stmt | Rule::fallback_stmt => {
            "a statement (`step`, `disable`, `move`, `fallback`)"
        }
        Rule::EOI => "end of file",
        _ => return None,
    })
}

/// Turns pest pairs into owned syntax nodes with file-relative spans.
struct Lowering<'a> {
    source: &'a Arc<Source>,
    offset: usize,
    findings: &'a mut Vec<Finding>,
}

type Header = (
    Spanned<String>,
    Option<Spanned<String>>,
    Span,
    Vec<Statement>,
);

impl Lowering<'_> {
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let span = pair.as_span();
        Span::new(self.offset + span.start(), self.offset + span.end())
    }

    /// The span of a pair up to its last token. pest's own span of
    /// `a ~ b?` or `a ~ b*` also covers the white space and comments skipped
    /// before an absent `b`, which belong to whatever comes next.
    fn span_to_last_token(&self, pair: &Pair<'_, Rule>) -> Span {
        let start = self.span(pair).start;
        let mut last = pair.clone();
        // A string's last inner pair is its text, without the closing quote.
        while last.as_rule() != Rule::string {
            match last.clone().into_inner().last() {
                Some(inner) => last = inner,
                None => break,
            }
        }
        Span::new(start, self.span(&last).end)
    }

    fn spanned_str(&self, pair: &Pair<'_, Rule>) -> Spanned<String> {
        Spanned::new(pair.as_str().to_string(), self.span(pair))
    }

    fn file(mut self, root: Pair<'_, Rule>) -> Header {
        let mut inner = root.into_inner();
        let header = inner.next().expect("grammar: file starts with a header");
        let header_span = self.span_to_last_token(&header);
        let mut names = header
            .into_inner()
            .filter(|pair| matches!(pair.as_rule(), Rule::name | Rule::extends_target));
        let name = self.spanned_str(&names.next().expect("grammar: header has a name"));
        let extends = names.next().map(|pair| self.spanned_str(&pair));
        let statements = inner
            .filter(|pair| pair.as_rule() != Rule::EOI)
            .map(|pair| self.statement(pair))
            .collect();
        (name, extends, header_span, statements)
    }

    fn statements(mut self, root: Pair<'_, Rule>) -> Vec<Statement> {
        root.into_inner()
            .filter(|pair| pair.as_rule() != Rule::EOI)
            .map(|pair| self.statement(pair))
            .collect()
    }

    fn statement(&mut self, pair: Pair<'_, Rule>) -> Statement {
        let span = self.span_to_last_token(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner().skip(1); // the keyword
        let kind = match rule {
            Rule::step_stmt => {
                let step = self.step_name(inner.next().expect("grammar: step names a step"));
                let guard = inner.next().map(|guard| self.guard(guard));
                StatementKind::Step { step, guard }
            }
            Rule::disable_stmt => StatementKind::Disable {
                step: self.step_name(inner.next().expect("grammar: disable names a step")),
            },
            Rule::move_stmt => {
                let step = self.step_name(inner.next().expect("grammar: move names a step"));
                let placement =
                    self.placement(inner.next().expect("grammar: move has a placement"));
                StatementKind::Move { step, placement }
            }
            Rule::fallback_stmt => StatementKind::Fallback {
                target: self.step_name(inner.next().expect("grammar: fallback names a target")),
            },
            other => unreachable!("grammar: {other:?} is not a statement"),
        };
        Statement { kind, span }
    }

    fn step_name(&mut self, pair: Pair<'_, Rule>) -> Spanned<StepName> {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::user_ref => {
                let string = pair
                    .into_inner()
                    .nth(1)
                    .expect("grammar: user has a string");
                let text = string.into_inner().next().map_or("", |text| text.as_str());
                Spanned::new(StepName::User(unescape(text)), span)
            }
            _ => Spanned::new(StepName::Word(pair.as_str().to_string()), span),
        }
    }

    fn placement(&mut self, pair: Pair<'_, Rule>) -> Spanned<Placement> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let keyword = inner
            .next()
            .expect("grammar: placement starts with a keyword");
        let mut anchor = || {
            let target = inner.next().expect("grammar: before/after has an anchor");
            if target.as_rule() == Rule::kw_fallback {
                Anchor::Fallback(self.span(&target))
            } else {
                Anchor::Step(self.step_name(target))
            }
        };
        let placement = match keyword.as_rule() {
            Rule::kw_before => Placement::Before(anchor()),
            Rule::kw_after => Placement::After(anchor()),
            Rule::kw_first => Placement::First,
            _ => Placement::Last,
        };
        Spanned::new(placement, span)
    }

    fn guard(&mut self, pair: Pair<'_, Rule>) -> Guard {
        let mut inner = pair.into_inner();
        let kind = match inner.next().expect("grammar: guard keyword").as_rule() {
            Rule::kw_when => GuardKind::When,
            _ => GuardKind::Unless,
        };
        let condition = inner.next().expect("grammar: guard has a condition");
        let disjunction = condition
            .into_inner()
            .next()
            .expect("grammar: condition is a disjunction");
        Guard {
            kind,
            condition: self.expr(disjunction),
        }
    }

    fn expr(&mut self, pair: Pair<'_, Rule>) -> Spanned<Expr> {
        let span = self.span_to_last_token(&pair);
        match pair.as_rule() {
            Rule::disjunction | Rule::conjunction => {
                let is_or = pair.as_rule() == Rule::disjunction;
                let mut parts: Vec<Spanned<Expr>> = pair
                    .into_inner()
                    .filter(|p| !matches!(p.as_rule(), Rule::kw_or | Rule::kw_and))
                    .map(|p| self.expr(p))
                    .collect();
                if parts.len() == 1 {
                    parts.pop().expect("one part")
                } else if is_or {
                    Spanned::new(Expr::Or(parts), span)
                } else {
                    Spanned::new(Expr::And(parts), span)
                }
            }
            Rule::negation => {
                let mut nots = 0usize;
                let mut first_not: Option<Span> = None;
                let mut body = None;
                for part in pair.into_inner() {
                    match part.as_rule() {
                        Rule::kw_not => {
                            nots += 1;
                            first_not.get_or_insert(self.span(&part));
                        }
                        Rule::open_paren | Rule::close_paren => {}
                        Rule::disjunction => {
                            let inner = self.expr(part);
                            let group_span = inner.span;
                            body = Some(Spanned::new(Expr::Group(Box::new(inner)), group_span));
                        }
                        _ => body = Some(self.expr(part)),
                    }
                }
                let mut body = body.expect("grammar: negation has a body");
                if let (Some(open), Expr::Group(_)) = (self.paren_start(span, nots), &body.node) {
                    body.span = Span::new(open, span.end);
                }
                // `not not x` is `x`: only the parity is kept, so a long run
                // of `not` cannot build a deep tree.
                if nots % 2 == 1 {
                    Spanned::new(Expr::Not(Box::new(body)), span)
                } else {
                    body
                }
            }
            Rule::comparison => {
                let mut inner = pair.into_inner();
                let left = self.operand(inner.next().expect("grammar: comparison has a left side"));
                let op_pair = inner.next().expect("grammar: comparison has an operator");
                let op_span = self.span(&op_pair);
                let op = operator(&op_pair).unwrap_or_else(|| {
                    // `=`: reported here, then read as the `==` it surely
                    // meant, so the rest of the comparison is checked too.
                    self.findings.push(
                        Finding::new(FindingKind::SingleEquals, self.source, op_span).suggest(
                            op_span,
                            "==",
                            "replace with `==`",
                        ),
                    );
                    Operator::Eq
                });
                let op = Spanned::new(op, op_span);
                let right =
                    self.operand(inner.next().expect("grammar: comparison has a right side"));
                Spanned::new(Expr::Compare { left, op, right }, span)
            }
            other => unreachable!("grammar: {other:?} is not an expression"),
        }
    }

    /// Where the `(` of a parenthesised negation body starts: after the
    /// `not`s and white space.
    fn paren_start(&self, span: Span, _nots: usize) -> Option<usize> {
        let text = &self.source.text[span.range()];
        let mut rest = text;
        loop {
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix("not") {
                if after.starts_with(|c: char| c.is_whitespace() || c == '(') {
                    rest = after;
                    continue;
                }
            }
            break;
        }
        rest.starts_with('(').then(|| span.end - rest.len())
    }

    fn operand(&mut self, pair: Pair<'_, Rule>) -> Spanned<Operand> {
        let span = self.span(&pair);
        let operand = match pair.as_rule() {
            Rule::path => Operand::Path(pair.as_str().to_string()),
            Rule::string => Operand::Str(unescape(
                pair.into_inner().next().map_or("", |text| text.as_str()),
            )),
            Rule::kw_null => Operand::Null,
            Rule::integer => match pair.as_str().parse::<i64>() {
                Ok(value) => Operand::Int(value),
                Err(_) => {
                    self.findings.push(Finding::new(
                        FindingKind::NumberTooLarge {
                            written: pair.as_str().to_string(),
                        },
                        self.source,
                        span,
                    ));
                    Operand::Int(0)
                }
            },
            Rule::list => Operand::List(
                pair.into_inner()
                    .filter(|p| !matches!(p.as_rule(), Rule::open_bracket | Rule::close_bracket))
                    .map(|p| self.operand(p))
                    .collect(),
            ),
            other => unreachable!("grammar: {other:?} is not an operand"),
        };
        Spanned::new(operand, span)
    }
}

/// The operator of a comparison; `None` for `=`, which the grammar
/// accepts only so that it can be reported with its fix.
fn operator(pair: &Pair<'_, Rule>) -> Option<Operator> {
    Some(
        match pair.clone().into_inner().next().map(|p| p.as_rule()) {
            Some(Rule::eq) => Operator::Eq,
            Some(Rule::ne) => Operator::Ne,
            Some(Rule::lt) => Operator::Lt,
            Some(Rule::le) => Operator::Le,
            Some(Rule::gt) => Operator::Gt,
            Some(Rule::ge) => Operator::Ge,
            Some(Rule::not_in) => Operator::NotIn,
            Some(Rule::kw_in) => Operator::In,
            Some(Rule::starts_with) => Operator::StartsWith,
            _ => return None,
        },
    )
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Parsed {
        parse(&Arc::new(Source::new("t.rules", text)))
    }

    #[test]
    fn header_and_statements() {
        let parsed = parse_text("ruleset pipedrive extends default\nmove contact_owner before last_step_agent\nstep user \"ops@acme.com\" when \"vip\" in tags\nmove user \"ops@acme.com\" first\n");
        assert!(parsed.findings.is_empty(), "{:?}", parsed.findings);
        let file = parsed.file.unwrap();
        assert_eq!(file.name.node, "pipedrive");
        assert_eq!(file.extends.unwrap().node, "default");
        assert_eq!(file.statements.len(), 3);
    }

    #[test]
    fn conditions_may_wrap_over_lines() {
        let parsed = parse_text("ruleset a\nstep call_agent unless direction == incoming\n   and status in [missed, voicemail]\nfallback integration\n");
        assert!(parsed.findings.is_empty(), "{:?}", parsed.findings);
        assert_eq!(parsed.file.unwrap().statements.len(), 2);
    }

    #[test]
    fn every_broken_statement_is_reported() {
        let parsed = parse_text("ruleset a\nstep call_agent when\nstep favorite_agent when status ==\nfallback integration\n");
        assert_eq!(parsed.findings.len(), 2, "{:?}", parsed.findings);
        // The statements that did parse are kept.
        assert_eq!(parsed.file.unwrap().statements.len(), 1);
    }

    #[test]
    fn even_runs_of_not_cancel_out() {
        let text = format!(
            "ruleset a\nstep call_agent when {} status == missed\n",
            "not ".repeat(10_000)
        );
        let parsed = parse_text(&text);
        let file = parsed.file.unwrap();
        let StatementKind::Step {
            guard: Some(guard), ..
        } = &file.statements[0].kind
        else {
            panic!()
        };
        assert!(matches!(guard.condition.node, Expr::Compare { .. }));
    }

    #[test]
    fn deep_nesting_is_a_finding_not_a_crash() {
        let text = format!(
            "ruleset a\nstep call_agent when {}status == missed{}\nfallback integration\n",
            "(".repeat(100_000),
            ")".repeat(100_000)
        );
        let parsed = parse_text(&text);
        assert_eq!(parsed.findings.len(), 1);
        assert_eq!(
            parsed.findings[0].code,
            crate::diagnostics::finding::Code::NestingTooDeep
        );
        assert_eq!(parsed.file.unwrap().statements.len(), 1);
    }

    #[test]
    fn statement_spans_end_at_their_last_token() {
        let text = "ruleset a # name\n\nstep call_agent # why\n\nstep favorite_agent when tags == [] # when\nfallback integration\n";
        let parsed = parse_text(text);
        let file = parsed.file.unwrap();
        assert_eq!(&text[file.header_span.range()], "ruleset a");
        let spans: Vec<&str> = file
            .statements
            .iter()
            .map(|statement| &text[statement.span.range()])
            .collect();
        assert_eq!(
            spans,
            [
                "step call_agent",
                "step favorite_agent when tags == []",
                "fallback integration"
            ]
        );
    }

    #[test]
    fn comments_outside_strings_are_collected() {
        let parsed = parse_text("# top\nruleset a # name\nstep user \"a#b@x.com\" # who\n");
        let texts: Vec<_> = parsed
            .file
            .unwrap()
            .comments
            .into_iter()
            .map(|c| c.text)
            .collect();
        assert_eq!(texts, [" top", " name", " who"]);
    }
}
