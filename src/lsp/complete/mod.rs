//! Completion: what may be written at the cursor.
//!
//! The text before the cursor is usually not a valid file (the user is in
//! the middle of typing), so the syntax tree cannot tell where the cursor
//! is. Instead the text is split into words, strings and punctuation, and
//! the last few of them say what comes next. Scanning is one loop over the
//! text: no recursion, whatever the input.
//!
//! Each answer says which bytes a candidate replaces: the whole word the
//! cursor is in (a dotted field is one word), or the whole address inside
//! the quotes. Editors guess a word by their own rules (`bob@ac` is `ac` to
//! most of them), and a guess that differs from the server's throws every
//! candidate away; an explicit range makes every editor insert the same.
//! Inside a comment, or a string that holds no address, nothing is offered.

use callassign::diagnostics::source::Span;
use callassign::semantics::check::KNOWN_FLOW_STEP_TYPES;
use callassign::vocabulary::{Builtin, Direction, Field, FieldType, Status};

/// What the server knows beyond the text.
#[derive(Debug, Default)]
pub struct Known<'a> {
    /// The file's own name without `.rules`, offered after `ruleset`.
    pub stem: Option<&'a str>,
    /// Rule files of the folder (without `.rules`), offered after `extends`.
    pub rule_names: &'a [String],
    /// Steps of the plan the file builds on, as written (`user "x@y"`).
    pub plan_steps: &'a [String],
    /// E-mails of the configured context's users.
    pub user_emails: &'a [String],
}

/// What may be written at the cursor, and what it replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The bytes a chosen candidate replaces: the part of the word (or of
    /// the address inside quotes) before the cursor, and the rest of it
    /// after the cursor. Empty at the cursor when nothing of a word is
    /// before it: completing there inserts, it never eats the next word.
    pub replace: Span,
    pub candidates: Vec<Candidate>,
}

/// One suggestion, inserted as its label; [`Kind`] tells the editor which
/// icon to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub label: String,
    pub kind: Kind,
}

