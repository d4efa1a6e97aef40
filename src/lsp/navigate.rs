//! Hover, go to definition, document symbols, formatting and completion:
//! answers about one open document.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionList, CompletionResponse, CompletionTextEdit,
    DocumentSymbol, Hover, HoverContents, Location, MarkupContent, MarkupKind, Position, Range,
    SymbolKind, TextEdit,
};

use crate::lsp::complete::{complete, Candidate, Kind, Known};
use crate::lsp::docs;
use crate::lsp::position::path_to_uri;
use crate::lsp::workspace::{Analysis, Workspace};
use callassign::diagnostics::source::{Source, Span, Spanned};
use callassign::semantics::load::{builtin_default, BUILTIN_DEFAULT_TEXT};
use callassign::semantics::plan::{render_human, Origin, Plan, StepId};
use callassign::syntax::ast::{Anchor, Placement, StatementKind, StepName};
use callassign::syntax::format::format_source;
use callassign::vocabulary::{Builtin, Field};

/// What is under the cursor, as far as hover and definition care.
enum Target<'t> {
    /// The name after `extends`.
    Extends(Span),
    /// A step named by `disable` or `move` (either side of it): it refers
    /// to a step added elsewhere.
    StepReference(&'t Spanned<StepName>),
    /// Any other word: a step kind, a field, a fallback kind.
    Word(Span, &'t str),
}

fn target_at(analysis: &Analysis, offset: usize) -> Option<Target<'_>> {
    let tree = analysis.tree.as_ref();
    let touches = |span: Span| span.start <= offset && offset <= span.end;
    if let Some(extends) = tree.and_then(|tree| tree.extends.as_ref()) {
        if touches(extends.span) {
            return Some(Target::Extends(extends.span));
        }
    }
    for statement in tree.map_or(&[][..], |tree| &tree.statements[..]) {
        let references: Vec<&Spanned<StepName>> = match &statement.kind {
            StatementKind::Disable { step } => vec![step],
            StatementKind::Move { step, placement } => match &placement.node {
                Placement::Before(Anchor::Step(anchor))
                | Placement::After(Anchor::Step(anchor)) => {
                    vec![step, anchor]
                }
                _ => vec![step],
            },
            _ => Vec::new(),
        };
        if let Some(reference) = references.into_iter().find(|step| touches(step.span)) {
            return Some(Target::StepReference(reference));
        }
    }
    let text = analysis.text();
    let is_word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.');
    let mut start = offset.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let end = text[start..]
        .find(|c| !is_word(c))
        .map_or(text.len(), |n| start + n);
    let start = text[..start]
        .char_indices()
        .rev()
        .find(|&(_, c)| !is_word(c))
        .map_or(0, |(index, c)| index + c.len_utf8());
    (start < end).then(|| Target::Word(Span::new(start, end), &text[start..end]))
}

fn step_id(name: &StepName) -> Option<StepId> {
    match name {
        StepName::Word(word) => Builtin::from_name(word).map(StepId::Builtin),
        StepName::User(email) => Some(StepId::User(email.trim().to_string())),
    }
}

/// The statement that added a step: in what the file extends, else in the
/// file itself.
fn origin_of(analysis: &Analysis, step: &StepId) -> Option<Origin> {
    let find = |plan: &Plan| {
        plan.steps
            .iter()
            .chain(&plan.unreachable)
            .find(|entry| entry.step.same_as(step))
            .map(|entry| entry.origin.clone())
    };
    analysis
        .base_plan()
        .as_ref()
        .and_then(find)
        .or_else(|| analysis.compiled.plan.as_ref().and_then(find))
}

fn describe_origin(origin: &Origin) -> String {
    let line = origin.source.line(origin.span.start);
    let statement = origin.source.line_text(line).unwrap_or_default().trim();
    let file = if is_builtin(&origin.source) {
        "the built-in `default.rules`".to_string()
    } else {
        format!(
            "`{}`",
            origin.short().rsplit_once(':').map_or("", |(file, _)| file)
        )
    };
    format!("added by {file}, line {line}: `{statement}`")
}

fn describe_step(step: &StepId) -> String {
    match step {
        StepId::Builtin(builtin) => {
            format!(
                "step `{}`: decides when {}",
                builtin.name(),
                docs::step_kind(*builtin)
            )
        }
        StepId::User(email) => {
            format!("step `user \"{email}\"`: decides when `{email}` is an active integration user")
        }
    }
}

pub fn hover(analysis: &Analysis, position: Position) -> Option<Hover> {
    let offset = analysis.offset(position);
    let (span, text) = match target_at(analysis, offset)? {
        Target::Extends(span) => {
            let plan = analysis.base_plan()?;
            (span, format!("```\n{}```", render_human(&plan)))
        }
        Target::StepReference(reference) => {
            let step = step_id(&reference.node)?;
            let mut text = describe_step(&step);
            if let Some(origin) = origin_of(analysis, &step) {
                text.push_str("\n\n");
                text.push_str(&describe_origin(&origin));
            }
            (reference.span, text)
        }
        Target::Word(span, word) => {
            let text = if let Some(builtin) = Builtin::from_name(word) {
                describe_step(&StepId::Builtin(builtin))
            } else if let Some(field) = Field::from_name(word) {
                docs::field(field)
            } else {
                format!("fallback `{word}`: {}", docs::fallback_kind(word)?)
            };
            (span, text)
        }
    };
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: text,
        }),
        range: Some(analysis.range(span)),
    })
}

