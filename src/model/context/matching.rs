//! Matching: a telephony user (an e-mail, or a CloudTalk agent id) to an
//! integration user, by the context's manual links first and then by
//! e-mail. Built once per evaluator.
//!
//! The e-mail rule: trimmed, ASCII letters compared without case (`A`–`Z`
//! are `a`–`z`), every other character compared as it is. Unicode has no
//! case rule that holds everywhere (`ß` and `SS`, a final `ς`, the Turkish
//! `ı`, composed and decomposed accents): lowercasing matched some of those
//! and not others. An address outside ASCII therefore matches only when
//! written the same way in both systems, and [`unreliable_addresses`]
//! names each one a context holds so that `check --context` and `eval` can
//! say so.

use super::*;

/// Runs `f` on `text` with its ASCII letters lowercased; most addresses
/// are short, and are lowercased on the stack. Lowercasing ASCII bytes
/// leaves every other character's bytes as they are, so the result is
/// UTF-8 still.
fn with_lowercase<R>(text: &str, f: impl FnOnce(&str) -> R) -> R {
    let mut buffer = [0u8; 128];
    if text.len() <= buffer.len() {
        let lower = &mut buffer[..text.len()];
        lower.copy_from_slice(text.as_bytes());
        lower.make_ascii_lowercase();
        f(std::str::from_utf8(lower).expect("ASCII lowercasing keeps UTF-8"))
    } else {
        f(&text.to_ascii_lowercase())
    }
}

/// Addresses of a context that the e-mail rule cannot match reliably
/// (those with a character outside ASCII), each with where it is written:
/// its users' e-mails, the agents list's, `user_map` keys and
/// `voicemail_email` addresses. In the order written; agents by id.
pub fn unreliable_addresses(context: &Context) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (index, user) in context.users.iter().enumerate() {
        if let Some(email) = user.email.as_deref().filter(|email| !email.is_ascii()) {
            let origin = context
                .user_origins
                .get(index)
                .cloned()
                .unwrap_or_else(|| format!("users[{index}]"));
            found.push((
                format!("{origin} (`{}`)", user.id),
                email.trim().to_string(),
            ));
        }
    }
    let mut agents: Vec<(&String, &String)> = context
        .telephony
        .iter()
        .filter(|(_, email)| !email.is_ascii())
        .collect();
    agents.sort();
    for (id, email) in agents {
        found.push((
            format!("agent `{id}` in the agents list"),
            email.trim().to_string(),
        ));
    }
    for (from, _) in context.user_map.iter().filter(|(from, _)| !from.is_ascii()) {
        found.push(("a `user_map` key".to_string(), from.trim().to_string()));
    }
    for (number, email) in context
        .voicemail_email
        .iter()
        .filter(|(_, email)| !email.is_ascii())
    {
        found.push((
            format!("`voicemail_email` `{}`", number.trim()),
            email.trim().to_string(),
        ));
    }
    found
}

/// How a telephony e-mail or an owner id matched the integration's users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'u> {
    /// An active user.
    Active(&'u User),
    /// A user with that address or id exists but is not active.
    Inactive(&'u User),
    /// No user has that address or id.
    Unknown,
}

impl<'u> Lookup<'u> {
    /// The user, when active.
    pub fn active(self) -> Option<&'u User> {
        match self {
            Lookup::Active(user) => Some(user),
            _ => None,
        }
    }
}

/// The users of a context, indexed once by normalized e-mail and by id,
/// and its `user_map` links. It owns no user: its lookups take the users
/// it was built from, so an engine that owns its context can keep one.
#[derive(Debug, Clone, Default)]
pub struct UserIndex {
    // FxHash, not SipHash: a lookup per step per call made SipHash a visible
    // share of a batch, and the keys come from the context (trusted
    // configuration), so there is no flooding to defend against; a call's
    // e-mail is only ever looked up, never inserted.
    by_email: FxHashMap<Box<str>, u32>,
    by_id: FxHashMap<Box<str>, u32>,
    /// `user_map`: a normalized telephony e-mail or agent id → the linked
    /// integration user id. Empty for most contexts, and then never looked in.
    links: FxHashMap<Box<str>, Box<str>>,
}

