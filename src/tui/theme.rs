//! Colours. The default uses the terminal's own palette (named ANSI colours); light and dark
//! fix their colours; monochrome (also chosen by `NO_COLOR`) uses only bold, reverse and
//! underline, and every status is also written as a word, so nothing depends on colour.

use ratatui::style::{Color, Modifier, Style};

use crate::model::report::ReportStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThemeKind {
    #[default]
    Terminal,
    Light,
    Dark,
    Mono,
}

impl ThemeKind {
    pub fn parse(name: &str) -> Option<ThemeKind> {
        match name {
            "terminal" | "default" => Some(ThemeKind::Terminal),
            "light" => Some(ThemeKind::Light),
            "dark" => Some(ThemeKind::Dark),
            "mono" | "monochrome" => Some(ThemeKind::Mono),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Theme {
    pub kind: ThemeKind,
}

impl Theme {
    pub fn new(kind: ThemeKind) -> Theme {
        Theme { kind }
    }

    fn color(&self, terminal: Color, light: Color, dark: Color) -> Style {
        match self.kind {
            ThemeKind::Terminal => Style::new().fg(terminal),
            ThemeKind::Light => Style::new().fg(light),
            ThemeKind::Dark => Style::new().fg(dark),
            ThemeKind::Mono => Style::new(),
        }
    }

    pub fn base(&self) -> Style {
        match self.kind {
            ThemeKind::Light => Style::new()
                .fg(Color::Rgb(30, 30, 30))
                .bg(Color::Rgb(250, 250, 245)),
            ThemeKind::Dark => Style::new()
                .fg(Color::Rgb(220, 220, 220))
                .bg(Color::Rgb(24, 26, 30)),
            _ => Style::new(),
        }
    }

    pub fn title(&self) -> Style {
        self.color(
            Color::Cyan,
            Color::Rgb(0, 90, 140),
            Color::Rgb(120, 200, 255),
        )
        .add_modifier(Modifier::BOLD)
    }

    pub fn muted(&self) -> Style {
        match self.kind {
            ThemeKind::Mono => Style::new().add_modifier(Modifier::DIM),
            _ => self.color(
                Color::DarkGray,
                Color::Rgb(110, 110, 110),
                Color::Rgb(140, 140, 140),
            ),
        }
    }

    pub fn selected(&self) -> Style {
        match self.kind {
            ThemeKind::Mono | ThemeKind::Terminal => Style::new().add_modifier(Modifier::REVERSED),
            ThemeKind::Light => Style::new().bg(Color::Rgb(200, 225, 245)).fg(Color::Black),
            ThemeKind::Dark => Style::new().bg(Color::Rgb(50, 70, 100)).fg(Color::White),
        }
    }

    pub fn error(&self) -> Style {
        self.color(Color::Red, Color::Rgb(170, 0, 0), Color::Rgb(255, 110, 110))
            .add_modifier(Modifier::BOLD)
    }

    pub fn warning(&self) -> Style {
        self.color(
            Color::Yellow,
            Color::Rgb(150, 90, 0),
            Color::Rgb(255, 200, 90),
        )
        .add_modifier(Modifier::BOLD)
    }

    pub fn ok(&self) -> Style {
        self.color(
            Color::Green,
            Color::Rgb(0, 110, 40),
            Color::Rgb(120, 220, 140),
        )
    }

    pub fn highlight(&self) -> Style {
        match self.kind {
            ThemeKind::Mono => Style::new().add_modifier(Modifier::UNDERLINED),
            _ => self
                .color(
                    Color::Yellow,
                    Color::Rgb(150, 90, 0),
                    Color::Rgb(255, 210, 120),
                )
                .add_modifier(Modifier::UNDERLINED),
        }
    }

    pub fn bar(&self) -> Style {
        match self.kind {
            ThemeKind::Mono | ThemeKind::Terminal => Style::new().add_modifier(Modifier::REVERSED),
            ThemeKind::Light => Style::new().bg(Color::Rgb(220, 220, 210)).fg(Color::Black),
            ThemeKind::Dark => Style::new()
                .bg(Color::Rgb(45, 48, 55))
                .fg(Color::Rgb(230, 230, 230)),
        }
    }

    /// A report status: coloured where colours are used, always written as a word.
    pub fn status(&self, status: ReportStatus) -> Style {
        match status {
            ReportStatus::Signed => self.ok(),
            ReportStatus::Completed => self.warning(),
            ReportStatus::Failed => self.error(),
            ReportStatus::Pending | ReportStatus::Generating => self.muted(),
        }
    }
}
