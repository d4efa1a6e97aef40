//! The integration context: what the integrated app looks like at export
//! time (its users, whether it has contact owners, its own fallback), and
//! the [`Directory`] that matches telephony e-mails to its users.

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;

/// Largest context file callassign reads (a directory of many thousands of
/// users fits easily).
pub const MAX_CONTEXT_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FallbackMode {
    /// The user who installed the integration, when configured and active.
    Installer,
    /// Leave the call unassigned.
    #[default]
    Unassigned,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    /// The integration's name, used in explanations (`hubspot`).
    #[serde(default = "default_integration")]
    pub integration: String,
    /// Whether the integrated app has contact owners.
    #[serde(default)]
    pub contact_owner: bool,
    #[serde(default)]
    pub fallback: FallbackMode,
    /// The id of the user who installed the integration.
    #[serde(default, deserialize_with = "optional_id")]
    pub installer: Option<String>,
    #[serde(default)]
    pub users: Vec<User>,
}

fn default_integration() -> String {
    "the integration".to_string()
}

/// A user of the integrated app.
///
/// Unknown keys are refused: a misspelt `activ: false` silently ignored
/// would keep a deactivated user receiving calls.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    #[serde(deserialize_with = "id")]
    pub id: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default = "active_by_default")]
    pub active: bool,
    /// A display name, for the people reading the context; not used.
    #[serde(default)]
    pub name: Option<String>,
}

fn active_by_default() -> bool {
    true
}

fn id<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct IdVisitor;

    impl serde::de::Visitor<'_> for IdVisitor {
        type Value = String;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an id: a string or a whole number")
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_string())
        }

        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }

        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
    }

    deserializer.deserialize_any(IdVisitor)
}

fn optional_id<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Wrapped(#[serde(deserialize_with = "id")] String);
    Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|wrapped| wrapped.0))
}

/// What a context holds, for the help line of a context that cannot be read.
pub const SHAPE_HELP: &str =
    "a context has `integration`, `contact_owner`, `fallback`, `installer` and `users`; see README.md";

/// serde_yaml's wording for its safety limits does not say what in the file
/// tripped them.
pub fn describe_yaml_error(error: &serde_yaml::Error) -> String {
    let message = error.to_string();
    if message.starts_with("repetition limit exceeded") {
        "its aliases (`*name`) expand to too much data (repetition limit exceeded)".to_string()
    } else if message.starts_with("recursion limit exceeded") {
        "it nests lists or maps too deep (recursion limit exceeded)".to_string()
    } else {
        message
    }
}

/// Something wrong with a context that would make matching ambiguous.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextProblem {
    pub message: String,
    pub help: String,
}

impl fmt::Display for ContextProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n  help: {}", self.message, self.help)
    }
}

impl Context {
    /// Reads a context from YAML or JSON text.
    ///
    /// ```
    /// let context = callassign::runtime::model::Context::from_yaml("integration: hubspot\nusers:\n  - {id: hs-1, email: a@acme.com}\n").unwrap();
    /// assert_eq!(context.users[0].id, "hs-1");
    /// ```
    pub fn from_yaml(text: &str) -> Result<Context, serde_yaml::Error> {
        serde_yaml::from_str(text)
    }

