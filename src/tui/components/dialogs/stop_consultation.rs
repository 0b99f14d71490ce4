//! Stopping a consultation whose notes are empty: the report would have nothing to be built
//! from and fail, so the doctor is asked first; only an explicit yes stops it.

use crossterm::event::KeyEvent;
use ratatui::text::Line;

use super::{Step, View};
use crate::tui::keymap::{Command, Scope};
use crate::tui::screens::consultation;
use crate::tui::state::State;

pub(super) fn key(state: &mut State, key: &KeyEvent) -> Step {
    match state.settings.keymap.command(key, Scope::SignConfirm) {
        Some(Command::Yes) => Step::Close(consultation::stop(state)),
        // Anything else keeps the consultation running, the notes editor as it was.
        _ => Step::Close(Vec::new()),
    }
}

pub(super) fn view(state: &State) -> View {
    let theme = &state.settings.theme;
    let key = |command| state.settings.keymap.hint_key(command, Scope::SignConfirm);
    let lines = vec![
        Line::raw("The notes are empty. Stop the consultation anyway?"),
        Line::raw("Its report will fail, and you write it by hand before signing."),
        Line::raw(""),
        Line::styled(
            format!(
                "{} stops it · any other key keeps it running",
                key(Command::Yes)
            ),
            theme.warning(),
        ),
    ];
    View {
        title: " Stop the consultation ",
        height: lines.len() as u16 + 2,
        lines,
        cursor: None,
    }
}
