//! Text entry: a one-line field (email, password, search, reasons) and a multi-line editor
//! (consultation notes, a draft's sections, addenda). Plain data with editing operations, so
//! `update` stays pure and testable. Both move and delete by word (Ctrl or Alt with the arrows,
//! Ctrl-W, Alt/Ctrl-Backspace); the multi-line editor also undoes (Ctrl-Z) and redoes (Ctrl-Y)
//! and lays its text out in rows with the cursor's place, for the terminal cursor.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// How many changes the multi-line editor can undo.
const UNDO_DEPTH: usize = 200;

/// Where a word starts at or before `at`: spaces before `at` are skipped, then the word. A word
/// is a run of characters other than whitespace, as Ctrl-W in a shell sees it.
fn word_start(chars: &[char], at: usize) -> usize {
    let mut i = at.min(chars.len());
    while i > 0 && chars[i - 1].is_whitespace() {
        i -= 1;
    }
    while i > 0 && !chars[i - 1].is_whitespace() {
        i -= 1;
    }
    i
}

/// Where the word at or after `at` ends: spaces after `at` are skipped, then the word.
fn word_end(chars: &[char], at: usize) -> usize {
    let mut i = at.min(chars.len());
    while i < chars.len() && chars[i].is_whitespace() {
        i += 1;
    }
    while i < chars.len() && !chars[i].is_whitespace() {
        i += 1;
    }
    i
}

/// Whether a key moves or deletes by word: Ctrl or Alt with an arrow or Backspace.
fn by_word(key: &KeyEvent) -> bool {
    key.modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
}

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
            KeyCode::Char('w') if ctrl => self.delete_word(),
            KeyCode::Backspace if by_word(key) => self.delete_word(),
            KeyCode::Char(c) if !ctrl && !alt => {
                self.insert(&c.to_string());
                true
            }
            KeyCode::Left if by_word(key) => {
                let chars: Vec<char> = self.value.chars().collect();
                self.cursor = word_start(&chars, self.cursor);
                false
            }
            KeyCode::Right if by_word(key) => {
                let chars: Vec<char> = self.value.chars().collect();
                self.cursor = word_end(&chars, self.cursor);
                false
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

    /// Deletes the word before the cursor (and the spaces after it); returns whether it did.
    fn delete_word(&mut self) -> bool {
        let chars: Vec<char> = self.value.chars().collect();
        let start = word_start(&chars, self.cursor);
        if start == self.cursor {
            return false;
        }
        self.value = chars[..start].iter().chain(&chars[self.cursor..]).collect();
        self.cursor = start;
        true
    }
}

/// A multi-line editor (consultation notes, a draft's sections, an addendum): lines of text
/// with a cursor (line, column in characters) and the changes it can undo.
#[derive(Debug, Clone)]
pub struct Notes {
    pub lines: Vec<String>,
    pub line: usize,
    pub column: usize,
    history: History,
}

/// What the editor can undo and redo: the text and cursor before each change.
#[derive(Debug, Clone, Default)]
struct History {
    undo: Vec<Snapshot>,
    redo: Vec<Snapshot>,
    /// The last change was typing a character that is not a space: the next one joins it, so
    /// one undo takes back a word, not a letter.
    typing: bool,
}

#[derive(Debug, Clone)]
struct Snapshot {
    lines: Vec<String>,
    line: usize,
    column: usize,
}

/// Two editors are equal when they hold the same text with the cursor at the same place; what
/// they could undo is not part of what they show.
impl PartialEq for Notes {
    fn eq(&self, other: &Notes) -> bool {
        (&self.lines, self.line, self.column) == (&other.lines, other.line, other.column)
    }
}

impl Eq for Notes {}

impl Default for Notes {
    fn default() -> Notes {
        Notes {
            lines: vec![String::new()],
            line: 0,
            column: 0,
            history: History::default(),
        }
    }
}

