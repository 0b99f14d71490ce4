//! The login screen: the server, email and password (masked), errors, and the demo accounts
//! when the workstation runs its own demo server.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::centered;
use crate::model::text::printable;
use crate::tui::state::{LoginFocus, State};

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let login = &state.login;
    let field = |label: &str, value: String, focused: bool| {
        let style = if focused {
            theme.selected()
        } else {
            theme.base()
        };
        Line::from(vec![
            Span::raw(format!("{label:>10} ")),
            Span::styled(format!(" {value:<36}"), style),
        ])
    };
    let masked: String = "•".repeat(login.password.value.chars().count());
    let mut lines = vec![
        Line::styled("Log in to Synapse", theme.title()),
        Line::raw(""),
        Line::from(vec![
            Span::raw(format!("{:>10} ", "Server")),
            Span::styled(printable(&state.session.server, true), theme.muted()),
        ]),
        Line::raw(""),
        field(
            "Email",
            login.email.value.clone(),
            login.focus == LoginFocus::Email,
        ),
        Line::raw(""),
        field("Password", masked, login.focus == LoginFocus::Password),
        Line::raw(""),
    ];
    if login.busy {
        lines.push(Line::styled("Logging in…", theme.muted()));
    } else if let Some(error) = &login.error {
        lines.push(Line::styled(printable(error, true), theme.error()));
    } else {
        lines.push(Line::raw(""));
    }
    if !state.session.demo_accounts.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            "Demo accounts (password password123):",
            theme.muted(),
        ));
        for account in &state.session.demo_accounts {
            lines.push(Line::styled(format!("  {account}"), theme.muted()));
        }
    }
    let height = lines.len() as u16 + 2;
    let rect = centered(area, 60, height);
    frame.render_widget(Paragraph::new(lines).block(Block::bordered()), rect);
    // Put the terminal cursor in the focused field.
    let (field_row, column) = match login.focus {
        LoginFocus::Email => (4, login.email.cursor),
        LoginFocus::Password => (6, login.password.cursor),
    };
    if !login.busy {
        frame.set_cursor_position((rect.x + 1 + 12 + column as u16, rect.y + 1 + field_row));
    }
}
