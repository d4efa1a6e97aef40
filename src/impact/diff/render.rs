//! A diff report for people: the plain text `callassign diff` prints and
//! the Markdown it writes for a pull request (`--format markdown`), both
//! made from the same summary rows.

use std::fmt::Write as _;

use super::{Calls, Person, Report, StepMove};
use crate::diagnostics::terminal::thousands;
use crate::impact::history::{markdown_code, percent, table, Align};

impl Report {
    /// The counts at the top of a report: what, how many, share of all
    /// calls, and example call ids (or line numbers, `ids` false).
    fn summary_rows(&self) -> Vec<SummaryRow> {
        let row = |what, calls: &Calls| SummaryRow {
            what,
            count: calls.calls,
            share: Some(percent(calls.calls, self.calls)),
            examples: calls.sample.items().to_vec(),
            ids: true,
        };
        let mut rows = vec![
            SummaryRow {
                what: "calls evaluated",
                count: self.calls,
                share: None,
                examples: Vec::new(),
                ids: true,
            },
            SummaryRow {
                what: "assignee changes",
                count: self.reassigned,
                share: Some(percent(self.reassigned, self.calls)),
                examples: Vec::new(),
                ids: true,
            },
            row("  became unassigned", &self.became_unassigned),
            row("  no longer unassigned", &self.no_longer_unassigned),
            row("same assignee, other step", &self.same_assignee_other_step),
        ];
        if self.unreadable.lines > 0 {
            rows.push(SummaryRow {
                what: "unreadable lines",
                count: self.unreadable.lines,
                share: None,
                examples: self
                    .unreadable
                    .sample
                    .items()
                    .iter()
                    .map(|line| format!("line {}", line.line))
                    .collect(),
                ids: false,
            });
        }
        rows
    }

    fn assignee_heading(&self) -> String {
        let shown = self.assignee_moves.len() as u64;
        if self.omitted_assignee_moves.moves > 0 {
            format!(
                "top {shown} of {}",
                shown + self.omitted_assignee_moves.moves
            )
        } else {
            String::new()
        }
    }

    /// The report as text for a terminal.
    pub fn render_human(&self) -> String {
        let mut out = format!("impact of {} → {}\n\n", self.old, self.new);
        let rows: Vec<Vec<String>> = self
            .summary_rows()
            .into_iter()
            .map(|row| {
                vec![
                    row.what.to_string(),
                    thousands(row.count),
                    row.share.unwrap_or_default(),
                    row.examples.join(", "),
                ]
            })
            .collect();
        table(
            &mut out,
            &[Align::Left, Align::Right, Align::Right, Align::Left],
            &rows,
        );
        let step_rows = |moves: &[StepMove]| -> Vec<Vec<String>> {
            moves
                .iter()
                .map(|step| {
                    vec![
                        format!("{} → {}", step.from, step.to),
                        thousands(step.calls),
                        step.sample.items().join(", "),
                    ]
                })
                .collect()
        };
        if self.calls == 0 {
            // Nothing was compared: "no call changes" would read as a pass.
            out.push_str("\nno call could be compared\n");
        } else if self.reassigned == 0 {
            out.push_str("\nno call changes assignee\n");
        } else {
            out.push_str("\nstep moves (old → new)\n");
            table(
                &mut out,
                &[Align::Left, Align::Right, Align::Left],
                &step_rows(&self.step_moves),
            );
            let heading = self.assignee_heading();
            if heading.is_empty() {
                out.push_str("\nassignee moves (old → new)\n");
            } else {
                let _ = writeln!(out, "\nassignee moves (old → new), {heading}");
            }
            let mut rows: Vec<Vec<String>> = self
                .assignee_moves
                .iter()
                .map(|moved| {
                    vec![
                        format!(
                            "{} → {}",
                            Person::describe(moved.from.as_ref()),
                            Person::describe(moved.to.as_ref())
                        ),
                        thousands(moved.calls),
                        moved.sample.items().join(", "),
                    ]
                })
                .collect();
            if self.omitted_assignee_moves.moves > 0 {
                rows.push(vec![
                    format!(
                        "{} other moves",
                        thousands(self.omitted_assignee_moves.moves)
                    ),
                    thousands(self.omitted_assignee_moves.calls),
                    String::new(),
                ]);
            }
            table(&mut out, &[Align::Left, Align::Right, Align::Left], &rows);
        }
        if !self.same_assignee_step_moves.is_empty() {
            out.push_str("\nsame assignee, other step (old → new)\n");
            table(
                &mut out,
                &[Align::Left, Align::Right, Align::Left],
                &step_rows(&self.same_assignee_step_moves),
            );
        }
        self.unreadable.render_human(&mut out);
        out
    }

