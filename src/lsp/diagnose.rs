//! Findings as protocol diagnostics, and their suggestions as quick fixes.

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Diagnostic, DiagnosticSeverity,
    NumberOrString, Range, TextEdit, WorkspaceEdit,
};

use crate::lsp::position::LineIndex;
use crate::lsp::workspace::Analysis;
use callassign::diagnostics::finding::{Finding, Severity};

/// What diagnostics name as their source.
const SOURCE: &str = "callassign";

/// One finding as the protocol shows it: the message, then the help line,
/// as `check` prints them; the code is the finding's code.
pub fn diagnostic(finding: &Finding) -> Diagnostic {
    let index = LineIndex::new(&finding.source().text);
    let mut message = finding.message().to_string();
    if let Some(help) = finding.help() {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    Diagnostic {
        range: index.range(&finding.source().text, finding.span()),
        severity: Some(match finding.severity() {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(finding.code().as_str().to_string())),
        source: Some(SOURCE.to_string()),
        message,
        ..Diagnostic::default()
    }
}

/// Quick fixes for the document's findings whose span meets `range`: one
/// per suggestion, preferred when it is the finding's only one.
pub fn quick_fixes(analysis: &Analysis, range: Range) -> Vec<CodeActionOrCommand> {
    let wanted = analysis.index.span(analysis.text(), range);
    let mut actions = Vec::new();
    for finding in &analysis.compiled.findings {
        let own = std::sync::Arc::ptr_eq(finding.source(), &analysis.source);
        let meets = finding.span().start <= wanted.end && wanted.start <= finding.span().end;
        if !own || !meets {
            continue;
        }
        for suggestion in finding.suggestions() {
            let edit = TextEdit {
                range: analysis.range(suggestion.span),
                new_text: suggestion.replacement.clone(),
            };
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: suggestion.title.clone(),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic(finding)]),
                edit: Some(WorkspaceEdit {
                    changes: Some(HashMap::from([(analysis.uri.clone(), vec![edit])])),
                    ..WorkspaceEdit::default()
                }),
                is_preferred: Some(finding.suggestions().len() == 1),
                ..CodeAction::default()
            }));
        }
    }
    actions
}
