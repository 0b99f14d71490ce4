//! Help, an overlay: every screen command with its keys, generated from the keymap and
//! filtered as the doctor types.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::Overlay;
use crate::tui::effect::Effect;
use crate::tui::keymap::{Command, Key, Scope};
use crate::tui::state::State;
use crate::tui::ui::centered;

pub(crate) fn key(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
    let keymap = &state.settings.keymap;
    let closes = matches!(
        keymap.command(key, Scope::Dialog),
        Some(Command::Dismiss | Command::Submit)
    );
    // The key that opened help closes it, unless it is a character typed into the filter.
    let help_key = keymap
        .keys_for(Command::Help)
        .contains(&Key::from_event(key));
    if let Some(Overlay::Help { filter }) = &mut state.overlay {
        let typed = matches!(key.code, KeyCode::Char(_)) && !filter.value.is_empty();
        if closes || (help_key && !typed) {
            state.overlay = None;
        } else {
            filter.edit(key);
        }
    }
    Vec::new()
}

pub(crate) fn paste(state: &mut State, text: &str) -> Vec<Effect> {
    if let Some(Overlay::Help { filter }) = &mut state.overlay {
        filter.insert(text);
    }
    Vec::new()
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, filter: &str) {
    let theme = &state.settings.theme;
    let lines = state.settings.keymap.help_lines(filter);
    let rect = centered(area, 72, area.height.saturating_sub(2));
    frame.render_widget(Clear, rect);
    let mut text = vec![
        Line::from(vec![
            Span::styled("Filter: ", theme.muted()),
            Span::raw(filter.to_string()),
        ]),
        Line::raw(""),
    ];
    // Say when the list goes on below the box, rather than cut it off silently.
    let room = rect.height.saturating_sub(2 + 2) as usize;
    let shown = if lines.len() > room {
        room.saturating_sub(1)
    } else {
        lines.len()
    };
    let more = lines.len() - shown;
    for (keys, description) in lines.into_iter().take(shown) {
        text.push(Line::from(vec![
            Span::styled(format!("{keys:>18}  "), theme.title()),
            Span::raw(description),
        ]));
    }
    if more > 0 {
        text.push(Line::styled(
            format!("{:>18}  … {more} more: type to filter", ""),
            theme.muted(),
        ));
    }
    frame.render_widget(
        Paragraph::new(text).block(Block::bordered().title(Line::styled(
            " Keys — type to filter, Esc closes ",
            theme.title(),
        ))),
        rect,
    );
}
