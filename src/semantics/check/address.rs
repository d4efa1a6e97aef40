//! A fixed user's address as written in a rule file: characters that do
//! not show, and letters of look-alike scripts, make an address that
//! matches no telephony user although it reads like one.

/// Characters that do not show: controls, zero-width and joiner
/// characters, direction overrides, the byte-order mark and soft hyphen.
pub(super) use crate::diagnostics::terminal::is_hidden;

/// The scripts whose letters pass for one another in an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Script {
    Latin,
    Greek,
    Cyrillic,
}

impl Script {
    fn of(c: char) -> Option<Script> {
        match c {
            'a'..='z' | 'A'..='Z' | '\u{00C0}'..='\u{024F}' if c.is_alphabetic() => {
                Some(Script::Latin)
            }
            '\u{0370}'..='\u{03FF}' | '\u{1F00}'..='\u{1FFF}' => Some(Script::Greek),
            '\u{0400}'..='\u{052F}' => Some(Script::Cyrillic),
            _ => None,
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Script::Latin => "Latin",
            Script::Greek => "Greek",
            Script::Cyrillic => "Cyrillic",
        }
    }
}

/// An address written in two look-alike scripts.
pub(super) struct MixedScripts {
    /// The script of most of its letters.
    pub(super) main: Script,
    /// The other script, and its first letter.
    pub(super) odd: Script,
    pub(super) odd_letter: char,
}

/// Whether an address mixes look-alike scripts (`pаypal@acme.com` with a
/// Cyrillic `а`), and which letters are the odd ones.
pub(super) fn mixed_scripts(text: &str) -> Option<MixedScripts> {
    let letters: Vec<(char, Script)> = text
        .chars()
        .filter_map(|c| Script::of(c).map(|script| (c, script)))
        .collect();
    let first = letters.first()?.1;
    let other = letters.iter().find(|(_, script)| *script != first)?.1;
    let count = |wanted: Script| letters.iter().filter(|(_, s)| *s == wanted).count();
    let (main, odd) = if count(first) >= count(other) {
        (first, other)
    } else {
        (other, first)
    };
    let odd_letter = letters.iter().find(|(_, script)| *script == odd)?.0;
    Some(MixedScripts {
        main,
        odd,
        odd_letter,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_are_told_from_visible_ones() {
        for hidden in [
            '\u{0}', '\u{1b}', '\u{200b}', '\u{202e}', '\u{feff}', '\u{ad}',
        ] {
            assert!(is_hidden(hidden), "{hidden:?}");
        }
        for visible in ['a', '@', '.', '-', '+', 'é', 'а'] {
            assert!(!is_hidden(visible), "{visible:?}");
        }
    }

    #[test]
    fn the_odd_script_is_the_one_with_fewer_letters() {
        let mixed = mixed_scripts("p\u{0430}ypal@acme.com").unwrap();
        assert_eq!(
            (mixed.main, mixed.odd, mixed.odd_letter),
            (Script::Latin, Script::Cyrillic, '\u{0430}')
        );
        let mixed = mixed_scripts("\u{043e}ps@acme.com").unwrap();
        assert_eq!((mixed.main, mixed.odd), (Script::Latin, Script::Cyrillic));
        assert!(mixed_scripts("ops@acme.com").is_none());
        assert!(mixed_scripts("\u{0438}\u{0432}\u{0430}\u{043d}@\u{043f}\u{0440}\u{0438}\u{043c}\u{0435}\u{0440}.\u{0440}\u{0444}").is_none());
        assert!(mixed_scripts("josé@acme.com").is_none());
    }
}