    /// Duplicate ids, and e-mails shared by two active users: either makes
    /// "which user is this?" ambiguous, so it is refused rather than
    /// resolved by picking one.
    pub fn problems(&self) -> Vec<ContextProblem> {
        let mut problems = Vec::new();
        if self.users.is_empty() {
            problems.push(ContextProblem {
                message: "the context lists no users, so no call can ever be assigned".into(),
                help:
                    "list the integration's users under `users:`, each with an `id` and an `email`"
                        .into(),
            });
        }
        if self.fallback == FallbackMode::Installer && self.installer.is_none() {
            problems.push(ContextProblem {
                message: "`fallback: installer` but no `installer` is given".into(),
                help: "add `installer: ID` (the user who installed the integration), or write `fallback: unassigned`".into(),
            });
        }
        let mut ids: HashMap<&str, usize> = HashMap::new();
        let mut emails: HashMap<String, usize> = HashMap::new();
        for (index, user) in self.users.iter().enumerate() {
            if let Some(first) = ids.insert(user.id.trim(), index) {
                problems.push(ContextProblem {
                    message: format!("users[{index}] has the id `{}` of users[{first}]", user.id),
                    help: "every user needs its own id; remove or rename one of them".into(),
                });
                ids.insert(user.id.trim(), first);
            }
            if !user.active {
                continue;
            }
            if let Some(email) = &user.email {
                let key = normalize_email(email);
                if key.is_empty() {
                    continue;
                }
                if let Some(&first) = emails.get(&key) {
                    problems.push(ContextProblem {
                        message: format!("users[{index}] (`{}`) and users[{first}] (`{}`) are both active with the e-mail `{}`", user.id, self.users[first].id, email.trim()),
                        help: "an e-mail must match one active user: mark the old account `active: false` or remove it".into(),
                    });
                } else {
                    emails.insert(key, index);
                }
            }
        }
        if let (FallbackMode::Installer, Some(installer)) = (self.fallback, &self.installer) {
            if !self
                .users
                .iter()
                .any(|user| user.id.trim() == installer.trim())
            {
                problems.push(ContextProblem {
                    message: format!("the installer `{installer}` is not among the users"),
                    help: "add the installing user to `users`, or remove `installer`".into(),
                });
            }
        }
        problems
    }
}

/// Trimmed and lowercased: the form in which e-mails are compared.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// How a telephony e-mail or an owner id matched the integration's users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'u> {
    Active(&'u User),
    /// A user with that address or id exists but is not active.
    Inactive(&'u User),
    Unknown,
}

impl<'u> Lookup<'u> {
    pub fn active(self) -> Option<&'u User> {
        match self {
            Lookup::Active(user) => Some(user),
            _ => None,
        }
    }
}

/// The users of a context, indexed once by normalized e-mail and by id.
/// It borrows the users, so a lookup's result lives as long as the context.
#[derive(Debug, Clone)]
pub struct Directory<'u> {
    users: &'u [User],
    by_email: HashMap<Box<str>, u32>,
    by_id: HashMap<Box<str>, u32>,
}

impl<'u> Directory<'u> {
    /// Indexes the users. Where an active and an inactive user share an
    /// address or id, the active one wins.
    pub fn new(users: &'u [User]) -> Directory<'u> {
        let mut by_email: HashMap<Box<str>, u32> = HashMap::with_capacity(users.len());
        let mut by_id: HashMap<Box<str>, u32> = HashMap::with_capacity(users.len());
        for (index, user) in users.iter().enumerate() {
            let index = u32::try_from(index).expect("fewer than 4 billion users");
            let prefer = |slot: &mut u32| {
                if !users[*slot as usize].active && user.active {
                    *slot = index;
                }
            };
            if let Some(email) = &user.email {
                let key = normalize_email(email);
                if !key.is_empty() {
                    by_email
                        .entry(key.into())
                        .and_modify(prefer)
                        .or_insert(index);
                }
            }
            by_id
                .entry(user.id.trim().into())
                .and_modify(prefer)
                .or_insert(index);
        }
        Directory {
            users,
            by_email,
            by_id,
        }
    }

    /// Matches a telephony e-mail: trimmed, case-insensitive.
    pub fn by_email(&self, email: &str) -> Lookup<'u> {
        let email = email.trim();
        let mut buffer = [0u8; 128];
        // Most addresses are short ASCII: lowercase them on the stack.
        let found = if email.is_ascii() && email.len() <= buffer.len() {
            let lower = &mut buffer[..email.len()];
            lower.copy_from_slice(email.as_bytes());
            lower.make_ascii_lowercase();
            self.by_email
                .get(std::str::from_utf8(lower).expect("ASCII is UTF-8"))
        } else {
            self.by_email.get(email.to_lowercase().as_str())
        };
        self.lookup(found)
    }

