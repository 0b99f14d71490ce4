//! The command palette, an overlay: the commands that work on the current screen by fuzzy
//! match on their description or name, with their keys; Enter runs the chosen one. What is
//! typed can also be a patient: an MRN (`MRN-000060`) jumps to that chart, any other text
//! searches patients with it.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::{Overlay, search};
use crate::model::text::printable;
use crate::tui::effect::Effect;
use crate::tui::keymap::{Command, Key, Scope, fuzzy_score};
use crate::tui::screens::{keys_here, works_here};
use crate::tui::state::State;
use crate::tui::ui::centered;
use crate::tui::update::run_command;

/// Lines the palette lists at most.
const SHOWN: usize = 12;

/// One line of the palette.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// Open the chart of the patient with this MRN.
    Chart(String),
    /// Search patients for this text.
    Find(String),
    Run(Command),
}

/// Whether `text` is an MRN (`MRN-` and digits, any case), as the palette jumps by it.
pub fn mrn(text: &str) -> Option<String> {
    // `:MRN-000060` typed whole after the palette's own `:` is the same jump.
    let text = text.trim().trim_start_matches(':');
    let digits = text.get(..4).filter(|p| p.eq_ignore_ascii_case("mrn-"))?;
    let number = &text[digits.len()..];
    (!number.is_empty() && number.chars().all(|c| c.is_ascii_digit()))
        .then(|| format!("MRN-{number}"))
}

/// The palette's choices for what is typed, best first: an MRN's chart; the commands that
/// work on this screen (never the palette itself); then, for other text, a patient search.
pub fn choices(state: &State, input: &str) -> Vec<Choice> {
    if let Some(mrn) = mrn(input) {
        return vec![Choice::Chart(mrn)];
    }
    let mut scored: Vec<(usize, Command)> = Command::on_screens()
        .filter(|c| *c != Command::Palette && works_here(state, *c))
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
    let term = input.trim();
    let mut choices: Vec<Choice> = scored.into_iter().map(|(_, c)| Choice::Run(c)).collect();
    if !term.is_empty() {
        // Within the lines shown, so a name typed is always one Down (or Enter) away.
        choices.truncate(SHOWN - 1);
        choices.push(Choice::Find(term.to_string()));
    }
    choices
}

fn run(state: &mut State, choice: Choice) -> Vec<Effect> {
    match choice {
        Choice::Chart(mrn) => search::jump_to_mrn(state, &mrn),
        Choice::Find(term) => search::search_for(state, &term),
        Choice::Run(command) => run_command(state, command),
    }
}

pub(crate) fn key(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
    let Some(Overlay::Palette { input, selected }) = &state.overlay else {
        return Vec::new();
    };
    let (typed, chosen) = (input.value.clone(), *selected);
    match state.settings.keymap.command(key, Scope::Dialog) {
        Some(Command::Dismiss) => {
            state.overlay = None;
            return Vec::new();
        }
        Some(Command::Submit) => {
            let choice = choices(state, &typed).get(chosen).cloned();
            state.overlay = None;
            return match choice {
                Some(choice) => run(state, choice),
                None => Vec::new(),
            };
        }
        _ => {}
    }
    let count = choices(state, &typed).len();
    let Some(Overlay::Palette { input, selected }) = &mut state.overlay else {
        return Vec::new();
    };
    match key.code {
        KeyCode::Up => *selected = selected.saturating_sub(1),
        KeyCode::Down => *selected = (*selected + 1).min(count.saturating_sub(1)),
        _ => {
            if input.edit(key) {
                *selected = 0;
            }
        }
    }
    Vec::new()
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
    let choices = choices(state, input);
    let rect = centered(area, 60, 16);
    frame.render_widget(Clear, rect);
    let mut text = vec![
        Line::from(vec![
            Span::styled(": ", theme.title()),
            Span::raw(input.to_string()),
        ]),
        Line::raw(""),
    ];
    if choices.is_empty() {
        text.push(Line::styled(
            " Type a command, an MRN (MRN-000060) or a name",
            theme.muted(),
        ));
    }
    for (i, choice) in choices.iter().take(SHOWN).enumerate() {
        let (label, keys) = match choice {
            Choice::Chart(mrn) => (format!("Open the chart of {mrn}"), String::new()),
            Choice::Find(term) => (
                format!("Find a patient: “{}”", printable(term, true)),
                String::new(),
            ),
            Choice::Run(command) => (
                command.description().to_string(),
                keys_here(state, *command)
                    .iter()
                    .map(Key::label)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        };
        let style = if i == selected {
            theme.selected()
        } else {
            theme.base()
        };
        text.push(Line::from(vec![
            Span::styled(format!(" {label:<46}"), style),
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

#[cfg(test)]
mod tests {
    use super::mrn;

    #[test]
    fn an_mrn_is_mrn_and_digits_in_any_case_with_or_without_the_colon() {
        assert_eq!(mrn("MRN-000060").as_deref(), Some("MRN-000060"));
        assert_eq!(mrn(" mrn-60 ").as_deref(), Some("MRN-60"));
        assert_eq!(mrn(":MRN-000060").as_deref(), Some("MRN-000060"));
        assert_eq!(mrn("MRN-"), None);
        assert_eq!(mrn("MRN-12a"), None);
        assert_eq!(mrn("mr"), None);
        assert_eq!(
            mrn("Ménard"),
            None,
            "a name with a wide letter is not cut mid-character"
        );
    }
}
