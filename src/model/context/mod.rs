//! The integration context: what the integrated app looks like at export
//! time (its users, whether it has contact owners, its own fallback), and
//! the [`Directory`] that matches telephony e-mails to its users.

pub mod lists;
mod matching;
mod validate;
mod yaml;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use rustc_hash::FxHashMap;
use serde::Deserialize;

use lists::{ContactOwners, FileLog, ListFile, OwnersFormat, TelephonyFormat, UserListFormat};

use crate::diagnostics::problem::{offset_of, Problem};
use crate::diagnostics::source::Span;
use crate::vocabulary::email::normalize_email;
pub use matching::{lookup, Directory, Lookup, UserIndex};
pub use validate::ContextWarning;
pub(crate) use yaml::describe_yaml_error;

/// Largest context file callassign reads (a directory of many thousands of
/// users fits easily).
pub const MAX_CONTEXT_BYTES: usize = 64 * 1024 * 1024;

/// What a context falls back to when no step decides (`fallback:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase", expecting = "`installer` or `unassigned`")]
pub enum FallbackMode {
    /// The user who installed the integration, when configured and active.
    Installer,
    /// Leave the call unassigned.
    #[default]
    Unassigned,
}

/// An integration context: the integrated app's users at export time, whether it has contact owners, and its own fallback.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(
    deny_unknown_fields,
    expecting = "a context: a mapping with `integration` and `users`"
)]
pub struct Context {
    /// The integration's name, used in explanations (`hubspot`).
    #[serde(default = "default_integration")]
    pub integration: String,
    /// Whether the integrated app has contact owners.
    #[serde(default)]
    pub contact_owner: bool,
    /// What `fallback integration` means for this integration.
    #[serde(default)]
    pub fallback: FallbackMode,
    /// The id of the user who installed the integration.
    #[serde(default, deserialize_with = "optional_id")]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<crate::model::schema::TextOrNumber>")
    )]
    pub installer: Option<String>,
    /// The integration's users.
    #[serde(default)]
    pub users: Vec<User>,
    /// More users, from a user list saved from the integrated app's API.
    #[serde(default)]
    pub users_from: Option<ListFile<UserListFormat>>,
    /// CloudTalk's agents list, to turn agent ids into e-mails.
    #[serde(default)]
    pub telephony_users_from: Option<ListFile<TelephonyFormat>>,
    /// Manual links: a telephony e-mail or CloudTalk agent id → an
    /// integration user id. Checked before e-mail matching.
    #[serde(default, deserialize_with = "pairs")]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "std::collections::BTreeMap<String, crate::model::schema::TextOrNumber>")
    )]
    pub user_map: Vec<(String, String)>,
    /// The e-mail for voicemail steps that carry none: by internal number,
    /// or `default`.
    #[serde(default, deserialize_with = "pairs")]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "std::collections::BTreeMap<String, crate::model::schema::TextOrNumber>")
    )]
    pub voicemail_email: Vec<(String, String)>,
    /// Contact owners by CloudTalk contact id or number.
    #[serde(default)]
    pub contact_owners_from: Option<ListFile<OwnersFormat>>,
    /// Where each user came from, for messages (`users[2]`, or a file and
    /// entry); filled by [`Context::resolve`].
    #[serde(skip)]
    pub user_origins: Vec<String>,
    /// CloudTalk agent id → e-mail, from `telephony_users_from`.
    #[serde(skip)]
    pub telephony: HashMap<String, String>,
    /// From `contact_owners_from`.
    #[serde(skip)]
    pub contact_owners: Option<ContactOwners>,
    /// The files the context was read from: the context file itself (when
    /// read by [`Context::load`]), then each directory file it names.
    #[serde(skip)]
    pub files: FileLog,
}

fn default_integration() -> String {
    "the integration".to_string()
}

/// A user of the integrated app.
///
/// Unknown keys are refused: a misspelt `activ: false` silently ignored
/// would keep a deactivated user receiving calls.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, expecting = "a user: `{id: …, email: …}`")]
pub struct User {
    /// The user's id in the integrated app.
    #[serde(deserialize_with = "id")]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "crate::model::schema::TextOrNumber")
    )]
    pub id: String,
    /// The user's e-mail, which telephony users are matched by.
    #[serde(default)]
    pub email: Option<String>,
    /// Whether the user can be assigned calls.
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

/// A mapping of ids or e-mails to ids or e-mails, in file order; keys and
/// values may be strings or whole numbers (YAML reads an unquoted number as
/// one).
fn pairs<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<(String, String)>, D::Error> {
    struct PairsVisitor;

    impl<'de> serde::de::Visitor<'de> for PairsVisitor {
        type Value = Vec<(String, String)>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a mapping of `key: value` pairs of strings")
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            #[derive(Deserialize)]
            struct Wrapped(#[serde(deserialize_with = "id")] String);
            let mut pairs = Vec::new();
            while let Some(Wrapped(key)) = map.next_key::<Wrapped>()? {
                let Wrapped(value) = map.next_value::<Wrapped>()?;
                pairs.push((key, value));
            }
            Ok(pairs)
        }
    }

    deserializer.deserialize_any(PairsVisitor)
}

