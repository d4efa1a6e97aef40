//! Directories saved as CSV (user lists, contact owners): a header row
//! naming the columns, then one entry per row.

use super::*;

/// A small CSV reader: a header row, then rows of as many fields; fields
/// may be quoted (`"a, b"`, `""` for a quote).
pub(super) struct Csv {
    pub(super) header: Vec<String>,
    /// Each row with its 1-based line number.
    pub(super) rows: Vec<(usize, Vec<String>)>,
}

pub(super) fn read_csv(path: &Path, log: &mut FileLog) -> Result<Csv, Problem> {
    let text = read_file(path, log)?;
    let shown = path.display();
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line))
        .filter(|(_, line)| !line.trim().is_empty());
    let Some((header_line, header)) = lines.next() else {
        return Err(Problem::context(
            format!("`{shown}` is empty"),
            "a CSV starts with a header row",
        ));
    };
    let header: Vec<String> = split_csv_line(header)
        .map_err(|message| {
            Problem::context(
                format!("`{shown}` line {header_line}: {message}"),
                "close the quote",
            )
        })?
        .into_iter()
        .map(|field| field.trim().to_ascii_lowercase())
        .collect();
    // Only one of two same-named columns would be read, and which one is
    // no choice a user made.
    for (index, column) in header.iter().enumerate() {
        if header[..index].contains(column) {
            return Err(Problem::context(
                format!(
                    "`{shown}` line {header_line}: the header names the column `{column}` twice (`{}`)",
                    header.join(",")
                ),
                "name each column once: remove or rename one of the two",
            ));
        }
    }
    let mut rows = Vec::new();
    for (line, text) in lines {
        let fields = split_csv_line(text).map_err(|message| {
            Problem::context(
                format!("`{shown}` line {line}: {message}"),
                "close the quote",
            )
        })?;
        if fields.len() != header.len() {
            return Err(Problem::context(
                format!(
                    "`{shown}` line {line} has {} fields, the header has {}",
                    fields.len(),
                    header.len()
                ),
                format!("every row has the columns `{}`", header.join(",")),
            ));
        }
        rows.push((line, fields));
    }
    Ok(Csv { header, rows })
}

pub(super) fn split_csv_line(line: &str) -> Result<Vec<String>, &'static str> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (false, '"') if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (_, c) => field.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed");
    }
    fields.push(field);
    Ok(fields)
}

impl Csv {
    pub(super) fn column(&self, path: &Path, name: &str, help: &str) -> Result<usize, Problem> {
        self.header
            .iter()
            .position(|column| column == name)
            .ok_or_else(|| {
                Problem::context(
                    format!(
                        "`{}` has no `{name}` column (its header is `{}`)",
                        path.display(),
                        self.header.join(",")
                    ),
                    help,
                )
            })
    }
}

pub(super) fn read_user_csv(
    path: &Path,
    log: &mut FileLog,
) -> Result<Vec<(User, String)>, Problem> {
    let csv = read_csv(path, log)?;
    let help = "a user CSV has the header `id,email,active` (`active` may be left out)";
    let id = csv.column(path, "id", help)?;
    let email = csv.column(path, "email", help)?;
    let active = csv.header.iter().position(|column| column == "active");
    let shown = path.display();
    csv.rows
        .iter()
        .map(|(line, fields)| {
            let id_value = fields[id].trim();
            if id_value.is_empty() {
                return Err(Problem::context(
                    format!("`{shown}` line {line} has an empty `id`"),
                    "every user needs its integration id",
                ));
            }
            let active = match active.map(|column| fields[column].trim().to_ascii_lowercase()) {
                None => true,
                Some(value) => match value.as_str() {
                    "" | "true" | "1" | "yes" => true,
                    "false" | "0" | "no" => false,
                    _ => {
                        return Err(Problem::context(
                            format!("`{shown}` line {line}: `active` is `{value}`"),
                            "write `true`, `1` or `yes` (or leave it empty) for an active user, `false`, `0` or `no` for an inactive one",
                        ))
                    }
                },
            };
            let email_value = fields[email].trim();
            Ok((
                User {
                    id: id_value.to_string(),
                    email: (!email_value.is_empty()).then(|| email_value.to_string()),
                    active,
                    name: None,
                },
                format!("`{shown}` line {line}"),
            ))
        })
        .collect()
}
