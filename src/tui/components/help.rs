//! Help, an overlay: the commands that work on the current screen with the keys that run them
//! there (the screen's own and the global ones, generated from the keymap), filtered as the
//! doctor types and scrolled with the motion keys, so it reads whole at 80×24.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::Overlay;
use crate::tui::effect::Effect;
use crate::tui::keymap::{Command, Key, Scope};
use crate::tui::layout::FrameAreas;
use crate::tui::screens::{available, moved};
use crate::tui::state::State;
use crate::tui::ui::centered;

/// Lines above the list inside help's box: the filter and a blank line.
const HEADER_LINES: u16 = 2;

/// `key labels, description` for each command that works here and matches `filter`
/// (case-insensitive, on the description, the keys or the command's name).
pub fn lines(state: &State, filter: &str) -> Vec<(String, &'static str)> {
    let filter = filter.to_lowercase();
    available(state)
        .into_iter()
        .filter(|(_, keys)| !keys.is_empty())
        .filter_map(|(command, keys)| {
            let label = keys.iter().map(Key::label).collect::<Vec<_>>().join(" ");
            let line = (label, command.description());
            let matches = filter.is_empty()
                || line.1.to_lowercase().contains(&filter)
                || line.0.to_lowercase().contains(&filter)
                || command.name().contains(&filter);
            matches.then_some(line)
        })
        .collect()
}

/// Help's box in the screen's area.
fn area(screen: Rect) -> Rect {
    centered(screen, 72, screen.height.saturating_sub(2))
}

/// How many list lines help's box shows on the terminal the state knows of.
fn room(state: &State) -> usize {
    usize::from(
        area(FrameAreas::of(state).screen)
            .height
            .saturating_sub(2 + HEADER_LINES),
    )
    .max(1)
}

/// The first line to show so the last page is full rather than scrolled past the end.
fn last_scroll(total: usize, room: usize) -> usize {
    total.saturating_sub(room)
}

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
    let motion = keymap
        .own_command(key, Scope::Global)
        .filter(|c| crate::tui::screens::is_motion(*c));
    let total = lines(
        state,
        match &state.overlay {
            Some(Overlay::Help { filter, .. }) => &filter.value,
            _ => "",
        },
    )
    .len();
    let room = room(state);
    let Some(Overlay::Help { filter, scroll }) = &mut state.overlay else {
        return Vec::new();
    };
    let typed = matches!(key.code, KeyCode::Char(_)) && !filter.value.is_empty();
    if closes || (help_key && !typed) {
        state.overlay = None;
        return Vec::new();
    }
    // Motion keys scroll; once a filter is being typed, letters (j, k, g, G) are part of it.
    if let Some(command) = motion
        && !typed
    {
        let page = room.saturating_sub(1).max(1);
        let last = last_scroll(total, room);
        *scroll = moved(*scroll, last + 1, command, page);
        return Vec::new();
    }
    if filter.edit(key) {
        *scroll = 0;
    }
    Vec::new()
}

pub(crate) fn paste(state: &mut State, text: &str) -> Vec<Effect> {
    if let Some(Overlay::Help { filter, scroll }) = &mut state.overlay {
        filter.insert(text);
        *scroll = 0;
    }
    Vec::new()
}

pub fn draw(frame: &mut Frame, screen: Rect, state: &State, filter: &str, scroll: usize) {
    let theme = &state.settings.theme;
    let lines = lines(state, filter);
    let rect = area(screen);
    frame.render_widget(Clear, rect);
    let mut text = vec![
        Line::from(vec![
            Span::styled("Filter: ", theme.muted()),
            Span::raw(filter.to_string()),
        ]),
        Line::raw(""),
    ];
    let room = usize::from(rect.height.saturating_sub(2 + HEADER_LINES)).max(1);
    let first = scroll.min(last_scroll(lines.len(), room));
    let end = (first + room).min(lines.len());
    for (keys, description) in &lines[first..end] {
        text.push(Line::from(vec![
            Span::styled(format!("{keys:>18}  "), theme.title()),
            Span::raw(*description),
        ]));
    }
    if lines.is_empty() {
        text.push(Line::styled(
            format!("{:>18}  no key here matches the filter", ""),
            theme.muted(),
        ));
    }
    // Where the list is, when it does not fit: the lines shown of how many.
    let position = if lines.len() > room {
        format!("{}–{} of {} · ", first + 1, end, lines.len())
    } else {
        String::new()
    };
    frame.render_widget(
        Paragraph::new(text).block(Block::bordered().title(Line::styled(
            format!(" Keys here — {position}j/k scroll, type to filter, Esc closes "),
            theme.title(),
        ))),
        rect,
    );
}
