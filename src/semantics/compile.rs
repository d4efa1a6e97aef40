//! Compile: a checked `extends` chain → one flat [`Plan`].
//!
//! The files of a chain are applied base first. Each statement edits one
//! ordered list of entries in which the fallback closes the steps:
//!
//! * `step X` adds X at the end of the steps, just before an inherited
//!   fallback; written below the file's own `fallback` line it lands after
//!   it, where nothing reaches it (a warning);
//! * `disable X` removes X; `move X …` places it; `fallback …` replaces the
//!   fallback where it stands.
//!
//! Edits that cannot be applied (a step named twice, a move of a step the
//! plan lacks) are findings; a plan comes out only when there are no errors.

use std::collections::HashMap;
use std::sync::Arc;

use crate::diagnostics::finding::{Code, Finding};
use crate::diagnostics::kind::{FindingKind, ReferenceHint};
use crate::diagnostics::source::{Source, Span, Spanned};
use crate::diagnostics::suggest::did_you_mean;
use crate::semantics::check::{CheckedKind, CheckedPlacement, Target};
use crate::semantics::load::{Chain, LoadedFile};
use crate::semantics::plan::{Fallback, Guard, Origin, Plan, PlanFallback, PlanStep, StepId};

/// What compiling a chain gives: the plan when nothing is in error, and
/// every finding of every file in the chain.
#[derive(Debug)]
pub struct Compiled {
    pub plan: Option<Plan>,
    pub findings: Vec<Finding>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(Finding::is_error)
    }
}

/// Compiles a loaded chain.
pub fn compile(chain: &Chain) -> Compiled {
    let mut findings: Vec<Finding> = chain
        .files
        .iter()
        .flat_map(|file| file.findings.iter().cloned())
        .collect();
    findings.extend(chain.findings.iter().cloned());
    let (leaf, ancestors) = chain.files.split_last().expect("chain is never empty");
    // Resolving edits on top of a broken base would only report echoes of
    // its errors; fix the base first.
    if !chain.complete || ancestors.iter().any(|file| file.has_errors()) || leaf.checked.is_none() {
        let sources: Vec<_> = chain.files.iter().map(|file| file.source.clone()).collect();
        crate::semantics::allow::apply(
            &sources,
            &mut findings,
            crate::semantics::allow::Scope::Rules,
        );
        return Compiled {
            plan: None,
            findings,
        };
    }
    let (plan, resolve_findings) = resolve(&chain.files);
    findings.extend(resolve_findings);
    let sources: Vec<_> = chain.files.iter().map(|file| file.source.clone()).collect();
    crate::semantics::allow::apply(
        &sources,
        &mut findings,
        crate::semantics::allow::Scope::Rules,
    );
    let plan = plan.filter(|_| !findings.iter().any(Finding::is_error));
    Compiled { plan, findings }
}

#[derive(Debug, Clone)]
enum Item {
    Step { step: StepId, guard: Option<Guard> },
    Fallback(Fallback),
}

#[derive(Debug, Clone)]
struct Entry {
    item: Item,
    /// The statement that added it.
    origin: Origin,
    /// The step name in the statement that last placed it (added or moved).
    placed_at: Origin,
}

impl Entry {
    fn is(&self, step: &StepId) -> bool {
        matches!(&self.item, Item::Step { step: own, .. } if own.same_as(step))
    }

    fn is_fallback(&self) -> bool {
        matches!(self.item, Item::Fallback(_))
    }
}

struct Resolver {
    entries: Vec<Entry>,
    /// The steps in `entries`, by [`StepId::key`], with the statement that
    /// added each: a file of 50,000 steps is checked in one pass, not one
    /// scan of the list per step.
    present: HashMap<String, Origin>,
    /// Whether `entries` holds the fallback (it is never removed).
    has_fallback: bool,
    /// Steps removed by `disable`, to say so when one is named again.
    disabled: Vec<(StepId, Origin)>,
    findings: Vec<Finding>,
}

