//! List markers: the bullets and numbers that open the lines of list sections.

/// Strips a list marker ("- ", "* ", "• ", "1. ", "2) ") from a trimmed line. ASCII markers need
/// a space after them so "-5 kg" or "1.5 mg" are left alone.
pub(super) fn strip_bullet(line: &str) -> (bool, &str) {
    let mut chars = line.chars();
    let Some(first) = chars.next() else {
        return (false, line);
    };
    let rest = chars.as_str();
    let spaced = rest.is_empty() || rest.starts_with(char::is_whitespace);
    match first {
        '•' | '·' | '◦' | '‣' | '▪' => (true, rest.trim_start()),
        '-' | '*' | '+' | '–' | '—' if spaced => (true, rest.trim_start()),
        '0'..='9' => {
            let digits = line.bytes().take_while(u8::is_ascii_digit).count();
            let after = &line[digits..];
            match after.strip_prefix(['.', ')']) {
                Some(rest)
                    if digits <= 3
                        && (rest.is_empty() || rest.starts_with(char::is_whitespace)) =>
                {
                    (true, rest.trim_start())
                }
                _ => (false, line),
            }
        }
        _ => (false, line),
    }
}
