//! Directories saved from real systems, named by a context: the integrated
//! app's user list (`users_from`), CloudTalk's agents (`telephony_users_from`)
//! and contact owners (`contact_owners_from`).
//!
//! Each reader turns one saved API response (or a CSV) into plain entries,
//! and says which file and which entry is wrong when one is. The shapes and
//! the endpoints they come from are listed in docs/cloudtalk.md.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::diagnostics::problem::Problem;
use crate::model::context::{User, MAX_CONTEXT_BYTES};

use crate::vocabulary::email::looks_like_email;
use csv::{read_csv, read_user_csv};
pub(crate) use users::read_users;

/// A saved user list: its format and one file or a list of pages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "{F}Source")
)]
#[serde(
    deny_unknown_fields,
    expecting = "a format and its file: `{format: …, path: …}`"
)]
pub struct ListFile<F> {
    /// The shape of the file (which API it was saved from).
    pub format: F,
    /// Relative to the context file.
    pub path: Paths,
}

/// One path, or a list of them (a paginated export).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), serde(untagged))]
pub enum Paths {
    /// One file.
    One(String),
    /// Several files, read in order (the pages of an export).
    Many(#[cfg_attr(feature = "schema", schemars(length(min = 1)))] Vec<String>),
}

impl<'de> Deserialize<'de> for Paths {
    /// Refuses an empty list here, where the YAML reader still knows the
    /// line: a `path: []` read nothing, so no user of that list could ever
    /// be matched, and nothing said so.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(
            untagged,
            expecting = "`path` should be a file path, or a list of file paths"
        )]
        enum Written {
            One(String),
            Many(Vec<String>),
        }
        match Written::deserialize(deserializer)? {
            Written::One(path) => Ok(Paths::One(path)),
            Written::Many(paths) if paths.is_empty() => Err(serde::de::Error::custom(
                "`path` is an empty list, which names nothing to read; give the file, or every page of a paginated export",
            )),
            Written::Many(paths) => Ok(Paths::Many(paths)),
        }
    }
}

impl Paths {
    /// The paths, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let (one, many) = match self {
            Paths::One(path) => (Some(path.as_str()), &[][..]),
            Paths::Many(paths) => (None, paths.as_slice()),
        };
        one.into_iter().chain(many.iter().map(String::as_str))
    }

    /// The files, resolved against the context's folder. A file listed
    /// twice (also as `./a.json`, or through a link) is refused: its
    /// entries would be read twice and reported as clashing with
    /// themselves.
    fn files(&self, folder: &Path, key: &str) -> Result<Vec<PathBuf>, Problem> {
        let mut files: Vec<(PathBuf, &str)> = Vec::new();
        let mut seen: HashMap<PathBuf, &str> = HashMap::new();
        for written in self.iter() {
            let path = resolve(folder, written);
            // A file that cannot be resolved is reported when it is read.
            let identity = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            if let Some(first) = seen.insert(identity, written) {
                let also = if first == written {
                    String::new()
                } else {
                    format!(" (as `{first}` and `{written}`)")
                };
                return Err(Problem::context(
                    format!("`{key}` lists the file `{first}` twice{also}"),
                    "list each file once: each page of a paginated export once, in any order",
                ));
            }
            files.push((path, written));
        }
        Ok(files.into_iter().map(|(path, _)| path).collect())
    }
}

/// Whether a saved page of a paginated export says more pages follow:
/// what says so, for messages.
type MorePages = Option<String>;

/// Refuses an export whose every page says more pages follow: its last
/// page was never saved, and the users on it would match nothing, sending
/// their calls to the fallback without a word. The order of the pages does
/// not matter (only the last page of a whole export says nothing more
/// follows); `how` says how to fetch the rest.
fn check_last_page(key: &str, pages: &[(PathBuf, MorePages)], how: &str) -> Result<(), Problem> {
    let Some((path, Some(marker))) = pages.last() else {
        return Ok(());
    };
    if pages.iter().any(|(_, more)| more.is_none()) {
        return Ok(());
    }
    let message = if pages.len() == 1 {
        format!(
            "`{}` is one page of a longer list ({marker}), and `{key}` names no other page",
            path.display()
        )
    } else {
        format!(
            "every page `{key}` names says more pages follow (`{}`: {marker}), so the last page is missing",
            path.display()
        )
    };
    Err(Problem::context(
        message,
        format!("{how}, and list every page: `path: [page-1.json, page-2.json]`"),
    ))
}