    /// Matches an integration user id (as `contact.owner` holds it).
    pub fn by_id(&self, id: &str) -> Lookup<'u> {
        self.lookup(self.by_id.get(id.trim()))
    }

    fn lookup(&self, index: Option<&u32>) -> Lookup<'u> {
        match index.map(|&index| &self.users[index as usize]) {
            Some(user) if user.active => Lookup::Active(user),
            Some(user) => Lookup::Inactive(user),
            None => Lookup::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Context {
        Context::from_yaml(
            "integration: hubspot\ncontact_owner: true\nfallback: installer\ninstaller: hs-1\nusers:\n  - {id: hs-1, email: admin@acme.com}\n  - {id: hs-2, email: ' Alice@Acme.com '}\n  - {id: hs-7, email: carol@acme.com, active: false}\n",
        )
        .unwrap()
    }

    #[test]
    fn e_mails_match_trimmed_and_case_insensitively() {
        let context = context();
        let directory = Directory::new(&context.users);
        assert_eq!(
            directory
                .by_email("  ALICE@acme.COM")
                .active()
                .map(|u| u.id.as_str()),
            Some("hs-2")
        );
        assert!(matches!(
            directory.by_email("carol@acme.com"),
            Lookup::Inactive(_)
        ));
        assert_eq!(directory.by_email("nobody@acme.com"), Lookup::Unknown);
        assert_eq!(directory.by_email("ÄLICE@acme.com"), Lookup::Unknown);
    }

    #[test]
    fn ids_match_exactly() {
        let context = context();
        let directory = Directory::new(&context.users);
        assert!(directory.by_id("hs-2").active().is_some());
        assert_eq!(directory.by_id("HS-2"), Lookup::Unknown);
        assert!(matches!(directory.by_id("hs-7"), Lookup::Inactive(_)));
    }

    #[test]
    fn an_active_user_wins_over_an_inactive_one_with_the_same_address() {
        let users = vec![
            User {
                id: "old".into(),
                email: Some("a@x.com".into()),
                active: false,
                name: None,
            },
            User {
                id: "new".into(),
                email: Some("A@x.com".into()),
                active: true,
                name: None,
            },
        ];
        assert_eq!(
            Directory::new(&users)
                .by_email("a@x.com")
                .active()
                .unwrap()
                .id,
            "new"
        );
    }

    #[test]
    fn ambiguous_users_are_problems() {
        let context = Context::from_yaml("fallback: installer\ninstaller: ghost\nusers:\n  - {id: a, email: x@y.z}\n  - {id: a, email: q@y.z}\n  - {id: b, email: X@y.z}\n").unwrap();
        let problems: Vec<String> = context.problems().into_iter().map(|p| p.message).collect();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("id `a`"));
        assert!(problems[1].contains("x@y.z") || problems[1].contains("X@y.z"));
        assert!(problems[2].contains("installer `ghost`"));
    }

    #[test]
    fn unknown_top_level_keys_are_refused() {
        let error = Context::from_yaml("integration: x\ncontact_owners: true\n").unwrap_err();
        assert!(error.to_string().contains("contact_owners"), "{error}");
    }

    #[test]
    fn a_misspelt_user_key_is_refused_not_ignored() {
        let error =
            Context::from_yaml("users:\n  - {id: hs-3, email: bob@acme.com, activ: false}\n")
                .unwrap_err();
        assert!(
            error.to_string().starts_with(
                "users[0]: unknown field `activ`, expected one of `id`, `email`, `active`, `name`"
            ),
            "{error}"
        );
        let named =
            Context::from_yaml("users:\n  - {id: hs-3, email: bob@acme.com, name: Bob}\n").unwrap();
        assert_eq!(named.users[0].name.as_deref(), Some("Bob"));
    }

    #[test]
    fn ids_are_strings_or_whole_numbers() {
        assert_eq!(
            Context::from_yaml("users:\n  - {id: 17}\n").unwrap().users[0].id,
            "17"
        );
        let error = Context::from_yaml("users:\n  - {id: 1.5}\n").unwrap_err();
        assert!(error.to_string().starts_with("users[0].id: invalid type: floating point `1.5`, expected an id: a string or a whole number"), "{error}");
    }

    #[test]
    fn a_context_that_can_never_assign_is_a_problem() {
        let empty = Context::from_yaml("integration: hubspot\n").unwrap();
        assert_eq!(
            empty.problems()[0].message,
            "the context lists no users, so no call can ever be assigned"
        );
        let no_installer =
            Context::from_yaml("fallback: installer\nusers:\n  - {id: a, email: a@x.com}\n")
                .unwrap();
        assert_eq!(
            no_installer.problems()[0].message,
            "`fallback: installer` but no `installer` is given"
        );
    }
}