fn resolve(files: &[Arc<LoadedFile>]) -> (Option<Plan>, Vec<Finding>) {
    let mut resolver = Resolver {
        entries: Vec::new(),
        present: HashMap::new(),
        has_fallback: false,
        disabled: Vec::new(),
        findings: Vec::new(),
    };
    for file in files {
        resolver.apply(file);
    }
    let leaf = files.last().expect("chain is never empty");
    let checked = leaf
        .checked
        .as_ref()
        .expect("compile checks the leaf parsed");
    let Some(fallback_index) = resolver.entries.iter().position(Entry::is_fallback) else {
        // A `fallback` line that did not parse is reported as the syntax
        // error it is; saying the ruleset has none would send the reader
        // looking for a line that is there.
        let unparsed_line = files.iter().any(|file| {
            file.findings
                .iter()
                .any(|finding| finding.code() == Code::Syntax)
        });
        if unparsed_line {
            return (None, resolver.findings);
        }
        resolver.findings.push(Finding::new(
            FindingKind::MissingFallback {
                ruleset: checked.name.node.clone(),
            },
            &leaf.source,
            checked.name.span,
        ));
        return (None, resolver.findings);
    };
    for entry in &resolver.entries[fallback_index + 1..] {
        if let Item::Step { step, .. } = &entry.item {
            resolver.findings.push(Finding::new(
                FindingKind::UnreachableStep {
                    step: step.to_string(),
                },
                &entry.placed_at.source,
                entry.placed_at.span,
            ));
        }
    }
    let to_step = |entry: &Entry| match &entry.item {
        Item::Step { step, guard } => Some(PlanStep {
            step: step.clone(),
            guard: guard.clone(),
            origin: entry.origin.clone(),
        }),
        Item::Fallback(_) => None,
    };
    let fallback_entry = &resolver.entries[fallback_index];
    let Item::Fallback(fallback) = &fallback_entry.item else {
        unreachable!("position found a fallback")
    };
    let plan = Plan {
        name: checked.name.node.clone(),
        chain: files.iter().map(|file| file.source.name.clone()).collect(),
        steps: resolver.entries[..fallback_index]
            .iter()
            .filter_map(to_step)
            .collect(),
        fallback: PlanFallback {
            fallback: fallback.clone(),
            origin: fallback_entry.origin.clone(),
        },
        unreachable: resolver.entries[fallback_index + 1..]
            .iter()
            .filter_map(to_step)
            .collect(),
    };
    (Some(plan), resolver.findings)
}

impl Resolver {
    fn apply(&mut self, file: &LoadedFile) {
        let Some(checked) = &file.checked else { return };
        let source = &file.source;
        let origin = |span: Span| Origin {
            source: Arc::clone(source),
            span,
        };
        let mut own_fallback: Option<Span> = None;
        for statement in &checked.statements {
            match &statement.kind {
                CheckedKind::Step { step, guard } => {
                    let key = step.node.key();
                    if let Some(existing) = self.present.get(&key) {
                        let kind = FindingKind::DuplicateStep {
                            step: step.node.to_string(),
                            first_at: existing.short(),
                        };
                        // The fix removes the whole statement, line and all.
                        let line = source.line_span(statement.span);
                        self.findings
                            .push(Finding::new(kind, source, step.span).suggest(
                                line,
                                "",
                                "remove the duplicate step",
                            ));
                        continue;
                    }
                    let entry = Entry {
                        item: Item::Step {
                            step: step.node.clone(),
                            guard: guard.clone(),
                        },
                        origin: origin(statement.span),
                        placed_at: origin(step.span),
                    };
                    // A new step goes before an inherited fallback; below
                    // this file's own `fallback` line it goes after it.
                    let inherited_fallback = own_fallback
                        .is_none()
                        .then(|| self.fallback_index())
                        .flatten();
                    let at = inherited_fallback.unwrap_or(self.entries.len());
                    self.present.insert(key, entry.origin.clone());
                    self.entries.insert(at, entry);
                }
                CheckedKind::Disable { step } => {
                    if let Some(index) = self.find(source, step, "disable") {
                        let entry = self.entries.remove(index);
                        self.present.remove(&step.node.key());
                        self.disabled
                            .push((step.node.clone(), origin(statement.span)));
                        drop(entry);
                    }
                }
                CheckedKind::Move { step, placement } => self.apply_move(source, step, placement),
                CheckedKind::Fallback { fallback } => {
                    if let Some(first) = own_fallback {
                        let line = source.line(first.start);
                        self.findings.push(Finding::new(
                            FindingKind::DuplicateFallback { first_line: line },
                            source,
                            fallback.span,
                        ));
                        continue;
                    }
                    own_fallback = Some(fallback.span);
                    let entry = Entry {
                        item: Item::Fallback(fallback.node.clone()),
                        origin: origin(statement.span),
                        placed_at: origin(fallback.span),
                    };
                    match self.fallback_index() {
                        Some(index) => self.entries[index] = entry,
                        None => self.entries.push(entry),
                    }
                    self.has_fallback = true;
                }
            }
        }
    }

