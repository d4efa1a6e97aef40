//! The integrated app's user list (`users_from`): one saved API response
//! per app, or a CSV, read into users.

use super::*;

/// One entry of a list, read into a user; `at` names it in messages.
fn user_entry(
    entry: &Value,
    at: &str,
    id_key: &str,
    email: Option<&Value>,
    email_key: &str,
    active: Result<bool, (String, &'static str)>,
) -> Result<User, String> {
    let id = text_of(entry.get(id_key))
        .map_err(|wanted| format!("{at}.{id_key} should be {wanted}"))?
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| format!("{at} has no `{id_key}`"))?;
    let email = text_of(email).map_err(|wanted| format!("{at}.{email_key} should be {wanted}"))?;
    let active = active.map_err(|(key, wanted)| format!("{at}.{key} should be {wanted}"))?;
    Ok(User {
        id,
        email,
        active,
        name: None,
    })
}

/// Reads the users of a `users_from` source: every page, in order.
pub(crate) fn read_users(
    folder: &Path,
    source: &ListFile<UserListFormat>,
    log: &mut FileLog,
) -> Result<Vec<(User, String)>, Problem> {
    let mut users = Vec::new();
    let mut pages = Vec::new();
    for path in source.path.files(folder, "users_from")? {
        let (entries, more) = match source.format {
            UserListFormat::Csv => (read_user_csv(&path, log)?, None),
            format => read_user_json(&path, format, log)?,
        };
        users.extend(entries);
        pages.push((path, more));
    }
    check_last_page("users_from", &pages, source.format.how_to_fetch_all())?;
    Ok(users)
}

/// The users of one saved page, and whether it says more pages follow.
fn read_user_json(
    path: &Path,
    format: UserListFormat,
    log: &mut FileLog,
) -> Result<(Vec<(User, String)>, MorePages), Problem> {
    let document = read_json(path, log)?;
    let shown = path.display();
    let wrong_format = |what: String| {
        let help = match UserListFormat::guess(&document) {
            Some(guess) if guess != format => {
                format!("it looks like `format: {}`", guess.name())
            }
            _ => format!(
                "save the response of the {} endpoint (docs/cloudtalk.md in callassign's repository names it), or pick the `format` it has",
                format.name()
            ),
        };
        Problem::context(
            format!("`{shown}` is not a `{}` list: {what}", format.name()),
            help,
        )
    };
    let (entries, prefix) = match format.list_key() {
        Some(key) => match document.get(key).and_then(Value::as_array) {
            Some(entries) => (entries, key.to_string()),
            None => return Err(wrong_format(format!("it has no `{key}` list"))),
        },
        None => match document.as_array() {
            Some(entries) => (entries, String::new()),
            None => return Err(wrong_format("it is not a list".to_string())),
        },
    };
    let mut users = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let at = format!("{prefix}[{index}]");
        if !entry.is_object() {
            return Err(Problem::context(
                format!("`{shown}`: {at} is not an object"),
                "each entry of the list is one user",
            ));
        }
        let flag = |key: &str, default: bool| {
            flag_of(entry.get(key))
                .map(|flag| flag.unwrap_or(default))
                .map_err(|wanted| (key.to_string(), wanted))
        };
        let read = match format {
            UserListFormat::HubspotOwners => user_entry(
                entry,
                &at,
                "id",
                entry.get("email"),
                "email",
                flag("archived", false).map(|archived| !archived),
            ),
            UserListFormat::SalesforceUsers => user_entry(
                entry,
                &at,
                "Id",
                entry.get("Email"),
                "Email",
                flag("IsActive", true),
            ),
            UserListFormat::ZendeskUsers => user_entry(
                entry,
                &at,
                "id",
                entry.get("email"),
                "email",
                flag("active", true).and_then(|active| {
                    flag("suspended", false).map(|suspended| active && !suspended)
                }),
            ),
            UserListFormat::PipedriveUsers => user_entry(
                entry,
                &at,
                "id",
                entry.get("email"),
                "email",
                flag("active_flag", true),
            ),
            UserListFormat::FreshdeskAgents => {
                let contact = entry.get("contact");
                let active = flag_of(contact.and_then(|contact| contact.get("active")))
                    .map(|flag| flag.unwrap_or(true))
                    .map_err(|wanted| ("contact.active".to_string(), wanted));
                user_entry(
                    entry,
                    &at,
                    "id",
                    contact.and_then(|contact| contact.get("email")),
                    "contact.email",
                    active,
                )
            }
            UserListFormat::Csv => unreachable!("CSV lists are read by read_user_csv"),
        };
        let user = read.map_err(|message| {
            Problem::context(
                format!("`{shown}`: {message}"),
                format!(
                    "a `{}` entry needs an id; docs/cloudtalk.md in callassign's repository lists the fields read",
                    format.name()
                ),
            )
        })?;
        users.push((user, format!("`{shown}` {at}")));
    }
    Ok((users, format.more_pages(&document)))
}
