//! Overlays: patient search (results as the doctor types, matches highlighted, enough to tell
//! two namesakes apart), help generated from the keymap, the command palette, and the lock
//! screen, which shows no patient data at all.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Clear, Paragraph, Row, Table, TableState};

use super::centered;
use super::common::{mask_name, notice};
use crate::model::search::SearchWords;
use crate::model::text::printable;
use crate::tui::state::{Overlay, State};
use crate::tui::theme::Theme;
use crate::tui::update::palette_matches;

pub fn draw(frame: &mut Frame, area: Rect, state: &State, overlay: &Overlay) {
    match overlay {
        Overlay::Search => search(frame, area, state),
        Overlay::Help { filter } => help(frame, area, state, &filter.value),
        Overlay::Palette { input, selected } => {
            palette(frame, area, state, &input.value, *selected)
        }
    }
}

/// Splits `text` into spans with the parts matching any word of `term` highlighted.
fn highlighted(text: &str, term: &str, theme: &Theme) -> Line<'static> {
    let lower = text.to_lowercase();
    let mut marks = vec![false; text.len()];
    for word in term.split_whitespace() {
        let word = word.to_lowercase();
        if word.is_empty() {
            continue;
        }
        let mut from = 0;
        while let Some(found) = lower[from..].find(&word) {
            let start = from + found;
            for m in marks.iter_mut().skip(start).take(word.len()) {
                *m = true;
            }
            from = start + word.len();
        }
    }
    // Lower-casing can change byte lengths; then highlight nothing rather than split a char.
    if lower.len() != text.len() {
        return Line::raw(text.to_string());
    }
    let mut spans = Vec::new();
    let mut current = String::new();
    let mut marked = false;
    for (i, c) in text.char_indices() {
        let m = marks[i];
        if m != marked && !current.is_empty() {
            spans.push(if marked {
                Span::styled(std::mem::take(&mut current), theme.highlight())
            } else {
                Span::raw(std::mem::take(&mut current))
            });
        }
        marked = m;
        current.push(c);
    }
    if !current.is_empty() {
        spans.push(if marked {
            Span::styled(current, theme.highlight())
        } else {
            Span::raw(current)
        });
    }
    Line::from(spans)
}

fn search(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let s = &state.search;
    let rect = centered(
        area,
        area.width.saturating_sub(6).min(110),
        area.height.saturating_sub(2).min(22),
    );
    frame.render_widget(Clear, rect);
    let block = Block::bordered().title(Line::styled(" Find a patient ", theme.title()));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [input, results] =
        Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(inner);
    let status = if s.loading { "  searching…" } else { "" };
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(vec![
                Span::raw("/ "),
                Span::raw(s.input.value.clone()),
                Span::styled(status, theme.muted()),
            ]),
            Line::styled(
                "name, MRN, phone or email — Enter opens, Esc returns",
                theme.muted(),
            ),
        ]),
        input,
    );
    frame.set_cursor_position((input.x + 2 + s.input.cursor as u16, input.y));
    if let Some(error) = &s.error {
        return notice(frame, results, state, error, true);
    }
    if s.results.is_empty() {
        let text = match &s.searched {
            _ if s.loading => "Searching…",
            Some(term) if !SearchWords::new(term).takes_substrings() && !term.trim().is_empty() => {
                "Nothing starts with this; three letters also search inside names."
            }
            Some(term) if !term.is_empty() => "No patient matches.",
            _ => "Type part of a name, an MRN, a phone number or an email.",
        };
        return notice(frame, results, state, text, false);
    }
    let term = s.searched.clone().unwrap_or_default();
    let rows = s.results.iter().map(|p| {
        let name = printable(&p.full_name, true);
        let name = if state.privacy {
            Line::raw(mask_name(&name))
        } else {
            highlighted(&name, &term, theme)
        };
        let phone_tail = match (&p.phone, state.privacy) {
            (Some(_), true) => "•••".to_string(),
            (Some(phone), false) => {
                let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
                format!("…{}", &digits[digits.len().saturating_sub(4)..])
            }
            (None, _) => "—".to_string(),
        };
        Row::new(vec![
            Cell::from(name),
            Cell::from(if state.privacy {
                "••••-••-••".to_string()
            } else {
                p.date_of_birth.to_string()
            }),
            Cell::from(format!("{} y", p.age)),
            Cell::from(p.sex.as_str()),
            Cell::from(highlighted(&p.mrn, &term, theme)),
            Cell::from(phone_tail),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Min(20),
            Constraint::Length(10),
            Constraint::Length(5),
            Constraint::Length(7),
            Constraint::Length(11),
            Constraint::Length(7),
        ],
    )
    .header(Row::new(["Name", "Born", "Age", "Sex", "MRN", "Phone"]).style(theme.muted()))
    .row_highlight_style(theme.selected());
    let mut table_state = TableState::default().with_selected(Some(s.selected));
    frame.render_stateful_widget(table, results, &mut table_state);
}

fn help(frame: &mut Frame, area: Rect, state: &State, filter: &str) {
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

fn palette(frame: &mut Frame, area: Rect, state: &State, input: &str, selected: usize) {
    let theme = &state.settings.theme;
    let matches = palette_matches(input);
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

/// The lock screen: no names, no charts, nothing from the server except who is logged in.
pub fn lock(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let who = state
        .session
        .user
        .as_ref()
        .map(|u| printable(&u.email, true))
        .unwrap_or_default();
    let masked = "•".repeat(state.lock.password.value.chars().count());
    let mut lines = vec![
        Line::styled("Synapse is locked", theme.title()),
        Line::raw(""),
        Line::raw(format!("Enter the password of {who} to continue.")),
        Line::raw(""),
        Line::from(vec![
            Span::raw("Password "),
            Span::styled(format!(" {masked:<30}"), theme.selected()),
        ]),
        Line::raw(""),
    ];
    if state.lock.busy {
        lines.push(Line::styled("Checking…", theme.muted()));
    } else if let Some(error) = &state.lock.error {
        lines.push(Line::styled(printable(error, true), theme.error()));
    }
    let rect = centered(area, 60, 10);
    frame.render_widget(Paragraph::new(lines).block(Block::bordered()), rect);
    frame.set_cursor_position((rect.x + 11 + state.lock.password.cursor as u16, rect.y + 5));
}
