//! Notes as the generator reads them: without the control characters the API refuses in every
//! field.

use std::borrow::Cow;

/// Control characters other than newline and tab never reach a report (the API refuses them in
/// every field, so a doctor could not save an edited draft that held one). A carriage return
/// ends a line; any other control character becomes a space, so the words around it stay apart.
/// Clean notes, the usual case, are borrowed without a copy.
pub(super) fn sanitize(notes: &str) -> Cow<'_, str> {
    if !notes
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Cow::Borrowed(notes);
    }
    let mut clean = String::with_capacity(notes.len());
    let mut chars = notes.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' => clean.push('\n'),
            '\n' | '\t' => clean.push(c),
            c if c.is_control() => clean.push(' '),
            c => clean.push(c),
        }
    }
    Cow::Owned(clean)
}