/// `value` in a message: a string as it is, anything else as JSON.
fn shown_value(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The user lists `users_from` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(
    rename_all = "snake_case",
    expecting = "the name of a user-list format"
)]
pub enum UserListFormat {
    /// HubSpot `GET /crm/v3/owners`: `results[]` with `id`, `email`, `archived`.
    HubspotOwners,
    /// Salesforce `GET /services/data/vXX.X/query?q=SELECT Id, Email, IsActive FROM User`:
    /// `records[]` with `Id`, `Email`, `IsActive`.
    SalesforceUsers,
    /// Zendesk `GET /api/v2/users`: `users[]` with `id`, `email`, `active`, `suspended`.
    ZendeskUsers,
    /// Pipedrive `GET /v1/users`: `data[]` with `id`, `email`, `active_flag`.
    PipedriveUsers,
    /// Freshdesk `GET /api/v2/agents`: a list with `id`, `contact.email`, `contact.active`.
    FreshdeskAgents,
    /// A CSV with the header `id,email,active` (`active` optional).
    Csv,
}

impl UserListFormat {
    /// The format as contexts write it.
    pub fn name(self) -> &'static str {
        match self {
            UserListFormat::HubspotOwners => "hubspot_owners",
            UserListFormat::SalesforceUsers => "salesforce_users",
            UserListFormat::ZendeskUsers => "zendesk_users",
            UserListFormat::PipedriveUsers => "pipedrive_users",
            UserListFormat::FreshdeskAgents => "freshdesk_agents",
            UserListFormat::Csv => "csv",
        }
    }

    /// The top-level key holding the list; `None` for a bare list or CSV.
    fn list_key(self) -> Option<&'static str> {
        match self {
            UserListFormat::HubspotOwners => Some("results"),
            UserListFormat::SalesforceUsers => Some("records"),
            UserListFormat::ZendeskUsers => Some("users"),
            UserListFormat::PipedriveUsers => Some("data"),
            UserListFormat::FreshdeskAgents | UserListFormat::Csv => None,
        }
    }

    /// What a saved page says when more pages follow (`None` on the last
    /// page). Freshdesk pages only by its `Link` header, which a saved body
    /// does not hold, and a CSV is no page, so those cannot say.
    fn more_pages(self, document: &Value) -> MorePages {
        let at = |pointer: &str| document.pointer(pointer).filter(|value| !value.is_null());
        let is = |pointer: &str, wanted: bool| at(pointer) == Some(&Value::Bool(wanted));
        match self {
            UserListFormat::HubspotOwners => {
                at("/paging/next").map(|next| match next.get("after") {
                    Some(after) => format!("`paging.next.after` is `{}`", shown_value(after)),
                    None => "`paging.next` is set".to_string(),
                })
            }
            UserListFormat::SalesforceUsers => {
                is("/done", false).then(|| "`done` is `false`".to_string())
            }
            UserListFormat::ZendeskUsers => match at("/next_page") {
                Some(next) => Some(format!("`next_page` is `{}`", shown_value(next))),
                None => is("/meta/has_more", true).then(|| "`meta.has_more` is `true`".to_string()),
            },
            UserListFormat::PipedriveUsers => {
                is("/additional_data/pagination/more_items_in_collection", true).then(|| {
                    "`additional_data.pagination.more_items_in_collection` is `true`".to_string()
                })
            }
            UserListFormat::FreshdeskAgents | UserListFormat::Csv => None,
        }
    }

    /// How to fetch every page of this format's endpoint.
    fn how_to_fetch_all(self) -> &'static str {
        match self {
            UserListFormat::HubspotOwners => "fetch `GET /crm/v3/owners?limit=500&after=…` with each page's `paging.next.after` until a page has no `paging.next`",
            UserListFormat::SalesforceUsers => "fetch each page's `nextRecordsUrl` until a page has `done: true`",
            UserListFormat::ZendeskUsers => "fetch each page's `next_page` until it is null (with cursor paging, `links.next` until `meta.has_more` is false)",
            UserListFormat::PipedriveUsers => "fetch again with `start` set to `additional_data.pagination.next_start` until `more_items_in_collection` is false",
            UserListFormat::FreshdeskAgents | UserListFormat::Csv => "save every page",
        }
    }

    /// What a saved JSON document looks like, to suggest the right format.
    fn guess(document: &Value) -> Option<UserListFormat> {
        if document.is_array() {
            return Some(UserListFormat::FreshdeskAgents);
        }
        [
            UserListFormat::HubspotOwners,
            UserListFormat::SalesforceUsers,
            UserListFormat::ZendeskUsers,
            UserListFormat::PipedriveUsers,
        ]
        .into_iter()
        .find(|format| {
            format
                .list_key()
                .is_some_and(|key| document.get(key).is_some_and(Value::is_array))
        })
    }
}