fn optional_id<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Wrapped(#[serde(deserialize_with = "id")] String);
    Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|wrapped| wrapped.0))
}

/// What a context holds, for the help line of a context that cannot be read.
pub(crate) const SHAPE_HELP: &str =
    "a context has `integration`, `contact_owner`, `fallback`, `installer`, `users` and optionally `users_from`, `telephony_users_from`, `user_map`, `voicemail_email` and `contact_owners_from`; `callassign schema context` describes each";

impl Context {
    /// Reads a context from YAML or JSON text.
    ///
    /// ```
    /// let context = callassign::model::Context::from_yaml("integration: hubspot\nusers:\n  - {id: hs-1, email: a@acme.com}\n").unwrap();
    /// assert_eq!(context.users[0].id, "hs-1");
    /// ```
    ///
    /// Text that is not a context is a [`Problem`] that says why (a key
    /// given twice names both lines) and points where the reader stopped.
    pub fn from_yaml(text: &str) -> Result<Context, Problem> {
        Context::read_yaml(text).map_err(|error| {
            let problem = Problem::context(describe_yaml_error(&error, text), "");
            match error.location() {
                Some(at) => problem.at(Span::new(at.index(), at.index())),
                None => problem,
            }
        })
    }

    /// [`Context::from_yaml`] with the YAML reader's own error.
    pub(crate) fn read_yaml(text: &str) -> Result<Context, serde_yaml::Error> {
        crate::files::yaml::from_str(text)
    }

    /// Reads a context file (YAML, or JSON by its `.json` name), reads the
    /// directories it names relative to its folder, and checks it. Every
    /// problem found is returned, so all can be fixed at once.
    pub fn load(path: &Path) -> Result<Context, Vec<Problem>> {
        let text = lists::read_file_with_help(path, "").map_err(|problem| vec![problem])?;
        let is_json = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
        // The error, and where in the text it is when the parser says.
        let parsed = if is_json {
            serde_json::from_str::<Context>(&text).map_err(|error| {
                let at = offset_of(&text, error.line(), error.column());
                (crate::files::plain_json_message(&error.to_string()), at)
            })
        } else {
            Context::read_yaml(&text).map_err(|error| {
                let at = error.location().map(|location| location.index());
                (describe_yaml_error(&error, &text), at)
            })
        };
        let mut context = parsed.map_err(|(error, at)| {
            let problem = Problem::context(
                format!("`{}` is not a valid context: {error}", path.display()),
                SHAPE_HELP,
            )
            .in_file(path);
            vec![match at {
                Some(at) => problem.at(Span::new(at, at)),
                None => problem,
            }]
        })?;
        context.files.note(path, &text);
        context
            .resolve(path.parent().unwrap_or(Path::new("")))
            .map_err(|problems| {
                problems
                    .into_iter()
                    .map(|problem| {
                        Problem {
                            message: format!("`{}`: {}", path.display(), problem.message),
                            ..problem
                        }
                        .in_file(path)
                    })
                    .collect::<Vec<_>>()
            })?;
        Ok(context)
    }

    /// Reads the directories the context names (paths relative to
    /// `folder`), then checks the whole context.
    pub fn resolve(&mut self, folder: &Path) -> Result<(), Vec<Problem>> {
        self.user_origins = (0..self.users.len())
            .map(|index| format!("users[{index}]"))
            .collect();
        if let Some(source) = &self.users_from {
            let read = lists::read_users(folder, source, &mut self.files)
                .map_err(|problem| vec![problem])?;
            for (user, origin) in read {
                self.users.push(user);
                self.user_origins.push(origin);
            }
        }
        if let Some(source) = &self.telephony_users_from {
            self.telephony = lists::read_telephony(folder, source, &mut self.files)
                .map_err(|problem| vec![problem])?;
        }
        if let Some(source) = &self.contact_owners_from {
            self.contact_owners = Some(
                lists::read_owners(folder, source, &mut self.files)
                    .map_err(|problem| vec![problem])?,
            );
        }
        let problems = self.problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// The e-mail configured for a voicemail on `internal_number` (digits
    /// compared), else the `default` one; with the key that matched.
    pub(crate) fn voicemail_email_for(
        &self,
        internal_number: Option<&str>,
    ) -> Option<(&str, &str)> {
        let wanted = internal_number.map(lists::number_key);
        self.voicemail_email
            .iter()
            .find(|(number, _)| {
                wanted
                    .as_deref()
                    .is_some_and(|wanted| !wanted.is_empty() && lists::number_key(number) == wanted)
            })
            .or_else(|| {
                self.voicemail_email
                    .iter()
                    .find(|(key, _)| key.trim() == "default")
            })
            .map(|(key, email)| (key.as_str(), email.as_str()))
    }
}

#[cfg(test)]
mod tests;