impl Candidate {
    /// What the typed text is matched against: the label, without the
    /// quotes of a quoted address (typing `ops` finds `"ops@acme.com"`).
    pub fn filter_text(&self) -> &str {
        match self.label.strip_prefix('"') {
            Some(inside) => inside.strip_suffix('"').unwrap_or(inside),
            None => &self.label,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Keyword,
    Step,
    Field,
    Value,
    Operator,
    File,
    Email,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'t> {
    Word(&'t str),
    /// A string literal; `closed` is false for one still being typed at
    /// the cursor (a line break ends one, since strings are one line).
    /// `start` is the byte after its opening quote.
    Str {
        closed: bool,
        start: usize,
    },
    Punct(&'t str),
    /// A comment the cursor is in. (Comments before the cursor say
    /// nothing about it and are dropped.)
    Comment,
}

const STATEMENT_KEYWORDS: [&str; 4] = ["step", "disable", "move", "fallback"];
const CONDITION_JOINERS: [&str; 2] = ["and", "or"];
const GUARD_KEYWORDS: [&str; 2] = ["when", "unless"];
const PLACEMENTS: [&str; 4] = ["before", "after", "first", "last"];
const FALLBACK_KINDS: [&str; 2] = ["integration", "unassigned"];
const OPERATORS: [&str; 10] = [
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "in",
    "not in",
    "starts_with",
    "null",
];

/// Candidates for the cursor at byte `offset` of `text`, and the bytes
/// they replace.
pub fn complete(text: &str, offset: usize, known: &Known) -> Completion {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut tokens = tokenize(&text[..end]);
    let nothing = Completion {
        replace: Span::new(end, end),
        candidates: Vec::new(),
    };
    match tokens.last() {
        Some(Token::Comment) => return nothing,
        // Inside a string: an address when the string holds one, the
        // whole address inside the quotes replaced; else nothing.
        Some(&Token::Str {
            closed: false,
            start,
        }) => {
            tokens.pop();
            if !holds_address(&tokens) {
                return nothing;
            }
            let rest = &text[end..];
            let close = rest
                .find(|c: char| c == '"' || c.is_whitespace())
                .unwrap_or(rest.len());
            return Completion {
                replace: Span::new(start, end + close),
                candidates: emails(known),
            };
        }
        // The word being typed is what is completed; the words before it
        // say what it may be.
        Some(Token::Word(_)) if text[..end].ends_with(is_word_char) => {
            tokens.pop();
        }
        _ => {}
    }
    Completion {
        replace: word_around(text, end),
        candidates: after(&tokens, known),
    }
}

/// The word the cursor at `end` is typing: from its start to its end
/// (`contact.ow|ner` is all of `contact.owner`); empty at the cursor when
/// no word is being typed.
fn word_around(text: &str, end: usize) -> Span {
    let start = text[..end].trim_end_matches(is_word_char).len();
    if start == end {
        return Span::new(end, end);
    }
    let rest = &text[end..];
    let after = rest.find(|c: char| !is_word_char(c)).unwrap_or(rest.len());
    Span::new(start, end + after)
}

/// Whether a string opened after `tokens` holds an address: the one of
/// `user "…"`, or the value of a field that holds one (`agent == "…"`,
/// `contact.favorite_agent in ["…", "…"]`).
fn holds_address(tokens: &[Token]) -> bool {
    matches!(tokens.last(), Some(Token::Word("user")))
        || compared_field(tokens)
            .is_some_and(|field| matches!(field.field_type(), FieldType::Email))
}

fn after(tokens: &[Token], known: &Known) -> Vec<Candidate> {
    let word = |back: usize| match tokens.len().checked_sub(back + 1).map(|i| tokens[i]) {
        Some(Token::Word(word)) => Some(word),
        _ => None,
    };
    let token = |back: usize| tokens.len().checked_sub(back + 1).map(|i| tokens[i]);
    let Some(last) = token(0) else {
        return words(["ruleset"], Kind::Keyword);
    };
    match last {
        Token::Word("ruleset") => {
            return known
                .stem
                .map_or_else(Vec::new, |stem| words([stem], Kind::File))
        }
        Token::Word("extends") => {
            let mut names: Vec<&str> = known
                .rule_names
                .iter()
                .map(String::as_str)
                .filter(|name| Some(*name) != known.stem)
                .collect();
            if !names.contains(&"default") {
                names.push("default");
            }
            return words(names, Kind::File);
        }
        Token::Word("step") => {
            return words(
                Builtin::ALL.map(Builtin::name).into_iter().chain(["user"]),
                Kind::Step,
            )
        }
        Token::Word("disable") => return plan_steps_or_kinds(known, true),
        Token::Word("move") => return plan_steps_or_kinds(known, true),
        Token::Word("before" | "after") => {
            let mut candidates = plan_steps_or_kinds(known, false);
            candidates.extend(words(["fallback"], Kind::Keyword));
            return candidates;
        }
        Token::Word("fallback") if !matches!(word(1), Some("before" | "after")) => {
            return words(FALLBACK_KINDS.into_iter().chain(["user"]), Kind::Step);
        }
        Token::Word("when" | "unless" | "and" | "or") | Token::Punct("(") => return fields(),
        Token::Word("not") => {
            // `not` after a value is the start of `not in`.
            return match token(1) {
                Some(Token::Word(before)) if !is_keyword(before) => words(["in"], Kind::Operator),
                Some(Token::Str { .. } | Token::Punct("]")) => words(["in"], Kind::Operator),
                _ => fields(),
            };
        }
        _ => {}
    }
    if let Some(field) = compared_field(tokens) {
        return values(field, known);
    }
    if let Token::Word(word) = last {
        if Field::from_name(word).is_some() && in_condition(tokens) {
            return words(OPERATORS, Kind::Operator);
        }
    }
    // A complete step name: `move X` goes on with its placement, `step X`
    // with an optional guard.
    let named_step_back = match (token(0), token(1), token(2)) {
        (Some(Token::Str { closed: true, .. }), Some(Token::Word("user")), _) => Some(2),
        (Some(Token::Word(_)), _, _) => Some(1),
        _ => None,
    };
    if let Some(back) = named_step_back {
        match word(back) {
            Some("move") => return words(PLACEMENTS, Kind::Keyword),
            Some("step") => {
                return words(
                    GUARD_KEYWORDS.into_iter().chain(STATEMENT_KEYWORDS),
                    Kind::Keyword,
                )
            }
            _ => {}
        }
    }
    if matches!(tokens, [Token::Word("ruleset"), Token::Word(_)]) {
        return words(
            ["extends"].into_iter().chain(STATEMENT_KEYWORDS),
            Kind::Keyword,
        );
    }
    if in_condition(tokens) {
        return words(
            CONDITION_JOINERS.into_iter().chain(STATEMENT_KEYWORDS),
            Kind::Keyword,
        );
    }
    words(STATEMENT_KEYWORDS, Kind::Keyword)
}

/// The field on the left of the operator (or list) the cursor follows.
fn compared_field(tokens: &[Token]) -> Option<Field> {
    let mut index = tokens.len().checked_sub(1)?;
    // Inside a list: back to its `[`.
    if matches!(tokens[index], Token::Punct("[" | ",")) {
        while !matches!(tokens[index], Token::Punct("[")) {
            index = index.checked_sub(1)?;
        }
        index = index.checked_sub(1)?;
    }
    let is_operator = match tokens[index] {
        Token::Punct(op) => ["==", "!=", "<", "<=", ">", ">=", "="].contains(&op),
        Token::Word(op) => op == "in" || op == "starts_with",
        Token::Str { .. } | Token::Comment => false,
    };
    if !is_operator {
        return None;
    }
    index = index.checked_sub(1)?;
    if matches!(tokens[index], Token::Word("not")) {
        index = index.checked_sub(1)?;
    }
    match tokens[index] {
        Token::Word(name) => Field::from_name(name),
        _ => None,
    }
}

/// Whether the last statement has a `when`/`unless` that is still open.
fn in_condition(tokens: &[Token]) -> bool {
    for token in tokens.iter().rev() {
        match token {
            Token::Word("when" | "unless") => return true,
            Token::Word(word) if STATEMENT_KEYWORDS.contains(word) || *word == "ruleset" => {
                return false
            }
            _ => {}
        }
    }
    false
}

fn is_keyword(word: &str) -> bool {
    ["when", "unless", "and", "or", "not"].contains(&word)
}

fn plan_steps_or_kinds(known: &Known, with_user: bool) -> Vec<Candidate> {
    if known.plan_steps.is_empty() {
        let kinds = Builtin::ALL.map(Builtin::name);
        let user = with_user.then_some("user");
        return words(kinds.into_iter().chain(user), Kind::Step);
    }
    words(known.plan_steps.iter().map(String::as_str), Kind::Step)
}

fn fields() -> Vec<Candidate> {
    let mut candidates = words(Field::ALL.map(Field::name), Kind::Field);
    candidates.extend(words(["not"], Kind::Keyword));
    candidates
}

fn values(field: Field, known: &Known) -> Vec<Candidate> {
    let mut candidates = match field.field_type() {
        FieldType::Direction => words(Direction::ALL.map(Direction::name), Kind::Value),
        FieldType::Status => words(Status::ALL.map(Status::name), Kind::Value),
        FieldType::FlowStepType => words(KNOWN_FLOW_STEP_TYPES, Kind::Value),
        FieldType::Email => known
            .user_emails
            .iter()
            .map(|email| Candidate {
                label: format!("\"{email}\""),
                kind: Kind::Email,
            })
            .collect(),
        _ => Vec::new(),
    };
    if field.nullable() {
        candidates.extend(words(["null"], Kind::Value));
    }
    candidates
}

fn emails(known: &Known) -> Vec<Candidate> {
    words(known.user_emails.iter().map(String::as_str), Kind::Email)
}

fn words<'w>(labels: impl IntoIterator<Item = &'w str>, kind: Kind) -> Vec<Candidate> {
    labels
        .into_iter()
        .map(|label| Candidate {
            label: label.to_string(),
            kind,
        })
        .collect()
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let at = text.len() - rest.len();
        if c.is_whitespace() {
            rest = &rest[c.len_utf8()..];
        } else if c == '#' {
            match rest.find('\n') {
                Some(end) => rest = &rest[end..],
                None => {
                    tokens.push(Token::Comment);
                    rest = "";
                }
            }
        } else if c == '"' {
            let mut escaped = false;
            let close = rest[1..].char_indices().find_map(|(index, c)| {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' || c == '\n' {
                    // A line break ends a string too: strings are one line.
                    return Some(index + 1);
                }
                None
            });
            match close {
                Some(end) => {
                    tokens.push(Token::Str {
                        closed: true,
                        start: at + 1,
                    });
                    rest = &rest[end + 1..];
                }
                None => {
                    tokens.push(Token::Str {
                        closed: false,
                        start: at + 1,
                    });
                    rest = "";
                }
            }
        } else if is_word_char(c) {
            let end = rest.find(|c: char| !is_word_char(c)).unwrap_or(rest.len());
            tokens.push(Token::Word(&rest[..end]));
            rest = &rest[end..];
        } else {
            let len = if ["==", "!=", "<=", ">="]
                .iter()
                .any(|op| rest.starts_with(op))
            {
                2
            } else {
                c.len_utf8()
            };
            tokens.push(Token::Punct(&rest[..len]));
            rest = &rest[len..];
        }
    }
    tokens
}

#[cfg(test)]
mod tests;
