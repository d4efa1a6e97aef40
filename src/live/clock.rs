//! Times as the service writes them (RFC 3339 in UTC, to the
//! millisecond), from the store's milliseconds.

use std::time::{Duration, UNIX_EPOCH};

use super::store::Millis;

/// `millis` after the Unix epoch, as `serve` writes times.
pub fn rfc3339(millis: Millis) -> String {
    crate::serve::clock::rfc3339(UNIX_EPOCH + Duration::from_millis(millis.max(0) as u64))
}
