//! Syntax-error wording: pest's error turned into a finding that says what
//! was expected in words (not rule names), what was found, and how to fix
//! the common slips (`&&`, single quotes, unterminated strings).

use std::sync::Arc;

use pest::error::{ErrorVariant, InputLocation};

use crate::diagnostics::finding::Finding;
use crate::diagnostics::kind::FindingKind;
use crate::diagnostics::source::{Source, Span};

use super::Rule;

pub(super) fn syntax_finding(
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
    } else if let Some(odd) = text[at..]
        .chars()
        .next()
        .and_then(crate::diagnostics::terminal::odd_character)
    {
        // A character that shows as a space, or not at all: named, since
        // `found ` `` would say nothing.
        odd
    } else {
        format!("`{}`", &text[at..end])
    }
}

fn syntax_help(found: &str, expected: &str) -> Option<String> {
    let first = found.chars().next();
    if let Some(
        c @ ('\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{2018}' | '\u{2019}' | '\u{00AB}'
        | '\u{00BB}'),
    ) = first
    {
        return Some(format!(
            "`{c}` is a typographic quote (a word processor or chat app puts them in); strings are written in straight double quotes: `\"vip\"`"
        ));
    }
    if first
        .and_then(crate::diagnostics::terminal::odd_character)
        .is_some()
    {
        return Some(
            "delete it and retype what should be there: a plain space, or nothing (it often comes in with copied text)"
                .into(),
        );
    }
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
