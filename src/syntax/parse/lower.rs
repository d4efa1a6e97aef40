//! Lowering: pest pairs → owned syntax nodes with file-relative spans.
//! Problems the grammar lets through so they can be named (`=`, numbers
//! too large for 64 bits) are reported here.

use std::sync::Arc;

use pest::iterators::Pair;

use crate::diagnostics::finding::Finding;
use crate::diagnostics::kind::FindingKind;
use crate::diagnostics::source::{Source, Span, Spanned};
use crate::syntax::ast::*;

use super::Rule;

/// Turns pest pairs into owned syntax nodes with file-relative spans.
pub(super) struct Lowering<'a> {
    pub(super) source: &'a Arc<Source>,
    pub(super) offset: usize,
    pub(super) findings: &'a mut Vec<Finding>,
}

pub(super) type Header = (
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

    pub(super) fn file(mut self, root: Pair<'_, Rule>) -> Header {
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

    pub(super) fn statements(mut self, root: Pair<'_, Rule>) -> Vec<Statement> {
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
