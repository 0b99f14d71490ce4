//! Text entry: a one-line field (email, password, search, reasons) and a multi-line notes
//! editor. Plain data with editing operations, so `update` stays pure and testable.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// A single-line field; the cursor counts characters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Field {
    pub value: String,
    pub cursor: usize,
    /// The whole value is selected (a field offered again with what was typed before): typed
    /// or pasted text replaces it and Backspace or Delete removes it, while a movement key
    /// keeps it and only ends the selection.
    pub selected: bool,
}

impl Field {
    pub fn with(value: &str) -> Field {
        Field {
            value: value.to_string(),
            cursor: value.chars().count(),
            selected: false,
        }
    }

    /// Selects the whole value, the cursor at its end; an empty field has nothing to select.
    pub fn select_all(&mut self) {
        self.cursor = self.value.chars().count();
        self.selected = !self.value.is_empty();
    }

    fn byte_at(&self, chars: usize) -> usize {
        self.value
            .char_indices()
            .nth(chars)
            .map(|(i, _)| i)
            .unwrap_or(self.value.len())
    }

    pub fn insert(&mut self, text: &str) {
        // Only printable text enters a field; a pasted newline or escape is dropped.
        let clean: String = text.chars().filter(|c| !c.is_control()).collect();
        if self.selected && !clean.is_empty() {
            self.clear();
        }
        let at = self.byte_at(self.cursor);
        self.value.insert_str(at, &clean);
        self.cursor += clean.chars().count();
    }

    pub fn clear(&mut self) {
        self.value.clear();
        self.cursor = 0;
        self.selected = false;
    }

    /// Applies an editing key; returns whether the value changed.
    pub fn edit(&mut self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        // Alt+letter is a command key (or nothing), never the letter typed.
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        if self.selected {
            match key.code {
                // Deleting, or deleting a word, removes the selection.
                KeyCode::Backspace | KeyCode::Delete => {
                    self.clear();
                    return true;
                }
                KeyCode::Char('w' | 'u') if ctrl => {
                    self.clear();
                    return true;
                }
                // Typing replaces it (`insert`).
                KeyCode::Char(_) if !ctrl && !alt => {}
                // Moving keeps the text and ends the selection at the side moved to.
                KeyCode::Left | KeyCode::Home => {
                    self.selected = false;
                    self.cursor = 0;
                    return false;
                }
                KeyCode::Right | KeyCode::End => {
                    self.selected = false;
                    return false;
                }
                _ => return false,
            }
        }
        match key.code {
            KeyCode::Char('u') if ctrl => {
                let changed = !self.value.is_empty();
                self.clear();
                changed
            }
            KeyCode::Char('w') if ctrl => {
                let before: String = self.value.chars().take(self.cursor).collect();
                let trimmed = before.trim_end();
                let cut = trimmed.rfind(' ').map(|i| i + 1).unwrap_or(0);
                let kept_chars = trimmed[..cut].chars().count();
                let rest: String = self.value.chars().skip(self.cursor).collect();
                let changed = kept_chars != self.cursor;
                self.value = format!("{}{rest}", &trimmed[..cut]);
                self.cursor = kept_chars;
                changed
            }
            KeyCode::Char(c) if !ctrl && !alt => {
                self.insert(&c.to_string());
                true
            }
            KeyCode::Backspace if self.cursor > 0 => {
                let at = self.byte_at(self.cursor - 1);
                self.value.remove(at);
                self.cursor -= 1;
                true
            }
            KeyCode::Delete if self.cursor < self.value.chars().count() => {
                let at = self.byte_at(self.cursor);
                self.value.remove(at);
                true
            }
            KeyCode::Left => {
                self.cursor = self.cursor.saturating_sub(1);
                false
            }
            KeyCode::Right => {
                self.cursor = (self.cursor + 1).min(self.value.chars().count());
                false
            }
            KeyCode::Home => {
                self.cursor = 0;
                false
            }
            KeyCode::End => {
                self.cursor = self.value.chars().count();
                false
            }
            _ => false,
        }
    }
}

/// The consultation notes: lines of text with a cursor (line, column in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notes {
    pub lines: Vec<String>,
    pub line: usize,
    pub column: usize,
}

impl Default for Notes {
    fn default() -> Notes {
        Notes {
            lines: vec![String::new()],
            line: 0,
            column: 0,
        }
    }
}

impl Notes {
    pub fn from_text(text: &str) -> Notes {
        let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
        if lines.is_empty() {
            lines.push(String::new());
        }
        let line = lines.len() - 1;
        let column = lines[line].chars().count();
        Notes {
            lines,
            line,
            column,
        }
    }

    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    fn current(&mut self) -> &mut String {
        if self.lines.is_empty() {
            self.lines.push(String::new());
        }
        let last = self.lines.len() - 1;
        let index = self.line.min(last);
        &mut self.lines[index]
    }

    fn byte_at(line: &str, chars: usize) -> usize {
        line.char_indices()
            .nth(chars)
            .map(|(i, _)| i)
            .unwrap_or(line.len())
    }

    /// Inserts typed or pasted text; newlines split lines, tabs stay, other controls go.
    pub fn insert(&mut self, text: &str) {
        for c in text.chars() {
            match c {
                '\n' => self.newline(),
                '\r' => {}
                c if c.is_control() && c != '\t' => {}
                c => {
                    let column = self.column;
                    let line = self.current();
                    let at = Self::byte_at(line, column);
                    line.insert(at, c);
                    self.column += 1;
                }
            }
        }
    }