/// The editor's text laid out in rows of a width: what a view draws, and where the cursor is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Display rows: tabs as four spaces, control characters as U+FFFD, lines cut at the width.
    pub rows: Vec<String>,
    /// The cursor's row and column in `rows`.
    pub cursor: (usize, usize),
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
            history: History::default(),
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

    fn line_len(&self, i: usize) -> usize {
        self.lines.get(i).map_or(0, |l| l.chars().count())
    }

    /// Keeps the text as it is before a change, to undo it; a change breaks the redo chain.
    /// `typing` joins a typed character to the change before it when that was typing too.
    fn record(&mut self, typing: bool) {
        let joins = typing && self.history.typing;
        self.history.typing = typing;
        self.history.redo.clear();
        if joins {
            return;
        }
        self.history.undo.push(self.snapshot());
        if self.history.undo.len() > UNDO_DEPTH {
            self.history.undo.remove(0);
        }
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            lines: self.lines.clone(),
            line: self.line,
            column: self.column,
        }
    }

    fn restore(&mut self, snapshot: Snapshot) {
        self.lines = snapshot.lines;
        self.line = snapshot.line;
        self.column = snapshot.column;
        self.history.typing = false;
    }

    /// Takes back the last change; returns whether there was one.
    pub fn undo(&mut self) -> bool {
        let Some(before) = self.history.undo.pop() else {
            return false;
        };
        let now = self.snapshot();
        self.history.redo.push(now);
        self.restore(before);
        true
    }

    /// Makes again the change last undone; returns whether there was one.
    pub fn redo(&mut self) -> bool {
        let Some(after) = self.history.redo.pop() else {
            return false;
        };
        let now = self.snapshot();
        self.history.undo.push(now);
        self.restore(after);
        true
    }

    /// Inserts typed or pasted text, undone as one change; newlines split lines, tabs stay,
    /// other controls go.
    pub fn insert(&mut self, text: &str) {
        self.record(false);
        self.insert_text(text);
    }

    fn insert_text(&mut self, text: &str) {
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

    /// Deletes the characters of the current line from `from` to the cursor.
    fn delete_back_to(&mut self, from: usize) {
        let column = self.column;
        let line = self.current();
        let chars: Vec<char> = line.chars().collect();
        *line = chars[..from].iter().chain(&chars[column..]).collect();
        self.column = from;
    }

    /// Applies an editing key; returns whether the text changed.
    pub fn edit(&mut self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        // Alt+letter is a command key (or nothing), never the letter typed.
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let chars = |notes: &Notes| -> Vec<char> {
            notes
                .lines
                .get(notes.line)
                .map_or_else(Vec::new, |l| l.chars().collect())
        };
        match key.code {
            KeyCode::Char('z') if ctrl => self.undo(),
            KeyCode::Char('y') if ctrl => self.redo(),
            KeyCode::Char('w') if ctrl => self.delete_word(),
            KeyCode::Backspace if by_word(key) => self.delete_word(),
            KeyCode::Char('u') if ctrl => {
                if self.column == 0 {
                    return false;
                }
                self.record(false);
                self.delete_back_to(0);
                true
            }
            KeyCode::Char(c) if !ctrl && !alt => {
                self.record(!c.is_whitespace());
                self.insert_text(&c.to_string());
                true
            }
            KeyCode::Tab => {
                self.record(false);
                self.insert_text("\t");
                true
            }
            KeyCode::Enter => {
                self.record(false);
                self.newline();
                true
            }
            KeyCode::Backspace => {
                if self.column > 0 {
                    self.record(false);
                    let from = self.column - 1;
                    self.delete_back_to(from);
                    true
                } else if self.line > 0 {
                    self.record(false);
                    self.join_previous();
                    true
                } else {
                    false
                }
            }
            KeyCode::Delete => {
                if self.column < self.line_len(self.line) {
                    self.record(false);
                    self.column += 1;
                    let from = self.column - 1;
                    self.delete_back_to(from);
                    true
                } else if self.line + 1 < self.lines.len() {
                    self.record(false);
                    self.line += 1;
                    self.column = 0;
                    self.join_previous();
                    true
                } else {
                    false
                }
            }
            KeyCode::Left if by_word(key) => {
                if self.column == 0 && self.line > 0 {
                    self.line -= 1;
                    self.column = self.line_len(self.line);
                }
                self.column = word_start(&chars(self), self.column);
                self.history.typing = false;
                false
            }
            KeyCode::Right if by_word(key) => {
                if self.column == self.line_len(self.line) && self.line + 1 < self.lines.len() {
                    self.line += 1;
                    self.column = 0;
                }
                self.column = word_end(&chars(self), self.column);
                self.history.typing = false;
                false
            }
            KeyCode::Left => {
                if self.column > 0 {
                    self.column -= 1;
                } else if self.line > 0 {
                    self.line -= 1;
                    self.column = self.line_len(self.line);
                }
                self.history.typing = false;
                false
            }
            KeyCode::Right => {
                if self.column < self.line_len(self.line) {
                    self.column += 1;
                } else if self.line + 1 < self.lines.len() {
                    self.line += 1;
                    self.column = 0;
                }
                self.history.typing = false;
                false
            }
            KeyCode::Up if self.line > 0 => {
                self.line -= 1;
                self.column = self.column.min(self.line_len(self.line));
                self.history.typing = false;
                false
            }
            KeyCode::Down if self.line + 1 < self.lines.len() => {
                self.line += 1;
                self.column = self.column.min(self.line_len(self.line));
                self.history.typing = false;
                false
            }
            KeyCode::Home => {
                self.column = 0;
                self.history.typing = false;
                false
            }
            KeyCode::End => {
                self.column = self.line_len(self.line);
                self.history.typing = false;
                false
            }
            _ => false,
        }
    }

    /// Whether `key` is one of the editor's own control keys (undo, redo, deleting a word or
    /// to the line's start), which a screen hands to the editor rather than the keymap.
    pub fn takes(key: &KeyEvent) -> bool {
        key.modifiers.contains(KeyModifiers::CONTROL)
            && matches!(key.code, KeyCode::Char('z' | 'y' | 'w' | 'u'))
    }

    /// Deletes the word before the cursor; at a line's start, joins it to the line before.
    fn delete_word(&mut self) -> bool {
        if self.column == 0 {
            if self.line == 0 {
                return false;
            }
            self.record(false);
            self.join_previous();
            return true;
        }
        self.record(false);
        let from = {
            let line: Vec<char> = self.lines[self.line.min(self.lines.len() - 1)]
                .chars()
                .collect();
            word_start(&line, self.column)
        };
        self.delete_back_to(from);
        true
    }

    /// Joins the current line to the one before, the cursor where they meet.
    fn join_previous(&mut self) {
        let removed = self.lines.remove(self.line);
        self.line -= 1;
        self.column = self.line_len(self.line);
        self.current().push_str(&removed);
    }

    /// The text in rows of at most `width` columns, and where the cursor is among them. A
    /// cursor after a full row's last column starts the next row, as a terminal would put it.
    pub fn layout(&self, width: usize) -> Layout {
        let width = width.max(1);
        let mut rows = Vec::new();
        let mut cursor = (0, 0);
        for (index, line) in self.lines.iter().enumerate() {
            let mut cells = String::new();
            let mut offset = 0;
            for (i, c) in line.chars().enumerate() {
                if index == self.line && i == self.column {
                    offset = cells.chars().count();
                }
                match c {
                    '\t' => cells.push_str("    "),
                    c if c.is_control() => cells.push('\u{fffd}'),
                    c => cells.push(c),
                }
            }
            let cells: Vec<char> = cells.chars().collect();
            if index == self.line && self.column >= self.line_len(index) {
                offset = cells.len();
            }
            let first = rows.len();
            rows.extend(
                cells
                    .chunks(width)
                    .map(|row| row.iter().collect::<String>()),
            );
            if cells.is_empty() {
                rows.push(String::new());
            }
            if index == self.line {
                cursor = (first + offset / width, offset % width);
                if cursor.0 == rows.len() {
                    rows.push(String::new());
                }
            }
        }
        Layout { rows, cursor }
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

    fn with(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn fields_move_and_delete_by_word() {
        let mut f = Field::with("sertraline 50 mg");
        f.edit(&with(KeyCode::Left, KeyModifiers::CONTROL));
        assert_eq!(f.cursor, 14, "to the start of mg");
        f.edit(&with(KeyCode::Left, KeyModifiers::ALT));
        assert_eq!(f.cursor, 11, "to the start of 50");
        f.edit(&with(KeyCode::Right, KeyModifiers::CONTROL));
        assert_eq!(f.cursor, 13, "to the end of 50");
        assert!(f.edit(&with(KeyCode::Backspace, KeyModifiers::ALT)));
        assert_eq!((f.value.as_str(), f.cursor), ("sertraline  mg", 11));
        assert!(f.edit(&with(KeyCode::Char('w'), KeyModifiers::CONTROL)));
        assert_eq!((f.value.as_str(), f.cursor), (" mg", 0));
        assert!(!f.edit(&with(KeyCode::Char('w'), KeyModifiers::CONTROL)));
    }

    #[test]
    fn notes_move_and_delete_by_word_across_lines() {
        let mut n = Notes::from_text("Plan: rest\nReview in two weeks");
        n.edit(&with(KeyCode::Left, KeyModifiers::CONTROL));
        assert_eq!((n.line, n.column), (1, 14));
        n.edit(&key(KeyCode::Home));
        n.edit(&with(KeyCode::Left, KeyModifiers::CONTROL));
        assert_eq!(
            (n.line, n.column),
            (0, 6),
            "to the start of rest on the line above"
        );
        n.edit(&with(KeyCode::Right, KeyModifiers::ALT));
        assert_eq!((n.line, n.column), (0, 10));
        n.edit(&with(KeyCode::Right, KeyModifiers::ALT));
        assert_eq!((n.line, n.column), (1, 6), "to the end of Review");
        assert!(n.edit(&with(KeyCode::Char('w'), KeyModifiers::CONTROL)));
        assert_eq!(n.text(), "Plan: rest\n in two weeks");
        assert!(n.edit(&with(KeyCode::Backspace, KeyModifiers::ALT)));
        assert_eq!(
            n.text(),
            "Plan: rest in two weeks",
            "at a line's start it joins"
        );
        assert!(n.edit(&with(KeyCode::Char('u'), KeyModifiers::CONTROL)));
        assert_eq!(n.text(), " in two weeks");
    }

    #[test]
    fn notes_undo_a_word_at_a_time_and_redo() {
        let mut n = Notes::default();
        for c in "Low mood".chars() {
            n.edit(&key(KeyCode::Char(c)));
        }
        n.insert(", pasted");
        let ctrl = |c| with(KeyCode::Char(c), KeyModifiers::CONTROL);
        assert!(n.edit(&ctrl('z')));
        assert_eq!(n.text(), "Low mood");
        assert!(n.edit(&ctrl('z')));
        assert_eq!(n.text(), "Low ");
        assert!(n.edit(&ctrl('z')));
        assert_eq!(n.text(), "Low");
        assert!(n.edit(&ctrl('z')));
        assert_eq!(n.text(), "");
        assert!(!n.edit(&ctrl('z')), "nothing more to undo");
        assert!(n.edit(&ctrl('y')));
        assert!(n.edit(&ctrl('y')));
        assert_eq!((n.text().as_str(), n.column), ("Low ", 4));
        // A new change ends the redo chain.
        n.edit(&key(KeyCode::Char('x')));
        assert!(!n.edit(&ctrl('y')));
        assert_eq!(n.text(), "Low x");
        // What can be undone is not part of what an editor is.
        assert_eq!(n, Notes::from_text("Low x"));
    }

    #[test]
    fn the_layout_cuts_rows_at_the_width_and_places_the_cursor() {
        let mut n = Notes::from_text("abcdef\n\tx");
        let layout = n.layout(4);
        assert_eq!(layout.rows, ["abcd", "ef", "    ", "x"]);
        assert_eq!(layout.cursor, (3, 1));
        n.line = 0;
        n.column = 4;
        assert_eq!(n.layout(4).cursor, (1, 0));
        // After a full row the cursor starts a row of its own.
        let n = Notes::from_text("abcd");
        let layout = n.layout(4);
        assert_eq!(layout.rows, ["abcd", ""]);
        assert_eq!(layout.cursor, (1, 0));
        let n = Notes::from_text("a\u{1b}[2J");
        assert_eq!(n.layout(10).rows, ["a\u{fffd}[2J"]);
    }
}
