//! The syntax tree of a rule file, as written.
//!
//! `parse.rs` builds it from pest pairs; every node keeps the span it was
//! written at (left out of equality, see [`Spanned`]). Names are still plain
//! strings here: `check.rs` decides which step kinds, fields and values they
//! mean.

use crate::diagnostics::source::{Span, Spanned};

/// One parsed rule file.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleFile {
    pub name: Spanned<String>,
    pub extends: Option<Spanned<String>>,
    pub header_span: Span,
    pub statements: Vec<Statement>,
    /// Comments, in file order; the formatter puts them back in place.
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone)]
pub struct Statement {
    pub kind: StatementKind,
    pub span: Span,
}

// Spans are left out of equality (see [`Spanned`]), so that a file and its
// reformatted text compare equal.
impl PartialEq for Statement {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum StatementKind {
    /// `step KIND [when|unless CONDITION]`
    Step {
        step: Spanned<StepName>,
        guard: Option<Guard>,
    },
    /// `disable KIND`
    Disable { step: Spanned<StepName> },
    /// `move KIND before|after KIND`, `move KIND first|last`
    Move {
        step: Spanned<StepName>,
        placement: Spanned<Placement>,
    },
    /// `fallback integration|unassigned|user "email"`
    Fallback { target: Spanned<StepName> },
}

/// How a step is named wherever a step is named.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StepName {
    /// A bare word: a built-in step kind (or a typo of one).
    Word(String),
    /// `user "email"`: a fixed integration user.
    User(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Placement {
    Before(Anchor),
    After(Anchor),
    First,
    Last,
}

#[derive(Debug, Clone)]
pub enum Anchor {
    Step(Spanned<StepName>),
    /// `before fallback`: the end of the step list.
    Fallback(Span),
}

impl PartialEq for Anchor {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Anchor::Step(a), Anchor::Step(b)) => a == b,
            (Anchor::Fallback(_), Anchor::Fallback(_)) => true,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardKind {
    When,
    Unless,
}

impl GuardKind {
    pub fn keyword(self) -> &'static str {
        match self {
            GuardKind::When => "when",
            GuardKind::Unless => "unless",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Guard {
    pub kind: GuardKind,
    pub condition: Spanned<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Or(Vec<Spanned<Expr>>),
    And(Vec<Spanned<Expr>>),
    Not(Box<Spanned<Expr>>),
    /// A parenthesised condition, kept so the formatter can print it back.
    Group(Box<Spanned<Expr>>),
    Compare {
        left: Spanned<Operand>,
        op: Spanned<Operator>,
        right: Spanned<Operand>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    StartsWith,
}

impl Operator {
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Eq => "==",
            Operator::Ne => "!=",
            Operator::Lt => "<",
            Operator::Le => "<=",
            Operator::Gt => ">",
            Operator::Ge => ">=",
            Operator::In => "in",
            Operator::NotIn => "not in",
            Operator::StartsWith => "starts_with",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A field (`status`, `contact.owner`) or a bare value (`missed`).
    Path(String),
    Str(String),
    Int(i64),
    Null,
    List(Vec<Spanned<Operand>>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// The text after `#`, without the line break.
    pub text: String,
    pub span: Span,
}

// Canonical printing of the pieces a trace, `plan` and `fmt` show. One
// space around operators, `, ` between list items, strings re-escaped.

use std::fmt;

impl fmt::Display for StepName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepName::Word(word) => f.write_str(word),
            StepName::User(email) => write!(f, "user {}", Quoted(email)),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn join(
            f: &mut fmt::Formatter<'_>,
            parts: &[Spanned<Expr>],
            separator: &str,
        ) -> fmt::Result {
            for (index, part) in parts.iter().enumerate() {
                if index > 0 {
                    f.write_str(separator)?;
                }
                write!(f, "{}", part.node)?;
            }
            Ok(())
        }
        match self {
            Expr::Or(parts) => join(f, parts, " or "),
            Expr::And(parts) => join(f, parts, " and "),
            Expr::Not(inner) => write!(f, "not {}", inner.node),
            Expr::Group(inner) => write!(f, "({})", inner.node),
            Expr::Compare { left, op, right } => {
                write!(f, "{} {} {}", left.node, op.node.as_str(), right.node)
            }
        }
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Path(path) => f.write_str(path),
            Operand::Str(text) => write!(f, "{}", Quoted(text)),
            Operand::Int(value) => write!(f, "{value}"),
            Operand::Null => f.write_str("null"),
            Operand::List(items) => {
                f.write_str("[")?;
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", item.node)?;
                }
                f.write_str("]")
            }
        }
    }
}

/// A string literal as the rule language writes it.
pub(crate) struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for c in self.0.chars() {
            if c == '"' || c == '\\' {
                f.write_str("\\")?;
            }
            write!(f, "{c}")?;
        }
        f.write_str("\"")
    }
}
