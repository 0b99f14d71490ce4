//! The terminal guard: raw mode, the alternate screen and bracketed paste on entry, and a
//! restore that runs exactly once — on exit, on error, on panic (the hook runs it before the
//! default hook) and on SIGTERM/SIGHUP (the event loop drops the guard).

use std::io::{Stdout, Write, stdout};
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::cursor::Show;
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, SetTitle, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Puts the terminal back as it was. Safe to call any number of times.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let mut out = stdout();
        let _ = execute!(
            out,
            DisableMouseCapture,
            DisableBracketedPaste,
            LeaveAlternateScreen,
            Show
        );
        let _ = disable_raw_mode();
        let _ = out.flush();
    }
}

pub struct TerminalGuard {
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl TerminalGuard {
    /// Enters the workstation's terminal mode; `mouse` captures the mouse (opt-in, since it
    /// takes over the terminal's own text selection).
    pub fn enter(mouse: bool) -> anyhow::Result<TerminalGuard> {
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let mut out = stdout();
        // The window title never names a patient.
        if let Err(error) = execute!(
            out,
            EnterAlternateScreen,
            EnableBracketedPaste,
            SetTitle("Synapse")
        ) {
            restore();
            return Err(error.into());
        }
        if mouse && let Err(error) = execute!(out, EnableMouseCapture) {
            restore();
            return Err(error.into());
        }
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            // Only where it happened: a panic message could quote data being processed.
            let place = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            eprintln!("Synapse stopped unexpectedly ({place}). The terminal was restored.");
            let _ = &previous;
        }));
        let terminal = match Terminal::new(CrosstermBackend::new(stdout())) {
            Ok(t) => t,
            Err(error) => {
                restore();
                return Err(error.into());
            }
        };
        Ok(TerminalGuard { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}
