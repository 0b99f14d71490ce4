//! Text from the server made safe to draw on a terminal: control characters and escape
//! sequences are removed, so a stored value can never move the cursor, recolour the screen or
//! set the window title.

/// Removes ANSI escape sequences and control characters; newlines become spaces when
/// `single_line`, tabs always become a space.
pub fn printable(text: &str, single_line: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                // CSI (`ESC [ … final`) and OSC (`ESC ] … BEL|ESC \`) sequences, or one char.
                match chars.peek() {
                    Some('[') => {
                        chars.next();
                        for c in chars.by_ref() {
                            if ('\u{40}'..='\u{7e}').contains(&c) {
                                break;
                            }
                        }
                    }
                    Some(']') => {
                        chars.next();
                        while let Some(c) = chars.next() {
                            if c == '\u{7}' {
                                break;
                            }
                            if c == '\u{1b}' {
                                chars.next();
                                break;
                            }
                        }
                    }
                    _ => {
                        chars.next();
                    }
                }
            }
            '\n' if !single_line => out.push('\n'),
            '\n' | '\t' | '\r' => out.push(' '),
            c if c.is_control() => {}
            // Bidirectional overrides, isolates and marks can make text read differently from
            // what is stored (the marks reorder neutral characters such as digits and dashes).
            '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{61c}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn strips_escapes_and_controls() {
        assert_eq!(printable("Anna\u{1b}[31m Smith\u{7}", true), "Anna Smith");
        assert_eq!(printable("\u{1b}]0;title\u{7}Bob", true), "Bob");
        assert_eq!(printable("a\nb\tc", true), "a b c");
        assert_eq!(printable("a\nb", false), "a\nb");
        assert_eq!(printable("x\u{202e}y", true), "xy");
    }

    #[test]
    fn strips_bidirectional_marks() {
        assert_eq!(printable("07\u{200f}-12\u{200e}\u{61c}", true), "07-12");
    }
}
