//! A patient search term as both sides read it (docs/API.md): folded (case and diacritics
//! ignored), split into words, and — when it looks like a phone number — its digits. The
//! server matches with it; the workstation uses it to explain an empty result and to highlight
//! what matched. [`fold`] is also how the server stores the names and emails it searches, so
//! the term and the data can never be folded differently.

use unicase::UniCase;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::model::validate::digits_of;

/// Words of a term beyond this many are ignored.
const MAX_WORDS: usize = 8;
/// Substring matches need a word (and, for a phone number, digits) at least this long: what a
/// trigram index can look up.
pub const MIN_SUBSTRING_CHARS: usize = 3;

/// Text as search compares it: "Müller", "MULLER" and "muller" fold alike, and so do "Gómez",
/// "GÓMEZ" and "Gomez". The text is decomposed (Unicode NFKD, so "é" is "e" and a combining
/// acute, and compatibility forms such as "ﬁ" or full-width letters are plain letters), its
/// combining marks are dropped, and it is case-folded (Unicode full case folding, as for
/// caseless matching: "ß" and "SS" alike). Then the few Latin letters whose diacritic Unicode
/// draws into the letter itself, with no decomposition to drop it from, lose it too ("Łukasz",
/// "Søren", "Yılmaz"): people type them without it as they type "e" for "é".
pub fn fold(text: &str) -> String {
    // Most names and every MRN and phone number are ASCII: lower-casing is the whole fold.
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    let unmarked: String = text.nfkd().filter(|c| !is_combining_mark(*c)).collect();
    UniCase::unicode(unmarked.as_str())
        .to_folded_case()
        .chars()
        .map(without_inner_mark)
        .collect()
}

/// The base letter of a case-folded letter whose diacritic (a stroke, a slash, a missing dot)
/// has no Unicode decomposition.
fn without_inner_mark(c: char) -> char {
    match c {
        'ł' => 'l',
        'ø' => 'o',
        'đ' => 'd',
        'ħ' => 'h',
        'ŧ' => 't',
        'ı' => 'i',
        c => c,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchWords {
    /// The whole term, folded and trimmed.
    pub folded: String,
    /// Its words (at most eight).
    pub words: Vec<String>,
    /// The digits of the term when it looks like a phone number, else empty.
    pub digits: String,
}

impl SearchWords {
    pub fn new(term: &str) -> SearchWords {
        // Trimmed after folding too: a lone mark such as "¨" decomposes to a space.
        let folded = fold(term.trim()).trim().to_string();
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
    fn case_and_diacritics_fold_away() {
        for (text, folded) in [
            ("Müller", "muller"),
            ("MÜLLER", "muller"),
            // The same name decomposed, as some keyboards and pastes send it.
            ("Mu\u{308}ller", "muller"),
            ("Gómez", "gomez"),
            ("GÓMEZ", "gomez"),
            ("Gomez", "gomez"),
            ("Fernández", "fernandez"),
            ("Martínez", "martinez"),
            ("Łukasz Søren Yılmaz Đorđe", "lukasz soren yilmaz dorde"),
            ("İstanbul", "istanbul"),
            ("Straße", "strasse"),
            ("ΣΟΦΊΑ σοφία", "σοφια σοφια"),
            ("ﬁnn ＡＢＣ", "finn abc"),
            ("Nguyễn Thị Ánh", "nguyen thi anh"),
            ("Anna.S@Example.com", "anna.s@example.com"),
            ("MRN-000060", "mrn-000060"),
        ] {
            assert_eq!(fold(text), folded, "{text:?}");
        }
    }

    #[test]
    fn folding_twice_changes_nothing_and_leaves_no_mark() {
        // Every code point: what the fold makes of the data must fold to itself again, or a
        // term typed as it is stored would miss.
        for c in (0..=0x10FFFF_u32).filter_map(char::from_u32) {
            let once = fold(c.encode_utf8(&mut [0; 4]));
            assert_eq!(fold(&once), once, "U+{:04X}", u32::from(c));
            assert!(
                !once.chars().any(is_combining_mark),
                "U+{:04X} folds to a mark: {once:?}",
                u32::from(c)
            );
        }
    }

    #[test]
    fn terms_are_folded_split_and_phone_digits_kept() {
        let words = SearchWords::new("  Anna  SMITH ");
        assert_eq!(words.folded, "anna  smith");
        assert_eq!(words.words, ["anna", "smith"]);
        assert_eq!(words.digits, "");
        assert_eq!(
            SearchWords::new(" Gómez MÜLLER ").words,
            ["gomez", "muller"]
        );
        assert_eq!(SearchWords::new("¨ab").folded, "ab");
        assert_eq!(SearchWords::new("+91 (98765)").digits, "9198765");
        assert_eq!(SearchWords::new("a b c d e f g h i j").words.len(), 8);
    }
}