pub fn definition(
    workspace: &Workspace,
    analysis: &Analysis,
    position: Position,
) -> Option<Location> {
    let offset = analysis.offset(position);
    match target_at(analysis, offset)? {
        Target::Extends(_) => {
            let files = &analysis.chain.files;
            let base = files.get(files.len().checked_sub(2)?)?;
            let at = base
                .checked
                .as_ref()
                .map_or(Span::default(), |checked| checked.name.span);
            location(workspace, &base.source, at)
        }
        Target::StepReference(reference) => {
            let origin = origin_of(analysis, &step_id(&reference.node)?)?;
            location(workspace, &origin.source, origin.span)
        }
        Target::Word(..) => None,
    }
}

fn location(workspace: &Workspace, source: &Arc<Source>, span: Span) -> Option<Location> {
    let uri = if is_builtin(source) {
        path_to_uri(&builtin_copy()?)?
    } else {
        workspace.address(source)?
    };
    let index = crate::lsp::position::LineIndex::new(&source.text);
    Some(Location::new(uri, index.range(&source.text, span)))
}

fn is_builtin(source: &Arc<Source>) -> bool {
    Arc::ptr_eq(source, &builtin_default().source)
}

/// A read-only copy of the built-in default on disk, for editors to open:
/// the protocol has no portable way to show a file that is not one.
fn builtin_copy() -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    let folder = cache
        .join("callassign")
        .join(env!("CARGO_PKG_VERSION"))
        .join("built-in");
    let path = folder.join("default.rules");
    if std::fs::read_to_string(&path).ok().as_deref() != Some(BUILTIN_DEFAULT_TEXT) {
        std::fs::create_dir_all(&folder).ok()?;
        // A new file renamed over the old name: whatever was there (an
        // old copy, or a link planted to make us overwrite another file)
        // is replaced, never written through.
        callassign::files::write_atomically(&path, BUILTIN_DEFAULT_TEXT.as_bytes()).ok()?;
        let mut permissions = std::fs::metadata(&path).ok()?.permissions();
        permissions.set_readonly(true);
        std::fs::set_permissions(&path, permissions).ok()?;
    }
    Some(path)
}

/// One symbol per statement, named as the statement reads.
pub fn symbols(analysis: &Analysis) -> Vec<DocumentSymbol> {
    let Some(tree) = &analysis.tree else {
        return Vec::new();
    };
    tree.statements
        .iter()
        .map(|statement| {
            let (name, kind, selection) = match &statement.kind {
                StatementKind::Step { step, guard } => {
                    let guard = guard
                        .as_ref()
                        .map(|guard| format!(" {} {}", guard.kind.keyword(), guard.condition.node))
                        .unwrap_or_default();
                    (
                        format!("step {}{guard}", step.node),
                        SymbolKind::FUNCTION,
                        step.span,
                    )
                }
                StatementKind::Disable { step } => (
                    format!("disable {}", step.node),
                    SymbolKind::NULL,
                    step.span,
                ),
                StatementKind::Move { step, placement } => {
                    let place = match &placement.node {
                        Placement::Before(anchor) => format!("before {}", anchor_text(anchor)),
                        Placement::After(anchor) => format!("after {}", anchor_text(anchor)),
                        Placement::First => "first".to_string(),
                        Placement::Last => "last".to_string(),
                    };
                    (
                        format!("move {} {place}", step.node),
                        SymbolKind::OPERATOR,
                        step.span,
                    )
                }
                StatementKind::Fallback { target } => (
                    format!("fallback {}", target.node),
                    SymbolKind::CONSTANT,
                    target.span,
                ),
            };
            #[allow(deprecated)]
            DocumentSymbol {
                name,
                detail: None,
                kind,
                tags: None,
                deprecated: None,
                range: analysis.range(statement.span),
                selection_range: analysis.range(selection),
                children: None,
            }
        })
        .collect()
}

fn anchor_text(anchor: &Anchor) -> String {
    match anchor {
        Anchor::Step(step) => step.node.to_string(),
        Anchor::Fallback(_) => "fallback".to_string(),
    }
}

/// The whole document in the `fmt` layout: no edit when it already is,
/// `None` (no edits either) when it does not parse.
pub fn format(analysis: &Analysis) -> Option<Vec<TextEdit>> {
    let formatted = format_source(&analysis.source).ok()?;
    if formatted == analysis.text() {
        return Some(Vec::new());
    }
    let whole = Range::new(
        Position::new(0, 0),
        analysis
            .index
            .position(analysis.text(), analysis.text().len()),
    );
    Some(vec![TextEdit::new(whole, formatted)])
}