impl UserIndex {
    /// Indexes the users. Where an active and an inactive user share an
    /// address or id, the active one wins.
    pub fn new(users: &[User]) -> UserIndex {
        let mut by_email = FxHashMap::with_capacity_and_hasher(users.len(), Default::default());
        let mut by_id = FxHashMap::with_capacity_and_hasher(users.len(), Default::default());
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
        UserIndex {
            by_email,
            by_id,
            links: FxHashMap::default(),
        }
    }

    /// Indexes a context's users and its `user_map` links. A link keyed by
    /// a CloudTalk agent id also links that agent's e-mail, when the
    /// telephony directory knows it.
    pub fn for_context(context: &Context) -> UserIndex {
        let mut index = UserIndex::new(&context.users);
        for (from, to) in &context.user_map {
            index
                .links
                .insert(normalize_email(from).into(), to.as_str().into());
        }
        for (from, to) in &context.user_map {
            if let Some(email) = context.telephony.get(from.trim()) {
                index
                    .links
                    .entry(normalize_email(email).into())
                    .or_insert_with(|| to.as_str().into());
            }
        }
        index
    }

    /// Where the user a telephony e-mail (or agent id) matches is in the
    /// users: a `user_map` link first, then the users' e-mails, trimmed, with
    /// ASCII letters in any case.
    #[inline]
    pub(crate) fn find_email(&self, email: &str) -> Option<u32> {
        with_lowercase(email.trim(), |key| {
            if !self.links.is_empty() {
                if let Some(id) = self.links.get(key) {
                    return self.find_id(id);
                }
            }
            self.by_email.get(key).copied()
        })
    }

    /// Where the user with an integration user id is in the users.
    #[inline]
    pub(crate) fn find_id(&self, id: &str) -> Option<u32> {
        self.by_id.get(id.trim()).copied()
    }

    /// The integration user id `user_map` links a telephony e-mail or agent
    /// id to, if it does.
    pub fn link(&self, email: &str) -> Option<&str> {
        if self.links.is_empty() {
            return None;
        }
        with_lowercase(email.trim(), |key| self.links.get(key).map(|id| &**id))
    }
}

/// What a place found by a [`UserIndex`] is among `users`.
#[inline]
pub fn lookup(users: &[User], found: Option<u32>) -> Lookup<'_> {
    match found.and_then(|index| users.get(index as usize)) {
        Some(user) if user.active => Lookup::Active(user),
        Some(user) => Lookup::Inactive(user),
        None => Lookup::Unknown,
    }
}

/// A [`UserIndex`] with the users it indexes: lookups that answer with
/// the users themselves.
#[derive(Debug, Clone)]
pub struct Directory<'u> {
    users: &'u [User],
    index: UserIndex,
}

impl<'u> Directory<'u> {
    /// Indexes the users. Where an active and an inactive user share an
    /// address or id, the active one wins.
    pub fn new(users: &'u [User]) -> Directory<'u> {
        Directory {
            users,
            index: UserIndex::new(users),
        }
    }

    /// Indexes a context's users and its `user_map` links.
    pub fn for_context(context: &'u Context) -> Directory<'u> {
        Directory {
            users: &context.users,
            index: UserIndex::for_context(context),
        }
    }

    /// Matches a telephony e-mail (or agent id): a `user_map` link first,
    /// then the users' e-mails, trimmed, ASCII letters in any case.
    pub fn by_email(&self, email: &str) -> Lookup<'u> {
        lookup(self.users, self.index.find_email(email))
    }

    /// The integration user id `user_map` links a telephony e-mail or agent
    /// id to, if it does.
    pub fn link(&self, email: &str) -> Option<&str> {
        self.index.link(email)
    }

    /// Matches an integration user id (as `contact.owner` holds it).
    pub fn by_id(&self, id: &str) -> Lookup<'u> {
        lookup(self.users, self.index.find_id(id))
    }
}
