//! E-mail addresses: what can be one, and the form in which two are
//! compared. Rule files, contexts and calls hold addresses to the same rules.

/// Whether text can be an e-mail address: one `@` with text on both sides,
/// no spaces. Rule files and contexts hold addresses to the same rule.
pub(crate) fn looks_like_email(text: &str) -> bool {
    let trimmed = text.trim();
    trimmed.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && !domain.is_empty() && !domain.contains('@')
    }) && !trimmed.contains(char::is_whitespace)
}

/// Trimmed, ASCII letters lowercased: the form in which e-mails are
/// compared. Unicode has no case rule that holds everywhere (`ß` and `SS`,
/// a final `ς`, the Turkish `ı`): an address outside ASCII matches only
/// when written the same way in both systems (see the context's matching).
pub(crate) fn normalize_email(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}
