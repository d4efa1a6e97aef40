//! "Did you mean …?": the closest known word to a misspelt one.

/// Longest word, in bytes, whose distance is computed on the stack: keys,
/// step names and values are short, and reading a batch asks for a
/// suggestion for every unknown key of every call, so the common case must
/// not allocate.
const ON_STACK: usize = 32;

/// The candidate closest to `word` by edit distance, if it is close enough
/// to be a plausible typo (a third of the word's length, at least one edit).
/// Case is ignored in `word`; candidates are lowercase.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let length = word.chars().count();
    let limit = (length / 3).max(1);
    candidates
        .into_iter()
        // A length difference is that many edits at least.
        .filter(|candidate| candidate.chars().count().abs_diff(length) <= limit)
        .map(|candidate| (folded_distance(word, candidate), candidate))
        .filter(|&(distance, _)| distance <= limit)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, candidate)| candidate)
}

/// The edit distance from `word`, ASCII-lowercased, to `candidate`.
fn folded_distance(word: &str, candidate: &str) -> usize {
    if word.is_ascii() && word.len() <= ON_STACK && candidate.len() <= ON_STACK {
        let mut lowered = [0u8; ON_STACK];
        let lowered = &mut lowered[..word.len()];
        lowered.copy_from_slice(word.as_bytes());
        lowered.make_ascii_lowercase();
        let mut rows = [[0usize; ON_STACK + 1]; 3];
        let [before_previous, previous, current] = &mut rows;
        distance(
            lowered,
            candidate.as_bytes(),
            before_previous,
            previous,
            current,
        )
    } else {
        edit_distance(&word.to_ascii_lowercase(), candidate)
    }
}

/// Levenshtein distance over characters, with a transposition counted as
/// one edit (`stauts` is one slip away from `status`).
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![0; 3 * (b.len() + 1)];
    let (before_previous, rest) = rows.split_at_mut(b.len() + 1);
    let (previous, current) = rest.split_at_mut(b.len() + 1);
    distance(&a, &b, before_previous, previous, current)
}

/// The distance between `a` and `b`, with three rows of at least
/// `b.len() + 1` cells to work in.
fn distance<'r, T: PartialEq>(
    a: &[T],
    b: &[T],
    mut before_previous: &'r mut [usize],
    mut previous: &'r mut [usize],
    mut current: &'r mut [usize],
) -> usize {
    for (j, cell) in previous[..=b.len()].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before_previous[j - 2] + 1);
            }
            current[j] = best;
        }
        std::mem::swap(&mut before_previous, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_plausible_word() {
        let steps = ["contact_owner", "favorite_agent", "voicemail_email"];
        assert_eq!(
            did_you_mean("favourite_agent", steps),
            Some("favorite_agent")
        );
        assert_eq!(did_you_mean("stauts", ["status", "number"]), Some("status"));
        assert_eq!(
            did_you_mean("mised", ["answered", "missed", "voicemail"]),
            Some("missed")
        );
        assert_eq!(did_you_mean("Status", ["status"]), Some("status"));
        assert_eq!(did_you_mean("zzz", steps), None);
    }

    #[test]
    fn distance_counts_insertions_deletions_substitutions_and_swaps() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", "abc"), 0);
        assert_eq!(edit_distance("abc", "acb"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn short_ascii_words_on_the_stack_agree_with_the_general_path() {
        let words = [
            "",
            "a",
            "Status",
            "stauts",
            "kitten",
            "favourite_agent",
            "duration",
        ];
        let candidates = ["status", "sitting", "favorite_agent", "duration_s", ""];
        for word in words {
            for candidate in candidates {
                assert_eq!(
                    folded_distance(word, candidate),
                    edit_distance(&word.to_ascii_lowercase(), candidate),
                    "{word} → {candidate}"
                );
            }
        }
    }
}
