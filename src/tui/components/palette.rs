//! The command palette, an overlay: every screen command by fuzzy match on its description or
//! name, with its keys; Enter runs the chosen one.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::Overlay;
use crate::tui::effect::Effect;
use crate::tui::keymap::{Command, Scope, fuzzy_score};
use crate::tui::state::State;
use crate::tui::ui::centered;
use crate::tui::update::run_command;

/// The palette's commands matching what is typed, best first.
pub fn matches(input: &str) -> Vec<Command> {
    let mut scored: Vec<(usize, Command)> = Command::on_screens()
        .filter_map(|c| {
            let by_description = fuzzy_score(input, c.description());
            let by_name = fuzzy_score(input, c.name());
            by_description
                .into_iter()
                .chain(by_name)
                .min()
                .map(|score| (score, c))
        })
        .collect();
    scored.sort_by_key(|(score, _)| *score);
    scored.into_iter().map(|(_, c)| c).collect()
}

pub(crate) fn key(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
    let Some(Overlay::Palette { input, selected }) = &mut state.overlay else {
        return Vec::new();
    };
    match state.settings.keymap.command(key, Scope::Dialog) {
        Some(Command::Dismiss) => {
            state.overlay = None;
            return Vec::new();
        }
        Some(Command::Submit) => {
            let chosen = matches(&input.value).get(*selected).copied();
            state.overlay = None;
            return match chosen {
                Some(command) => run_command(state, command),
                None => Vec::new(),
            };
        }
        _ => {}
    }
    match key.code {
        KeyCode::Up => {
            *selected = selected.saturating_sub(1);
            Vec::new()
        }
        KeyCode::Down => {
            *selected += 1;
            let count = matches(&input.value).len();
            if *selected >= count {
                *selected = count.saturating_sub(1);
            }
            Vec::new()
        }
        _ => {
            if input.edit(key) {
                *selected = 0;
            }
            Vec::new()
        }
    }
}

pub(crate) fn paste(state: &mut State, text: &str) -> Vec<Effect> {
    if let Some(Overlay::Palette { input, selected }) = &mut state.overlay {
        input.insert(text);
        *selected = 0;
    }
    Vec::new()
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, input: &str, selected: usize) {
    let theme = &state.settings.theme;
    let matches = matches(input);
    let rect = centered(area, 60, 16);
    frame.render_widget(Clear, rect);
    let mut text = vec![
        Line::from(vec![
            Span::styled(": ", theme.title()),
            Span::raw(input.to_string()),
        ]),
        Line::raw(""),
    ];
    for (i, command) in matches.iter().take(12).enumerate() {
        let keys = state
            .settings
            .keymap
            .keys_for(*command)
            .iter()
            .map(|k| k.label())
            .collect::<Vec<_>>()
            .join(" ");
        let style = if i == selected {
            theme.selected()
        } else {
            theme.base()
        };
        text.push(Line::from(vec![
            Span::styled(format!(" {:<46}", command.description()), style),
            Span::styled(format!(" {keys}"), theme.muted()),
        ]));
    }
    frame.render_widget(
        Paragraph::new(text)
            .block(Block::bordered().title(Line::styled(" Command palette ", theme.title()))),
        rect,
    );
    frame.set_cursor_position((rect.x + 3 + input.chars().count() as u16, rect.y + 1));
}