    /// The report as Markdown, sized for a pull-request comment.
    pub fn render_markdown(&self) -> String {
        let code_list = |ids: &[String]| {
            ids.iter()
                .map(|id| markdown_code(id))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut out = format!(
            "### Impact of {} → {}\n\n",
            markdown_code(&self.old),
            markdown_code(&self.new)
        );
        if self.calls == 0 {
            out.push_str(
                "**No call could be compared**: no line of the history could be read.\n\n",
            );
        } else if self.reassigned == 0 {
            let _ = writeln!(
                out,
                "**No call changes assignee** ({} calls evaluated).\n",
                thousands(self.calls)
            );
        } else {
            let _ = writeln!(
                out,
                "**{} of {} calls ({}) change assignee.**\n",
                thousands(self.reassigned),
                thousands(self.calls),
                percent(self.reassigned, self.calls)
            );
        }
        out.push_str("| | calls | share | sample |\n|---|---:|---:|---|\n");
        for row in self.summary_rows() {
            let examples = if row.ids {
                code_list(&row.examples)
            } else {
                row.examples.join(", ")
            };
            let what = match row.what.strip_prefix("  ") {
                Some(nested) => format!("↳ {nested}"),
                None => row.what.to_string(),
            };
            let _ = writeln!(
                out,
                "| {what} | {} | {} | {examples} |",
                thousands(row.count),
                row.share.unwrap_or_default()
            );
        }
        let step_table = |out: &mut String, moves: &[StepMove]| {
            out.push_str("| old step | new step | calls | sample |\n|---|---|---:|---|\n");
            for step in moves {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    markdown_code(&step.from.to_string()),
                    markdown_code(&step.to.to_string()),
                    thousands(step.calls),
                    code_list(step.sample.items())
                );
            }
        };
        if self.reassigned > 0 {
            out.push_str("\n#### Step moves\n\n");
            step_table(&mut out, &self.step_moves);
            let heading = self.assignee_heading();
            if heading.is_empty() {
                out.push_str("\n#### Assignee moves\n\n");
            } else {
                let _ = write!(out, "\n#### Assignee moves ({heading})\n\n");
            }
            out.push_str("| old assignee | new assignee | calls | sample |\n|---|---|---:|---|\n");
            for moved in &self.assignee_moves {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    markdown_person(moved.from.as_ref()),
                    markdown_person(moved.to.as_ref()),
                    thousands(moved.calls),
                    code_list(moved.sample.items())
                );
            }
            if self.omitted_assignee_moves.moves > 0 {
                let _ = writeln!(
                    out,
                    "| {} other moves | | {} | |",
                    thousands(self.omitted_assignee_moves.moves),
                    thousands(self.omitted_assignee_moves.calls)
                );
            }
        }
        if !self.same_assignee_step_moves.is_empty() {
            out.push_str("\n#### Same assignee, other step\n\n");
            step_table(&mut out, &self.same_assignee_step_moves);
        }
        self.unreadable.render_markdown(&mut out);
        out
    }
}

struct SummaryRow {
    what: &'static str,
    count: u64,
    share: Option<String>,
    examples: Vec<String>,
    /// Whether `examples` are call ids (shown as code) or line numbers.
    ids: bool,
}

fn markdown_person(person: Option<&Person>) -> String {
    match person {
        None => "*unassigned*".to_string(),
        Some(person) => markdown_code(&Person::describe(Some(person))),
    }
}
