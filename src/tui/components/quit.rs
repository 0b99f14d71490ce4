//! Leaving with work not yet saved: quitting (Ctrl-C, `q`, the palette) asks first when
//! leaving now would lose typed text, and says what. Unsaved consultation notes are sent at
//! once while the question is up; once nothing is left unsaved the workstation leaves by itself.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::tui::components::dialogs::Dialog;
use crate::tui::effect::Effect;
use crate::tui::screens::consultation;
use crate::tui::state::State;
use crate::tui::ui::centered;

/// What leaving now would lose, in the doctor's words; `None` when nothing would be.
pub fn unsaved(state: &State) -> Option<&'static str> {
    match &state.dialog {
        Some(Dialog::EditReport(edit)) if edit.changed() => {
            return Some("your changes to the draft report");
        }
        Some(Dialog::Addendum(addendum)) if !addendum.editor.text().trim().is_empty() => {
            return Some("the addendum you are writing");
        }
        _ => {}
    }
    if consultation::notes_unsaved(state) {
        return Some("consultation notes the server has not confirmed");
    }
    if crate::tui::screens::mfa_enroll::codes_at_stake(state) {
        return Some("the second factor's recovery codes, which are not shown again");
    }
    None
}

/// Quit, or ask first when something would be lost (and start saving the notes).
pub(crate) fn request(state: &mut State) -> Vec<Effect> {
    if unsaved(state).is_none() {
        return quit(state);
    }
    state.quit_asked = true;
    state.dirty = true;
    consultation::save_notes(state)
}

/// A key while the question is up: y (or Ctrl-C again) leaves; any other key stays.
pub(crate) fn key(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
    state.quit_asked = false;
    match key.code {
        KeyCode::Char('y' | 'Y') => quit(state),
        _ => Vec::new(),
    }
}

/// After every action: a question whose reason went away (the notes were saved) leaves.
pub(crate) fn settle(state: &mut State) -> Vec<Effect> {
    if state.quit_asked && !state.quit && unsaved(state).is_none() {
        return quit(state);
    }
    Vec::new()
}

pub(crate) fn quit(state: &mut State) -> Vec<Effect> {
    state.quit = true;
    vec![Effect::Quit]
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let what = unsaved(state).unwrap_or("nothing");
    let mut lines = vec![
        Line::styled(format!("Not saved: {what}."), theme.warning()),
        Line::raw(""),
    ];
    if consultation::notes_unsaved(state) && state.offline.is_none() {
        lines.push(Line::raw(
            "Saving the notes now; Synapse quits by itself once they are saved.",
        ));
    } else if consultation::notes_unsaved(state) {
        lines.push(Line::raw(
            "The server does not answer. Copy the notes somewhere safe before quitting.",
        ));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "y quits and loses it · any other key goes back",
        theme.muted(),
    ));
    let rect = centered(area, 66, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(Line::styled(" Quit Synapse? ", theme.title()))),
        rect,
    );
}
