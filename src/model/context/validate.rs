//! Checking a context once it is read: the problems that refuse it (ids
//! empty or given twice, e-mails malformed or shared by two active users,
//! `user_map` links that contradict each other, bad voicemail addresses)
//! and the warnings that do not stop evaluation ([`ContextWarning`]).

use std::collections::HashMap;
use std::fmt;

use super::{lists, matching, Context, Directory, FallbackMode, Lookup};
use crate::diagnostics::problem::Problem;
use crate::vocabulary::email::{looks_like_email, normalize_email};

/// Text of a context as a message may quote it: characters that do not
/// show (controls, direction marks, zero-width ones) escaped, so a message
/// can neither restyle the terminal nor hide what it quotes.
fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    use crate::diagnostics::terminal::is_hidden;
    if text.chars().any(is_hidden) {
        std::borrow::Cow::Owned(
            text.chars()
                .map(|c| {
                    if is_hidden(c) {
                        c.escape_unicode().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect(),
        )
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// The first character of `text` that does not show, named for a
/// message (`the invisible character U+200B (zero-width space)`).
fn hidden_character(text: &str) -> Option<String> {
    use crate::diagnostics::terminal::{is_hidden, odd_character};
    // `odd_character` names every character `is_hidden` finds.
    text.chars().find(|&c| is_hidden(c)).and_then(odd_character)
}

impl Context {
    /// How messages name a user: where it was written.
    fn user_label(&self, index: usize) -> String {
        let origin = self
            .user_origins
            .get(index)
            .cloned()
            .unwrap_or_else(|| format!("users[{index}]"));
        format!("{origin} (`{}`)", shown(&self.users[index].id))
    }

    /// Things worth saying that do not stop evaluation: an installer who is
    /// not among the users (a departed admin must not stop a nightly
    /// export), and `user_map` links that match nothing.
    pub fn warnings(&self) -> Vec<ContextWarning> {
        let mut warnings = Vec::new();
        let directory = Directory::new(&self.users);
        if let (FallbackMode::Installer, Some(installer)) = (self.fallback, &self.installer) {
            if let Some(inactive) = matches_nothing(directory.by_id(installer)) {
                warnings.push(ContextWarning::Installer {
                    id: installer.trim().to_string(),
                    inactive,
                });
            }
        }
        let unreliable = matching::unreliable_addresses(self);
        if !unreliable.is_empty() {
            warnings.push(ContextWarning::UnreliableAddresses {
                count: unreliable.len(),
                first: unreliable
                    .into_iter()
                    .take(ContextWarning::ADDRESSES_SHOWN)
                    .collect(),
            });
        }
        for (from, to) in &self.user_map {
            if let Some(inactive) = matches_nothing(directory.by_id(to)) {
                warnings.push(ContextWarning::UserMapTarget {
                    from: from.clone(),
                    to: to.clone(),
                    integration: self.integration.clone(),
                    inactive,
                });
            }
        }
        warnings
    }

    /// Duplicate or empty ids, malformed e-mails, and e-mails shared by two
    /// active users: each makes "which user is this?" ambiguous or
    /// unanswerable, so it is refused rather than resolved by picking one.
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.users.is_empty() {
            problems.push(Problem::context(
                "the context lists no users, so no call can ever be assigned",
                "list the integration's users under `users:`, each with an `id` and an `email`",
            ));
        }
        if self.fallback == FallbackMode::Installer && self.installer.is_none() {
            problems.push(Problem::context(
                "`fallback: installer` but no `installer` is given",
                "add `installer: ID` (the user who installed the integration), or write `fallback: unassigned`",
            ));
        }
        if self
            .installer
            .as_deref()
            .is_some_and(|id| id.trim().is_empty())
        {
            problems.push(Problem::context(
                "`installer` is empty",
                "write the id of the user who installed the integration, or remove `installer`",
            ));
        }
        let mut ids: HashMap<&str, usize> = HashMap::new();
        let mut emails: HashMap<String, usize> = HashMap::new();
        for (index, user) in self.users.iter().enumerate() {
            if user.id.trim().is_empty() {
                problems.push(Problem::context(
                    format!("{} has an empty id", self.user_label(index)),
                    "every user needs its integration id",
                ));
                continue;
            }
            // Characters that do not show make an id or an address that
            // reads like another and matches nothing (as in rule files).
            let mut hidden = false;
            for (what, text) in [
                ("id", Some(user.id.as_str())),
                ("e-mail", user.email.as_deref()),
            ] {
                if let Some(odd) = text.and_then(hidden_character) {
                    problems.push(Problem::context(
                        format!(
                            "{} has the {what} `{}`, which holds {odd}",
                            self.user_label(index),
                            shown(text.unwrap_or_default())
                        ),
                        format!("retype the {what} without it (copied text often carries such characters)"),
                    ));
                    hidden = true;
                }
            }
            if hidden {
                continue;
            }
            if let Some(first) = ids.insert(user.id.trim(), index) {
                problems.push(Problem::context(
                    format!(
                        "{} has the id of {}",
                        self.user_label(index),
                        self.user_label(first)
                    ),
                    "every user needs its own id; remove or rename one of them",
                ));
                ids.insert(user.id.trim(), first);
            }
            let Some(email) = user
                .email
                .as_deref()
                .filter(|email| !email.trim().is_empty())
            else {
                continue;
            };
            if !looks_like_email(email) {
                problems.push(Problem::context(
                    format!(
                        "{} has the e-mail `{}`, which is not an e-mail address",
                        self.user_label(index),
                        shown(email)
                    ),
                    "write the address the user signs in with (`name@example.com`), or leave `email` out",
                ));
                continue;
            }
            if !user.active {
                continue;
            }
            let key = normalize_email(email);
            if let Some(&first) = emails.get(&key) {
                problems.push(Problem::context(
                    format!(
                        "{} and {} are both active with the e-mail `{}`",
                        self.user_label(index),
                        self.user_label(first),
                        email.trim()
                    ),
                    "an e-mail must match one active user: mark the old account `active: false` or remove it",
                ));
            } else {
                emails.insert(key, index);
            }
        }
        let mut linked: HashMap<String, &str> = HashMap::new();
        for (from, to) in &self.user_map {
            if from.trim().is_empty() || to.trim().is_empty() {
                problems.push(Problem::context(
                    format!("`user_map` has an empty side in `{from}: {to}`"),
                    "link a telephony e-mail or CloudTalk agent id to an integration user id",
                ));
            } else if let Some(first) = linked.insert(normalize_email(from), from) {
                problems.push(Problem::context(
                    format!("`user_map` links `{first}` and `{from}`, which are one address"),
                    "keep one link per telephony user (e-mails are compared trimmed, ASCII letters in any case)",
                ));
            }
        }
        problems.extend(self.contradicting_links());
        let mut numbers: HashMap<String, &str> = HashMap::new();
        // `default` has no digits to key it by: a second one would
        // silently replace the first.
        let mut default: Option<&str> = None;
        for (number, email) in &self.voicemail_email {
            if number.trim() == "default" {
                if let Some(first) = default.replace(email) {
                    problems.push(Problem::context(
                        format!(
                            "`voicemail_email` gives `default` twice (`{first}`, then `{email}`)"
                        ),
                        "keep one `default`: the address for voicemail steps of every other number",
                    ));
                }
            }
            let key = lists::number_key(number);
            if let Some(first) = numbers.get(&key).filter(|_| !key.is_empty()) {
                problems.push(Problem::context(
                    format!("`voicemail_email` has the keys `{first}` and `{number}`, which are one number"),
                    "numbers are compared by their digits: keep one key per internal number",
                ));
            }
            numbers.entry(key).or_insert(number);
            if number.trim() != "default" && lists::number_key(number).is_empty() {
                problems.push(Problem::context(
                    format!("`voicemail_email` has the key `{number}`, which is neither a phone number nor `default`"),
                    "key each address by the internal number it answers (`\"+421221291400\"`), or `default`",
                ));
            }
            if !looks_like_email(email) {
                problems.push(Problem::context(
                    format!("`voicemail_email` gives `{number}` the address `{email}`, which is not an e-mail address"),
                    "write the voicemail's e-mail address: `support@acme.com`",
                ));
            }
        }
        problems
    }
    /// `user_map` links that send one telephony user to two integration
    /// users: a link by CloudTalk agent id also links that agent's e-mail
    /// (through the agents list), so a link of that e-mail, or of another
    /// agent id with that e-mail, to someone else contradicts it. Which
    /// one a call follows would depend on how its record names the agent.
    fn contradicting_links(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.telephony.is_empty() {
            return problems;
        }
        // E-mail → the entry that links it, and to whom: the links by
        // e-mail first, then those by agent id.
        let mut by_email: HashMap<String, (&str, &str)> = HashMap::new();
        for (from, to) in &self.user_map {
            if looks_like_email(from) {
                by_email
                    .entry(normalize_email(from))
                    .or_insert((from.as_str(), to.as_str()));
            }
        }
        for (from, to) in &self.user_map {
            let Some(email) = self.telephony.get(from.trim()) else {
                continue;
            };
            match by_email.get(&normalize_email(email)) {
                Some(&(first, first_to)) if first_to.trim() != to.trim() => {
                    let why = if looks_like_email(first) {
                        format!(
                            "agent `{}` has the e-mail `{}` in the agents list",
                            from.trim(),
                            email.trim()
                        )
                    } else {
                        format!(
                            "agents `{}` and `{}` both have the e-mail `{}` in the agents list",
                            first.trim(),
                            from.trim(),
                            email.trim()
                        )
                    };
                    problems.push(Problem::context(
                        format!(
                            "`user_map` links one telephony user to two users: `{}: {}` and `{}: {}` ({why})",
                            first.trim(),
                            first_to.trim(),
                            from.trim(),
                            to.trim(),
                        ),
                        "keep one link per telephony user: remove one of the two entries, or link both to the same user",
                    ));
                }
                Some(_) => {}
                None => {
                    by_email.insert(normalize_email(email), (from.as_str(), to.as_str()));
                }
            }
        }
        problems
    }
}

/// `Some(inactive)` for a lookup that matches no active user.
fn matches_nothing(lookup: Lookup<'_>) -> Option<bool> {
    match lookup {
        Lookup::Active(_) => None,
        Lookup::Inactive(_) => Some(true),
        Lookup::Unknown => Some(false),
    }
}

/// Something in a context that does not stop evaluation but leaves calls
/// unassigned; see [`Context::warnings`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextWarning {
    /// `installer` names a user who is not among the users, or inactive.
    Installer {
        /// The `installer` id.
        id: String,
        /// Whether the user exists but is inactive.
        inactive: bool,
    },
    /// A `user_map` link to a user who is not among the users, or inactive.
    UserMapTarget {
        /// The telephony e-mail linked.
        from: String,
        /// The user it is linked to.
        to: String,
        /// The integration's name.
        integration: String,
        /// Whether the user exists but is inactive.
        inactive: bool,
    },
    /// Addresses with characters outside ASCII, which the e-mail rule
    /// matches only when written the same way: how many, and the first
    /// few with where each is written.
    UnreliableAddresses {
        /// How many such addresses the context holds.
        count: usize,
        /// The first few, each with where it is written.
        first: Vec<(String, String)>,
    },
}

impl ContextWarning {
    /// The most addresses [`ContextWarning::UnreliableAddresses`] names.
    pub const ADDRESSES_SHOWN: usize = 5;
}

impl fmt::Display for ContextWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContextWarning::Installer { id, inactive: false } => write!(f, "the installer `{}` is not among the users: calls that reach the integration fallback stay unassigned", shown(id)),
            ContextWarning::Installer { id, inactive: true } => write!(f, "the installer `{}` is not active: calls that reach the integration fallback stay unassigned", shown(id)),
            ContextWarning::UserMapTarget { from, to, integration, inactive: false } => write!(f, "`user_map` links `{}` to `{}`, who is not a user of {integration}: the link matches nothing", shown(from), shown(to)),
            ContextWarning::UserMapTarget { from, to, inactive: true, .. } => write!(f, "`user_map` links `{}` to `{}`, who is not active: the link matches nothing", shown(from), shown(to)),
            ContextWarning::UnreliableAddresses { count, first } => {
                let (addresses, them) = match count {
                    1 => ("1 address has".to_string(), "it"),
                    many => (format!("{many} addresses have"), "them"),
                };
                write!(f, "{addresses} characters outside ASCII, which match only an e-mail written the same way in the other system (same case, same accents, same composition; `ß` is not `SS`): ")?;
                let shown: Vec<String> = first
                    .iter()
                    .map(|(origin, email)| format!("`{}` ({})", shown(email), shown(origin)))
                    .collect();
                write!(f, "{}", shown.join(", "))?;
                if *count > first.len() {
                    write!(f, " and {} more", count - first.len())?;
                }
                write!(f, "; check that both systems write {them} alike, or link {them} by agent id in `user_map`")
            }
        }
    }
}