    fn fallback_index(&self) -> Option<usize> {
        // Searched from the end, where new steps go: adding a step before
        // an inherited fallback costs no scan of the steps above it.
        if !self.has_fallback {
            return None;
        }
        self.entries.iter().rposition(Entry::is_fallback)
    }

    /// The index of a step named by an edit, or a finding saying why not.
    fn find(
        &mut self,
        source: &Arc<Source>,
        step: &Spanned<StepId>,
        verb: &'static str,
    ) -> Option<usize> {
        if let Some(index) = self.entries.iter().position(|entry| entry.is(&step.node)) {
            return Some(index);
        }
        let hint = if let Some((_, at)) = self
            .disabled
            .iter()
            .rev()
            .find(|(disabled, _)| disabled.same_as(&step.node))
        {
            ReferenceHint::Disabled { at: at.short() }
        } else {
            let names: Vec<String> = self
                .entries
                .iter()
                .filter_map(|entry| {
                    if let Item::Step { step, .. } = &entry.item {
                        Some(step.to_string())
                    } else {
                        None
                    }
                })
                .collect();
            match did_you_mean(&step.node.to_string(), names.iter().map(String::as_str)) {
                Some(suggestion) => ReferenceHint::Suggestion(suggestion.to_string()),
                None => ReferenceHint::Listing(names),
            }
        };
        let mut finding = Finding::new(
            FindingKind::UnknownStepReference {
                verb,
                step: step.node.to_string(),
                hint: hint.clone(),
            },
            source,
            step.span,
        );
        if let ReferenceHint::Suggestion(suggestion) = hint {
            let title = format!("replace with `{suggestion}`");
            finding = finding.suggest(step.span, suggestion, title);
        }
        self.findings.push(finding);
        None
    }

    fn apply_move(
        &mut self,
        source: &Arc<Source>,
        step: &Spanned<StepId>,
        placement: &CheckedPlacement,
    ) {
        if let CheckedPlacement::Before(Target::Step(anchor))
        | CheckedPlacement::After(Target::Step(anchor)) = placement
        {
            if anchor.node.same_as(&step.node) {
                self.findings.push(Finding::new(
                    FindingKind::MoveRelativeToItself {
                        step: step.node.to_string(),
                    },
                    source,
                    anchor.span,
                ));
                return;
            }
        }
        let Some(index) = self.find(source, step, "move") else {
            return;
        };
        // Find the anchor before removing, so a missing anchor leaves the
        // list as it was.
        match placement {
            CheckedPlacement::Before(Target::Step(anchor))
            | CheckedPlacement::After(Target::Step(anchor))
                if self.find(source, anchor, "move").is_none() =>
            {
                return;
            }
            CheckedPlacement::Before(Target::Fallback(span))
            | CheckedPlacement::After(Target::Fallback(span))
                if self.fallback_index().is_none() =>
            {
                self.findings.push(Finding::new(
                    FindingKind::MoveAroundMissingFallback,
                    source,
                    *span,
                ));
                return;
            }
            _ => {}
        }
        let mut entry = self.entries.remove(index);
        entry.placed_at = Origin {
            source: Arc::clone(source),
            span: step.span,
        };
        let at = match placement {
            CheckedPlacement::First => 0,
            CheckedPlacement::Last => self.fallback_index().unwrap_or(self.entries.len()),
            CheckedPlacement::Before(Target::Fallback(_)) => {
                self.fallback_index().expect("checked above")
            }
            CheckedPlacement::After(Target::Fallback(_)) => {
                self.fallback_index().expect("checked above") + 1
            }
            CheckedPlacement::Before(Target::Step(anchor)) => self
                .entries
                .iter()
                .position(|e| e.is(&anchor.node))
                .expect("checked above"),
            CheckedPlacement::After(Target::Step(anchor)) => {
                self.entries
                    .iter()
                    .position(|e| e.is(&anchor.node))
                    .expect("checked above")
                    + 1
            }
        };
        self.entries.insert(at, entry);
    }
}
