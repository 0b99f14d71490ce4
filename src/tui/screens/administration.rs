//! The administrator's first screen. It stands in for the users and audit screens until they
//! are built (replace this module with them): it says what the workstation offers an
//! administrator and where account work is done meanwhile. It shows no patient data, loads
//! nothing, and handles no commands of its own.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::tui::keymap::Command;

/// The commands the key-hint bar offers here.
pub const HINTS: &[Command] = &[Command::Lock, Command::Help, Command::Quit];

/// The commands this screen handles: none yet.
pub const COMMANDS: &[Command] = &[];

pub fn draw(frame: &mut Frame, area: Rect, state: &crate::tui::state::State) {
    let theme = &state.settings.theme;
    let block = Block::bordered().title(Line::styled(" Administration ", theme.title()));
    let lines = vec![
        Line::raw(""),
        Line::raw("Accounts and the audit log are not in the workstation yet."),
        Line::raw(""),
        Line::styled(
            "Meanwhile use `synapse admin` on the server (users, unlock, audit).",
            theme.muted(),
        ),
        Line::styled(
            "Patient lists, charts and reports are for doctors and the front desk.",
            theme.muted(),
        ),
    ];
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .centered()
            .block(block),
        area,
    );
}
