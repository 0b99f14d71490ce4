//! A patient search term as both sides read it (docs/API.md): lower-cased, split into words,
//! and — when it looks like a phone number — its digits. The server matches with it; the
//! workstation uses it to explain an empty result.

use crate::model::validate::digits_of;

/// Words of a term beyond this many are ignored.
const MAX_WORDS: usize = 8;
/// Substring matches need a word (and, for a phone number, digits) at least this long: what a
/// trigram index can look up.
pub const MIN_SUBSTRING_CHARS: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchWords {
    /// The whole term, trimmed and lower-cased.
    pub folded: String,
    /// Its words (at most eight).
    pub words: Vec<String>,
    /// The digits of the term when it looks like a phone number, else empty.
    pub digits: String,
}

impl SearchWords {
    pub fn new(term: &str) -> SearchWords {
        let folded = term.trim().to_lowercase();
        let looks_like_phone = folded
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
        let digits = if looks_like_phone {
            digits_of(&folded)
        } else {
            String::new()
        };
        let words = folded
            .split_whitespace()
            .take(MAX_WORDS)
            .map(str::to_string)
            .collect();
        SearchWords {
            folded,
            words,
            digits,
        }
    }

    /// Whether the term also finds substrings (the third rank), not only exact and prefix
    /// matches: with a word of three characters or more, and three digits or more for a
    /// phone number.
    pub fn takes_substrings(&self) -> bool {
        let long_enough = |text: &str| text.chars().count() >= MIN_SUBSTRING_CHARS;
        self.words.iter().any(|w| long_enough(w))
            && long_enough(&self.folded)
            && (self.digits.is_empty() || long_enough(&self.digits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substrings_need_three_characters_in_a_word_and_in_phone_digits() {
        for (term, substrings) in [
            ("zz", false),
            ("an sm", false),
            ("smi", true),
            ("anna s", true),
            ("  Élo  ", true),
            ("19", false),
            ("+1 9", false),
            ("199", true),
            ("555-01", true),
        ] {
            assert_eq!(
                SearchWords::new(term).takes_substrings(),
                substrings,
                "{term}"
            );
        }
    }

    #[test]
    fn terms_are_folded_split_and_phone_digits_kept() {
        let words = SearchWords::new("  Anna  SMITH ");
        assert_eq!(words.folded, "anna  smith");
        assert_eq!(words.words, ["anna", "smith"]);
        assert_eq!(words.digits, "");
        assert_eq!(SearchWords::new("+91 (98765)").digits, "9198765");
        assert_eq!(SearchWords::new("a b c d e f g h i j").words.len(), 8);
    }
}