    fn newline(&mut self) {
        let column = self.column;
        let line = self.current();
        let at = Self::byte_at(line, column);
        let rest = line.split_off(at);
        self.line += 1;
        self.lines.insert(self.line, rest);
        self.column = 0;
    }

    /// Applies an editing key; returns whether the text changed.
    pub fn edit(&mut self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        // Alt+letter is a command key (or nothing), never the letter typed.
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let line_len =
            |notes: &Notes, i: usize| notes.lines.get(i).map_or(0, |l| l.chars().count());
        match key.code {
            KeyCode::Char(c) if !ctrl && !alt => {
                self.insert(&c.to_string());
                true
            }
            KeyCode::Tab => {
                self.insert("\t");
                true
            }
            KeyCode::Enter => {
                self.newline();
                true
            }
            KeyCode::Backspace => {
                if self.column > 0 {
                    let column = self.column;
                    let line = self.current();
                    let at = Self::byte_at(line, column - 1);
                    line.remove(at);
                    self.column -= 1;
                    true
                } else if self.line > 0 {
                    let removed = self.lines.remove(self.line);
                    self.line -= 1;
                    self.column = line_len(self, self.line);
                    self.current().push_str(&removed);
                    true
                } else {
                    false
                }
            }
            KeyCode::Left => {
                if self.column > 0 {
                    self.column -= 1;
                } else if self.line > 0 {
                    self.line -= 1;
                    self.column = line_len(self, self.line);
                }
                false
            }
            KeyCode::Right => {
                if self.column < line_len(self, self.line) {
                    self.column += 1;
                } else if self.line + 1 < self.lines.len() {
                    self.line += 1;
                    self.column = 0;
                }
                false
            }
            KeyCode::Up if self.line > 0 => {
                self.line -= 1;
                self.column = self.column.min(line_len(self, self.line));
                false
            }
            KeyCode::Down if self.line + 1 < self.lines.len() => {
                self.line += 1;
                self.column = self.column.min(line_len(self, self.line));
                false
            }
            KeyCode::Home => {
                self.column = 0;
                false
            }
            KeyCode::End => {
                self.column = line_len(self, self.line);
                false
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn fields_edit_by_character() {
        let mut f = Field::with("Zoë");
        assert!(f.edit(&key(KeyCode::Backspace)));
        assert_eq!(f.value, "Zo");
        f.insert("e\u{1b}[31m");
        assert_eq!(f.value, "Zoe[31m");
        f.edit(&KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        assert_eq!(f.value, "");
    }

    #[test]
    fn a_selected_value_is_replaced_by_typing_and_kept_by_moving() {
        let typed = |f: &mut Field, c: char| f.edit(&key(KeyCode::Char(c)));
        let mut f = Field::with("müller");
        f.select_all();
        assert!(typed(&mut f, 'g'));
        assert_eq!((f.value.as_str(), f.cursor, f.selected), ("g", 1, false));

        for (moved, cursor) in [
            (KeyCode::End, 6),
            (KeyCode::Right, 6),
            (KeyCode::Left, 0),
            (KeyCode::Home, 0),
        ] {
            let mut f = Field::with("müller");
            f.select_all();
            assert!(!f.edit(&key(moved)), "{moved:?}");
            assert_eq!(
                (f.value.as_str(), f.cursor, f.selected),
                ("müller", cursor, false)
            );
            typed(&mut f, 'x');
            assert_eq!(
                f.value.chars().filter(|c| *c == 'x').count(),
                1,
                "{moved:?}"
            );
            assert_eq!(
                f.value.chars().count(),
                7,
                "{moved:?}: typed after moving adds"
            );
        }

        for deleting in [
            key(KeyCode::Backspace),
            key(KeyCode::Delete),
            KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL),
        ] {
            let mut f = Field::with("gomez");
            f.select_all();
            assert!(f.edit(&deleting), "{deleting:?}");
            assert_eq!((f.value.as_str(), f.cursor, f.selected), ("", 0, false));
        }

        // Alt+letter and other keys leave the selection as it was; a paste replaces it.
        let mut f = Field::with("ana");
        f.select_all();
        assert!(!f.edit(&KeyEvent::new(KeyCode::Char('s'), KeyModifiers::ALT)));
        assert!(f.selected);
        f.insert("\u{1b}");
        assert_eq!(
            (f.value.as_str(), f.selected),
            ("ana", true),
            "nothing printable"
        );
        f.insert("Gómez");
        assert_eq!(
            (f.value.as_str(), f.cursor, f.selected),
            ("Gómez", 5, false)
        );
        // An empty field selects nothing.
        let mut f = Field::default();
        f.select_all();
        assert!(!f.selected);
    }

    #[test]
    fn alt_with_a_letter_types_nothing() {
        let alt_s = KeyEvent::new(KeyCode::Char('s'), KeyModifiers::ALT);
        let mut f = Field::default();
        assert!(!f.edit(&alt_s));
        assert_eq!(f.value, "");
        let mut n = Notes::default();
        assert!(!n.edit(&alt_s));
        assert_eq!(n.text(), "");
    }

    #[test]
    fn notes_split_and_join_lines() {
        let mut n = Notes::default();
        n.insert("History: cough\nPlan: rest");
        assert_eq!(n.lines.len(), 2);
        n.edit(&key(KeyCode::Home));
        n.edit(&key(KeyCode::Backspace));
        assert_eq!(n.text(), "History: coughPlan: rest");
        n.insert("\n");
        assert_eq!(n.text(), "History: cough\nPlan: rest");
    }
}