/// The telephony directories `telephony_users_from` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(
    rename_all = "snake_case",
    expecting = "the name of an agents-list format"
)]
pub enum TelephonyFormat {
    /// CloudTalk `GET /api/agents/index.json`: `responseData.data[].Agent`
    /// with `id` and `email`.
    CloudtalkAgents,
}

/// The contact-owner lists `contact_owners_from` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(
    rename_all = "snake_case",
    expecting = "the name of a contact-owners format"
)]
pub enum OwnersFormat {
    /// A CSV with the header `contact,owner` or `number,owner`.
    Csv,
}

/// Contact owners by CloudTalk contact id and by number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactOwners {
    /// The file(s) they came from, for explanations.
    pub source: String,
    /// Contact id → owner id.
    pub by_contact: HashMap<String, String>,
    /// Keyed by [`number_key`].
    pub by_number: HashMap<String, String>,
}

/// A phone number as a lookup key: its digits only, so `+421 2 2129 1400`,
/// `+421221291400` and the JSON number `421221291400` (as CloudTalk's
/// examples write numbers) are one number.
pub fn number_key(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// A file a context names, resolved against the context's folder.
fn resolve(folder: &Path, path: &str) -> PathBuf {
    folder.join(path)
}

/// Every file a context was read from, in the order read, each with the
/// SHA-256 of its bytes: what a service names the version it serves by,
/// and the files it watches for a change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileLog {
    /// The files, in the order read.
    pub files: Vec<ReadFile>,
}

/// One file of a [`FileLog`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadFile {
    /// The file, as the context named it (relative to the working folder).
    pub path: PathBuf,
    /// The SHA-256 of its bytes.
    pub sha256: [u8; 32],
}

impl FileLog {
    /// Notes that `text` was read from `path`.
    pub fn note(&mut self, path: &Path, text: &str) {
        use sha2::Digest;
        self.files.push(ReadFile {
            path: path.to_path_buf(),
            sha256: sha2::Sha256::digest(text.as_bytes()).into(),
        });
    }
}

/// Reads a whole file a context names, bounded like the context itself,
/// and notes it in `log`.
pub fn read_file(path: &Path, log: &mut FileLog) -> Result<String, Problem> {
    let text = read_file_with_help(
        path,
        "paths in a context are relative to the context file's folder",
    )?;
    log.note(path, &text);
    Ok(text)
}

/// [`read_file`], with the help line for a file that cannot be read
/// (empty for none).
pub(crate) fn read_file_with_help(path: &Path, help: &str) -> Result<String, Problem> {
    // Bounded, a FIFO or device refused by name, a byte-order mark skipped:
    // as every file callassign reads.
    crate::files::read_text(path, MAX_CONTEXT_BYTES).map_err(|error| {
        let help = match &error {
            crate::files::TextError::Io(io) if io.kind() == std::io::ErrorKind::NotFound => help,
            _ => error.help().unwrap_or(help),
        };
        Problem::context(error.describe(path), help)
    })
}