pub fn completion(
    workspace: &Workspace,
    analysis: &Analysis,
    position: Position,
) -> CompletionResponse {
    let plan = analysis
        .compiled
        .plan
        .clone()
        .or_else(|| analysis.base_plan());
    let plan_steps: Vec<String> = plan
        .iter()
        .flat_map(|plan| plan.steps.iter().chain(&plan.unreachable))
        .map(|entry| entry.step.to_string())
        .collect();
    let rule_names = workspace.rule_names_beside(&analysis.path);
    let user_emails = workspace.user_emails(&analysis.path);
    let known = Known {
        stem: analysis.path.file_stem().and_then(|stem| stem.to_str()),
        rule_names: &rule_names,
        plan_steps: &plan_steps,
        user_emails: &user_emails,
    };
    let offset = analysis.offset(position);
    let completion = complete(analysis.text(), offset, &known);
    // Every item says what it replaces (one range for all): an editor's own
    // idea of the word at the cursor differs from the language's.
    let replace = analysis.range(completion.replace);
    let typed = analysis
        .text()
        .get(completion.replace.start..offset)
        .unwrap_or_default();
    let (candidates, incomplete) = within_limit(completion.candidates, typed);
    let items = candidates
        .into_iter()
        .map(|candidate| {
            let documentation = match candidate.kind {
                Kind::Step => Builtin::from_name(&candidate.label)
                    .map(docs::step_kind)
                    .map(str::to_string),
                Kind::Field => Field::from_name(&candidate.label).map(docs::field),
                _ => None,
            };
            CompletionItem {
                kind: Some(match candidate.kind {
                    Kind::Keyword => CompletionItemKind::KEYWORD,
                    Kind::Step => CompletionItemKind::ENUM_MEMBER,
                    Kind::Field => CompletionItemKind::FIELD,
                    Kind::Value => CompletionItemKind::VALUE,
                    Kind::Operator => CompletionItemKind::OPERATOR,
                    Kind::File => CompletionItemKind::FILE,
                    Kind::Email => CompletionItemKind::TEXT,
                }),
                documentation: documentation.map(|value| {
                    lsp_types::Documentation::MarkupContent(MarkupContent {
                        kind: MarkupKind::Markdown,
                        value,
                    })
                }),
                filter_text: Some(candidate.filter_text().to_string()),
                text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(
                    replace,
                    candidate.label.clone(),
                ))),
                label: candidate.label,
                ..CompletionItem::default()
            }
        })
        .collect();
    if incomplete {
        CompletionResponse::List(CompletionList {
            is_incomplete: true,
            items,
        })
    } else {
        CompletionResponse::Array(items)
    }
}

/// The most items one completion answers with: a context of 300,000 users
/// would otherwise send every address on every keystroke.
pub const MAX_COMPLETION_ITEMS: usize = 200;

/// The candidates, or when there are more than [`MAX_COMPLETION_ITEMS`],
/// those that hold the text typed so far (ASCII letters in any case), at
/// most that many; `true` then, so that the editor asks again as the user
/// types.
fn within_limit(candidates: Vec<Candidate>, typed: &str) -> (Vec<Candidate>, bool) {
    if candidates.len() <= MAX_COMPLETION_ITEMS {
        return (candidates, false);
    }
    let typed = typed.trim_start_matches('"').to_ascii_lowercase();
    let kept = candidates
        .into_iter()
        .filter(|candidate| {
            typed.is_empty()
                || candidate
                    .filter_text()
                    .to_ascii_lowercase()
                    .contains(&typed)
        })
        .take(MAX_COMPLETION_ITEMS)
        .collect();
    (kept, true)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use lsp_types::Uri;

    use super::*;

    /// Every question at every position of awkward texts is answered
    /// (`None` is an answer); none panics. (No text extends `default`:
    /// its definition would write the built-in copy into the user's cache.)
    #[test]
    fn every_position_of_awkward_text_is_answered() {
        let texts = [
            "ruleset é extends ../x\nstep \"unterminated\nmove user \"é@x\" before 𝄞\n",
            "ruleset a extends other\ndisable user \"a@b.c\"\nmove call_agent after last_step_agent\nstep contact_owner when éstatus == mised and (duration > \"x\"\nfallback\n",
            "\u{feff}ruleset a\r\nstep call_agent when ((((((((((((((((((((((((((((((((((status == missed))))))))))))))))))))))))))))))))))\r\n# ☎\r\nfallback user \"a@b.c\"",
            "",
            "#",
            "\"",
        ];
        for text in texts {
            let mut workspace = Workspace::new(None);
            let uri = Uri::from_str("file:///nowhere/a.rules").unwrap();
            assert!(workspace.open(uri.clone(), 1, text.to_string()));
            let analysis = workspace.analyze(&uri).expect("an open document");
            symbols(&analysis);
            format(&analysis);
            let lines = text.split('\n').count() as u32;
            for line in 0..=lines {
                for character in 0..=(text.len() as u32 + 1) {
                    let position = Position::new(line, character);
                    hover(&analysis, position);
                    definition(&workspace, &analysis, position);
                    completion(&workspace, &analysis, position);
                }
            }
        }
    }
}