fn read_json(path: &Path, log: &mut FileLog) -> Result<Value, Problem> {
    let text = read_file(path, log)?;
    serde_json::from_str(&text).map_err(|error| {
        Problem::context(
            format!(
                "`{}` is not valid JSON: {}",
                path.display(),
                crate::files::plain_json_message(&error.to_string())
            ),
            "save the API response as it came, one JSON document per file",
        )
    })
}

/// Text from a JSON value that may be a string or a number (ids are both
/// in the wild); `None` for null or absent.
fn text_of(value: Option<&Value>) -> Result<Option<String>, &'static str> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(Value::Number(number)) if number.is_i64() || number.is_u64() => {
            Ok(Some(number.to_string()))
        }
        Some(_) => Err("a string or a whole number"),
    }
}

/// A flag that may be a boolean or `0`/`1` (Pipedrive's `active_flag` has
/// been both); `None` when absent or null.
fn flag_of(value: Option<&Value>) -> Result<Option<bool>, &'static str> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(flag)) => Ok(Some(*flag)),
        Some(Value::Number(number)) if number.as_u64() == Some(0) => Ok(Some(false)),
        Some(Value::Number(number)) if number.as_u64() == Some(1) => Ok(Some(true)),
        Some(_) => Err("`true` or `false`"),
    }
}

/// Reads CloudTalk's agents list into agent id → e-mail.
pub(crate) fn read_telephony(
    folder: &Path,
    source: &ListFile<TelephonyFormat>,
    log: &mut FileLog,
) -> Result<HashMap<String, String>, Problem> {
    let mut agents: HashMap<String, String> = HashMap::new();
    // Where each agent was first read, to name both entries of a conflict.
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut pages = Vec::new();
    for path in source.path.files(folder, "telephony_users_from")? {
        let document = read_json(&path, log)?;
        let shown = path.display();
        let Some(entries) = document
            .get("responseData")
            .and_then(|data| data.get("data"))
            .and_then(Value::as_array)
        else {
            return Err(Problem::context(
                format!(
                    "`{shown}` is not a CloudTalk agents list: it has no `responseData.data` list"
                ),
                "save the response of CloudTalk's `GET /api/agents/index.json`",
            ));
        };
        for (index, entry) in entries.iter().enumerate() {
            let at = format!("responseData.data[{index}].Agent");
            let problem = |what: String| {
                Problem::context(
                    format!("`{shown}`: {what}"),
                    "each entry is `{\"Agent\": {\"id\": …, \"email\": …}}`",
                )
            };
            let agent = entry
                .get("Agent")
                .filter(|agent| agent.is_object())
                .ok_or_else(|| problem(format!("{at} is missing")))?;
            let id = text_of(agent.get("id"))
                .map_err(|wanted| problem(format!("{at}.id should be {wanted}")))?
                .filter(|id| !id.trim().is_empty())
                .ok_or_else(|| problem(format!("{at} has no `id`")))?;
            let email = text_of(agent.get("email"))
                .map_err(|wanted| problem(format!("{at}.email should be {wanted}")))?;
            if let Some(email) = email.filter(|email| !email.trim().is_empty()) {
                if !looks_like_email(&email) {
                    return Err(problem(format!(
                        "{at}.email `{email}` is not an e-mail address"
                    )));
                }
                let id = id.trim().to_string();
                let first = seen.get(&id).cloned();
                match (agents.get(&id), first) {
                    (Some(earlier), Some(first))
                        if !earlier.trim().eq_ignore_ascii_case(email.trim()) =>
                    {
                        return Err(Problem::context(
                            format!(
                                "`{shown}`: {at} gives agent `{id}` the e-mail `{email}`, but {first} gave it `{earlier}`"
                            ),
                            "one agent has one e-mail: fix or remove one of the two entries (a stale page of the list?)",
                        ));
                    }
                    _ => {}
                }
                seen.entry(id.clone())
                    .or_insert_with(|| format!("`{shown}` {at}"));
                agents.insert(id, email);
            }
        }
        let more = agents_more_pages(&document);
        pages.push((path, more));
    }
    check_last_page(
        "telephony_users_from",
        &pages,
        "fetch `GET /api/agents/index.json?limit=1000&page=N` for every page up to `responseData.pageCount`",
    )?;
    Ok(agents)
}

/// Whether a saved page of CloudTalk's agents list says more pages follow:
/// its `pageNumber` is below its `pageCount` (numbers or numeric strings).
fn agents_more_pages(document: &Value) -> MorePages {
    let whole = |key: &str| {
        let value = document.get("responseData")?.get(key)?;
        value
            .as_u64()
            .or_else(|| value.as_str()?.trim().parse().ok())
    };
    let (number, count) = (whole("pageNumber")?, whole("pageCount")?);
    (number < count).then(|| {
        format!("`responseData.pageNumber` is `{number}` of `responseData.pageCount` `{count}`")
    })
}

/// Reads contact owners from a CSV by contact id or by number.
pub(crate) fn read_owners(
    folder: &Path,
    source: &ListFile<OwnersFormat>,
    log: &mut FileLog,
) -> Result<ContactOwners, Problem> {
    let mut owners = ContactOwners {
        source: source.path.iter().collect::<Vec<_>>().join(", "),
        ..ContactOwners::default()
    };
    let help = "a contact owners CSV has the header `contact,owner` or `number,owner`";
    let mut first_seen: HashMap<(String, String), String> = HashMap::new();
    for path in source.path.files(folder, "contact_owners_from")? {
        let csv = read_csv(&path, log)?;
        let owner = csv.column(&path, "owner", help)?;
        let contact = csv.header.iter().position(|column| column == "contact");
        let number = csv.header.iter().position(|column| column == "number");
        if contact.is_none() && number.is_none() {
            return Err(Problem::context(
                format!(
                    "`{}` has neither a `contact` nor a `number` column (its header is `{}`)",
                    path.display(),
                    csv.header.join(",")
                ),
                help,
            ));
        }
        for (line, fields) in &csv.rows {
            let owner_id = fields[owner].trim();
            if owner_id.is_empty() {
                return Err(Problem::context(
                    format!("`{}` line {line} has an empty `owner`", path.display()),
                    "write the integration user id that owns the contact",
                ));
            }
            let here = format!("`{}` line {line}", path.display());
            let mut record = |map: &mut HashMap<String, String>, what: &str, key: String| {
                if let Some(earlier) = map.get(&key).filter(|earlier| *earlier != owner_id) {
                    let first = first_seen
                        .get(&(what.to_string(), key.clone()))
                        .cloned()
                        .unwrap_or_default();
                    return Err(Problem::context(
                        format!("{here} gives {what} `{key}` the owner `{owner_id}`, but {first} gave it `{earlier}`"),
                        "a contact has one owner: fix or remove one of the two rows",
                    ));
                }
                first_seen
                    .entry((what.to_string(), key.clone()))
                    .or_insert_with(|| here.clone());
                map.insert(key, owner_id.to_string());
                Ok(())
            };
            if let Some(key) = contact.map(|column| fields[column].trim()) {
                if !key.is_empty() {
                    record(&mut owners.by_contact, "contact", key.to_string())?;
                }
            }
            if let Some(written) = number.map(|column| fields[column].trim()) {
                let key = number_key(written);
                if key.is_empty() && !written.is_empty() {
                    return Err(Problem::context(
                        format!("{here}: the number `{written}` has no digits"),
                        "write the caller's number in E.164, as in `+421905111222`",
                    ));
                }
                if !key.is_empty() {
                    record(&mut owners.by_number, "number", key)?;
                }
            }
        }
    }
    Ok(owners)
}

mod csv;
mod users;

#[cfg(test)]
mod tests;
