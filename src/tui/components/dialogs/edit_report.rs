//! Editing a draft in place, every section of it: the text sections in a multi-line editor,
//! the recommendations one a line, and the diagnoses (code, description) and the medication plan
//! (drug, dose, frequency, duration, instructions) as rows of fields. Tab and Shift-Tab move
//! between sections, ↑/↓ (and Enter) between the fields of a row section, Ctrl-N adds a row and
//! Ctrl-D removes one, all keeping what was typed. The whole content is saved with the version
//! it was read at, so a concurrent change is caught. Nothing typed is lost without asking: Esc
//! with changes asks first, a row the server would refuse is named before anything is sent, the
//! dialog stays open until the save is answered, and when a colleague saved in between, the
//! doctor's text stays in the editor beside theirs, to save over it or discard.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::text::Line;
use uuid::Uuid;

use super::{Dialog, Step, View, inner_width};
use crate::client::{ApiError, ErrorKind};
use crate::model::report::{Diagnosis, Medication, Report, ReportContent};
use crate::model::text::printable;
use crate::model::validate;
use crate::tui::effect::{Call, Effect};
use crate::tui::input::Notes;
use crate::tui::keymap::{Command, Scope};
use crate::tui::screens::report::sections;
use crate::tui::state::{Load, State, ToastKind};
use crate::tui::update::{call, handle_error};

/// The fields of a diagnosis row, in the order they are edited.
const DIAGNOSIS_FIELDS: &[&str] = &["Code", "Description"];
/// The fields of a medication row, in the order they are edited.
const MEDICATION_FIELDS: &[&str] = &[
    "Drug",
    "Dose",
    "Route",
    "Frequency",
    "Duration",
    "Instructions",
];
/// The columns before a row field's text: the row's number and the field's name.
const FIELD_LABEL: usize = 16;

/// The sections of a report, in reading order, as the editor moves through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    History,
    MentalStatus,
    Assessment,
    Diagnoses,
    Medications,
    /// One recommendation a line.
    Recommendations,
    FollowUp,
}

impl Section {
    pub const ALL: [Section; 7] = [
        Section::History,
        Section::MentalStatus,
        Section::Assessment,
        Section::Diagnoses,
        Section::Medications,
        Section::Recommendations,
        Section::FollowUp,
    ];

    /// The section's title, as the reader (`screens::report::sections`) names it.
    pub fn label(self) -> &'static str {
        match self {
            Section::History => "History",
            Section::MentalStatus => "Mental status",
            Section::Assessment => "Assessment",
            Section::Diagnoses => "Diagnoses",
            Section::Medications => "Medication plan",
            Section::Recommendations => "Recommendations",
            Section::FollowUp => "Follow-up",
        }
    }

    pub fn next(self) -> Section {
        let i = Section::ALL.iter().position(|s| *s == self).unwrap_or(0);
        Section::ALL[(i + 1) % Section::ALL.len()]
    }

    pub fn previous(self) -> Section {
        let i = Section::ALL.iter().position(|s| *s == self).unwrap_or(0);
        Section::ALL[(i + Section::ALL.len() - 1) % Section::ALL.len()]
    }

    /// The fields of one row of a row section; a text section has none.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Section::Diagnoses => DIAGNOSIS_FIELDS,
            Section::Medications => MEDICATION_FIELDS,
            _ => &[],
        }
    }

    /// The noun of one row, for messages.
    fn row_noun(self) -> &'static str {
        match self {
            Section::Diagnoses => "diagnosis",
            _ => "medication",
        }
    }

    fn text_slot(self, content: &mut ReportContent) -> Option<&mut Option<String>> {
        match self {
            Section::History => Some(&mut content.history),
            Section::MentalStatus => Some(&mut content.mental_status),
            Section::Assessment => Some(&mut content.assessment),
            Section::FollowUp => Some(&mut content.follow_up),
            _ => None,
        }
    }

    /// The rows of a row section in `content`.
    pub fn rows(self, content: &ReportContent) -> usize {
        match self {
            Section::Diagnoses => content.diagnoses.len(),
            Section::Medications => content.medication_plan.len(),
            _ => 0,
        }
    }

    /// The text one editor holds: a text section, the recommendations a line each, or one
    /// field of a row.
    fn text(self, content: &ReportContent, row: usize, field: usize) -> String {
        let text = |t: &Option<String>| t.clone().unwrap_or_default();
        match self {
            Section::History => text(&content.history),
            Section::MentalStatus => text(&content.mental_status),
            Section::Assessment => text(&content.assessment),
            Section::FollowUp => text(&content.follow_up),
            Section::Recommendations => content.recommendations.join("\n"),
            Section::Diagnoses => content
                .diagnoses
                .get(row)
                .map(|d| match field {
                    0 => text(&d.code),
                    _ => d.description.clone(),
                })
                .unwrap_or_default(),
            Section::Medications => content
                .medication_plan
                .get(row)
                .map(|m| match field {
                    0 => m.drug.clone(),
                    1 => text(&m.dosage),
                    2 => text(&m.route),
                    3 => text(&m.frequency),
                    4 => text(&m.duration),
                    _ => text(&m.instructions),
                })
                .unwrap_or_default(),
        }
    }

    /// Puts an editor's text back, as typed: `normalized` trims it when the content is saved.
    fn set_text(self, content: &mut ReportContent, row: usize, field: usize, text: String) {
        if let Some(slot) = self.text_slot(content) {
            *slot = Some(text);
            return;
        }
        match self {
            Section::Recommendations => {
                content.recommendations = text.split('\n').map(str::to_string).collect();
            }
            Section::Diagnoses => {
                if let Some(d) = content.diagnoses.get_mut(row) {
                    match field {
                        0 => d.code = Some(text),
                        _ => d.description = text,
                    }
                }
            }
            Section::Medications => {
                if let Some(m) = content.medication_plan.get_mut(row) {
                    match field {
                        0 => m.drug = text,
                        1 => m.dosage = Some(text),
                        2 => m.route = Some(text),
                        3 => m.frequency = Some(text),
                        4 => m.duration = Some(text),
                        _ => m.instructions = Some(text),
                    }
                }
            }
            _ => {}
        }
    }

    /// Whether the section reads the same in `a` and `b`.
    fn same(self, a: &ReportContent, b: &ReportContent) -> bool {
        match self {
            Section::History => a.history == b.history,
            Section::MentalStatus => a.mental_status == b.mental_status,
            Section::Assessment => a.assessment == b.assessment,
            Section::FollowUp => a.follow_up == b.follow_up,
            Section::Recommendations => a.recommendations == b.recommendations,
            Section::Diagnoses => a.diagnoses == b.diagnoses,
            Section::Medications => a.medication_plan == b.medication_plan,
        }
    }

    /// Copies the section from `from` into `to`.
    fn copy(self, from: &ReportContent, to: &mut ReportContent) {
        match self {
            Section::History => to.history = from.history.clone(),
            Section::MentalStatus => to.mental_status = from.mental_status.clone(),
            Section::Assessment => to.assessment = from.assessment.clone(),
            Section::FollowUp => to.follow_up = from.follow_up.clone(),
            Section::Recommendations => to.recommendations = from.recommendations.clone(),
            Section::Diagnoses => to.diagnoses = from.diagnoses.clone(),
            Section::Medications => to.medication_plan = from.medication_plan.clone(),
        }
    }
}

/// The content as it is saved: text trimmed, an empty text or field as none, empty lines and
/// empty rows left out.
fn normalized(content: &ReportContent) -> ReportContent {
    let text = |t: &Option<String>| {
        t.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    };
    ReportContent {
        history: text(&content.history),
        mental_status: text(&content.mental_status),
        assessment: text(&content.assessment),
        diagnoses: content
            .diagnoses
            .iter()
            .map(|d| Diagnosis {
                code: text(&d.code),
                description: d.description.trim().to_string(),
            })
            .filter(|d| d.code.is_some() || !d.description.is_empty())
            .collect(),
        medication_plan: content
            .medication_plan
            .iter()
            .map(|m| Medication {
                drug: m.drug.trim().to_string(),
                dosage: text(&m.dosage),
                route: text(&m.route),
                frequency: text(&m.frequency),
                duration: text(&m.duration),
                instructions: text(&m.instructions),
            })
            .filter(|m| *m != Medication::default())
            .collect(),
        recommendations: content
            .recommendations
            .iter()
            .map(|r| r.trim())
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect(),
        follow_up: text(&content.follow_up),
    }
}

/// The first thing the server would refuse, checked by the server's own rules
/// (`model::validate`), as where it is (section, row, field) and what to say: a diagnosis
/// without its description, a medication without its drug, a field too long. `working` is the
/// content as typed; rows left empty are not saved, so they are no problem.
fn problem(working: &ReportContent, remove: &str) -> Option<(Section, usize, usize, String)> {
    let error = validate::report_content(normalized(working))
        .err()?
        .into_iter()
        .next()?;
    // The saved rows are the rows typed, less the empty ones: back to the row on screen.
    let typed = |section: Section, saved: usize| {
        let empty = |row: usize| {
            section
                .fields()
                .iter()
                .enumerate()
                .all(|(field, _)| section.text(working, row, field).trim().is_empty())
        };
        (0..section.rows(working))
            .filter(|row| !empty(*row))
            .nth(saved)
            .unwrap_or(0)
    };
    let path = error.field.strip_prefix("content.").unwrap_or(&error.field);
    let (name, rest) = path.split_once('[').unwrap_or((path, ""));
    let saved: Option<usize> = rest.split(']').next().and_then(|i| i.parse().ok());
    let field_name = rest.split_once("].").map(|(_, field)| field);
    let section = match name {
        "history" => Section::History,
        "mental_status" => Section::MentalStatus,
        "assessment" => Section::Assessment,
        "diagnoses" => Section::Diagnoses,
        "medication_plan" => Section::Medications,
        "recommendations" => Section::Recommendations,
        _ => Section::FollowUp,
    };
    let field = match field_name {
        Some("description") | Some("dosage") => 1,
        Some("route") => 2,
        Some("frequency") => 3,
        Some("duration") => 4,
        Some("instructions") => 5,
        _ => 0,
    };
    let message = match (section.fields().get(field), saved) {
        (Some(label), Some(saved)) => {
            let row = typed(section, saved);
            let noun = section.row_noun();
            let noun = format!("{}{}", noun[..1].to_uppercase(), &noun[1..]);
            return Some((
                section,
                row,
                field,
                format!(
                    "{noun} {}, {label}: {} ({remove} removes the row).",
                    row + 1,
                    error.message
                ),
            ));
        }
        (_, Some(saved)) => format!(
            "{}, line {}: {}.",
            section.label(),
            saved + 1,
            error.message
        ),
        _ => format!("{}: {}.", section.label(), error.message),
    };
    Some((section, 0, 0, message))
}

/// The draft editor.
#[derive(Debug, Clone, PartialEq)]
pub struct EditDialog {
    pub report_id: Uuid,
    /// The version the edit is based on; the save names it.
    pub version: u32,
    /// Where the editor is: the section, and in a row section the row and its field.
    pub section: Section,
    pub row: usize,
    pub field: usize,
    /// The text of the field being edited.
    pub editor: Notes,
    /// The content as stored at `version`, to tell what the doctor changed.
    pub stored: ReportContent,
    /// The content with the doctor's changes to the fields left, as typed.
    pub working: ReportContent,
    pub step: EditStep,
    /// After a conflict: the version a colleague saved, whose text the editor shows beside
    /// the doctor's.
    pub theirs: Option<u32>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditStep {
    Editing,
    /// Esc with changes: discard them? (defaults to keeping them)
    Discard,
    Saving,
    /// The server said someone saved meanwhile; their version is on its way.
    Reloading,
}

impl EditDialog {
    /// Edits `section` of `report` as it is on screen.
    pub fn new(report: &Report, section: Section) -> EditDialog {
        let mut edit = EditDialog {
            report_id: report.summary.id,
            version: report.version,
            section,
            row: 0,
            field: 0,
            editor: Notes::default(),
            stored: report.content.clone(),
            working: report.content.clone(),
            step: EditStep::Editing,
            theirs: None,
            error: None,
        };
        edit.load();
        edit
    }

    /// Whether the editor is on a row section's field (one line of text).
    fn on_row(&self) -> bool {
        !self.section.fields().is_empty()
    }

    /// The working copy with the editor's text in its place.
    fn committed(&self) -> ReportContent {
        let mut content = self.working.clone();
        if !self.on_row() || self.row < self.section.rows(&content) {
            self.section
                .set_text(&mut content, self.row, self.field, self.editor.text());
        }
        content
    }

    /// Keeps the editor's text in the working copy, before the editor moves.
    fn commit(&mut self) {
        self.working = self.committed();
    }

    /// Fills the editor with the field the dialog is on.
    fn load(&mut self) {
        let text = self.section.text(&self.working, self.row, self.field);
        self.editor = Notes::from_text(&text);
    }

    /// Moves to another field (section, row, field), keeping what was typed in this one.
    fn go(&mut self, section: Section, row: usize, field: usize) {
        self.commit();
        self.section = section;
        self.row = row;
        self.field = field;
        self.load();
    }

    /// The content as it would be saved now: the working copy with the editor's text.
    pub fn content(&self) -> ReportContent {
        normalized(&self.committed())
    }

    /// Whether saving now would change the stored report: what leaving would lose.
    pub fn changed(&self) -> bool {
        self.content() != normalized(&self.stored)
    }

    /// Moves to the field below (`down`) or above in a row section: the next field of the
    /// row, then the next row's first.
    fn step_field(&mut self, down: bool) {
        let fields = self.section.fields().len();
        let rows = self.section.rows(&self.working);
        let at = self.row * fields + self.field;
        let to = if down {
            (at + 1).min((rows * fields).saturating_sub(1))
        } else {
            at.saturating_sub(1)
        };
        if to != at {
            self.go(self.section, to / fields, to % fields);
        }
    }

    fn add_row(&mut self) {
        self.commit();
        let at = if self.section.rows(&self.working) == 0 {
            0
        } else {
            self.row + 1
        };
        match self.section {
            Section::Diagnoses => self.working.diagnoses.insert(at, Diagnosis::default()),
            Section::Medications => self
                .working
                .medication_plan
                .insert(at, Medication::default()),
            _ => return,
        }
        self.row = at;
        self.field = 0;
        self.load();
    }

    fn remove_row(&mut self) {
        if self.row >= self.section.rows(&self.working) {
            return;
        }
        match self.section {
            Section::Diagnoses => {
                self.working.diagnoses.remove(self.row);
            }
            Section::Medications => {
                self.working.medication_plan.remove(self.row);
            }
            _ => return,
        }
        self.row = self
            .row
            .min(self.section.rows(&self.working).saturating_sub(1));
        self.field = 0;
        self.load();
    }

    /// A paste goes into the field being edited; a row's field is one line.
    pub fn paste(&mut self, text: &str) {
        if self.on_row() {
            if self.row < self.section.rows(&self.working) {
                self.editor.insert(&text.replace(['\r', '\n'], " "));
            }
        } else {
            self.editor.insert(text);
        }
    }
}

pub(super) fn key(state: &mut State, dialog: &mut Dialog, key: &KeyEvent) -> Step {
    let Dialog::EditReport(edit) = dialog else {
        return Step::Stay(Vec::new());
    };
    let keymap = &state.settings.keymap;
    match edit.step {
        EditStep::Editing => match keymap.command(key, Scope::ReportEditor) {
            Some(Command::Dismiss) if !edit.changed() => Step::Close(Vec::new()),
            Some(Command::Dismiss) => {
                edit.step = EditStep::Discard;
                Step::Stay(Vec::new())
            }
            Some(Command::Save) => {
                edit.commit();
                // Named before anything is sent, the field shown, the text kept.
                let remove = keymap.hint_key(Command::RemoveRow, Scope::ReportEditor);
                if let Some((section, row, field, message)) = problem(&edit.working, &remove) {
                    edit.go(section, row, field);
                    edit.error = Some(message);
                    return Step::Stay(Vec::new());
                }
                edit.step = EditStep::Saving;
                edit.error = None;
                let call = call(
                    state,
                    Call::EditReport {
                        id: edit.report_id,
                        content: edit.content(),
                        version: edit.version,
                    },
                );
                Step::Stay(vec![call])
            }
            Some(Command::NextSection) => {
                edit.go(edit.section.next(), 0, 0);
                Step::Stay(Vec::new())
            }
            Some(Command::PreviousSection) => {
                edit.go(edit.section.previous(), 0, 0);
                Step::Stay(Vec::new())
            }
            Some(Command::AddRow) => {
                edit.add_row();
                Step::Stay(Vec::new())
            }
            Some(Command::RemoveRow) => {
                edit.remove_row();
                Step::Stay(Vec::new())
            }
            _ if edit.on_row() => {
                let plain = !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
                match key.code {
                    KeyCode::Down | KeyCode::Enter if plain => edit.step_field(true),
                    KeyCode::Up if plain => edit.step_field(false),
                    // No row yet: nothing to type into until Ctrl-N adds one.
                    _ if edit.row >= edit.section.rows(&edit.working) => {}
                    _ => {
                        edit.editor.edit(key);
                    }
                }
                Step::Stay(Vec::new())
            }
            _ => {
                edit.editor.edit(key);
                Step::Stay(Vec::new())
            }
        },
        EditStep::Discard => match keymap.command(key, Scope::SignConfirm) {
            Some(Command::Yes) => Step::Close(Vec::new()),
            // Anything else keeps the text: losing it takes the explicit y.
            _ => {
                edit.step = EditStep::Editing;
                Step::Stay(Vec::new())
            }
        },
        // Waiting for the server: keys must not become text the doctor doesn't see saved.
        EditStep::Saving | EditStep::Reloading => Step::Stay(Vec::new()),
    }
}

/// The save answered: saved (the dialog closes), or a colleague's save found (their version is
/// fetched, the doctor's text kept), or another failure shown in the dialog, text kept.
pub(crate) fn on_saved(state: &mut State, result: Result<Report, ApiError>) -> Vec<Effect> {
    match result {
        Ok(report) => {
            if matches!(state.dialog, Some(Dialog::EditReport(_))) {
                state.dialog = None;
            }
            if state.report.report.ready().map(|r| r.summary.id) == Some(report.summary.id) {
                state.report.report = Load::Ready(report);
            }
            state.toast("Saved.", ToastKind::Info);
            Vec::new()
        }
        Err(error) => {
            let Some(Dialog::EditReport(edit)) = &mut state.dialog else {
                return handle_error(state, &error).unwrap_or_default();
            };
            if let ErrorKind::VersionConflict { .. } = error.kind {
                edit.step = EditStep::Reloading;
                let id = edit.report_id;
                return vec![call(state, Call::Report(id))];
            }
            edit.step = EditStep::Editing;
            edit.error = Some(format!(
                "Not saved: {} Your text is still here.",
                error.message
            ));
            handle_error(state, &error).unwrap_or_default()
        }
    }
}

/// The report fetched again after a conflict: the edit is now based on the colleague's
/// version, with the doctor's text still in the editor. Returns the report back when no
/// editor waits for it.
pub(crate) fn on_reloaded(state: &mut State, report: Report) -> Option<Report> {
    let Some(Dialog::EditReport(edit)) = &mut state.dialog else {
        return Some(report);
    };
    if edit.step != EditStep::Reloading || edit.report_id != report.summary.id {
        return Some(report);
    }
    // The doctor's changes on top of the colleague's version: a section the doctor did not
    // touch takes theirs, so saving can't quietly undo their other edits.
    let mine = edit.content();
    let stored = normalized(&edit.stored);
    let mut rebased = report.content.clone();
    let mut kept_here = false;
    for section in Section::ALL {
        if !section.same(&mine, &stored) {
            section.copy(&mine, &mut rebased);
            kept_here |= section == edit.section;
        }
    }
    edit.working = rebased;
    edit.version = report.version;
    edit.stored = report.content.clone();
    edit.theirs = Some(report.version);
    edit.step = EditStep::Editing;
    // The editor keeps the doctor's text where it is theirs; elsewhere it shows the
    // colleague's, which is what would be saved.
    if !kept_here {
        let rows = edit.section.rows(&edit.working);
        if edit.on_row() && edit.row >= rows {
            edit.row = rows.saturating_sub(1);
            edit.field = 0;
        }
        edit.load();
    }
    state.report.report = Load::Ready(report);
    None
}

pub(super) fn view(state: &State, area: Rect, edit: &EditDialog) -> View {
    let theme = &state.settings.theme;
    let key = |command| state.settings.keymap.hint_key(command, Scope::ReportEditor);
    let width = inner_width(area);
    let moves = format!(
        "{}/{} sections",
        key(Command::NextSection),
        key(Command::PreviousSection)
    );
    let heading = if edit.on_row() {
        format!(
            "{} ({moves} · ↑/↓ fields · {} adds · {} removes a {})",
            edit.section.label(),
            key(Command::AddRow),
            key(Command::RemoveRow),
            edit.section.row_noun()
        )
    } else if edit.section == Section::Recommendations {
        format!("{} (one a line · {moves})", edit.section.label())
    } else {
        format!("{} ({moves})", edit.section.label())
    };
    let mut lines = vec![Line::styled(heading, theme.title())];
    if let Some(version) = edit.theirs {
        lines.push(Line::styled(
            format!(
                "Someone saved version {version} while you edited. Their {}:",
                edit.section.label()
            ),
            theme.warning(),
        ));
        let theirs = sections(&edit.stored)
            .into_iter()
            .find(|(title, _)| *title == edit.section.label())
            .map(|(_, entries)| entries)
            .unwrap_or_default();
        if theirs.is_empty() {
            lines.push(Line::styled("│ —", theme.muted()));
        }
        for entry in theirs {
            for line in printable(&entry, false).lines() {
                lines.push(Line::styled(format!("│ {line}"), theme.muted()));
            }
        }
        lines.push(Line::styled(
            format!(
                "Your text is kept below: {} saves it over version {version}, {} discards it.",
                key(Command::Save),
                key(Command::Dismiss)
            ),
            theme.warning(),
        ));
    }
    lines.push(Line::raw(""));
    let editing = edit.step == EditStep::Editing;
    let mut cursor = None;
    if edit.on_row() {
        let rows = edit.section.rows(&edit.working);
        if rows == 0 {
            lines.push(Line::styled(
                format!(
                    "None yet: {} adds a {}.",
                    key(Command::AddRow),
                    edit.section.row_noun()
                ),
                theme.muted(),
            ));
        }
        for row in 0..rows {
            for (field, name) in edit.section.fields().iter().enumerate() {
                let number = if field == 0 {
                    format!("{}", row + 1)
                } else {
                    String::new()
                };
                let label = format!("{number:<3}{name:<13}");
                if row == edit.row && field == edit.field {
                    let layout = edit.editor.layout(width.saturating_sub(FIELD_LABEL));
                    if editing {
                        let (at, column) = layout.cursor;
                        cursor = Some((lines.len() + at, (FIELD_LABEL + column) as u16));
                    }
                    for (i, text) in layout.rows.into_iter().enumerate() {
                        let lead = if i == 0 {
                            label.clone()
                        } else {
                            " ".repeat(FIELD_LABEL)
                        };
                        lines.push(Line::from(vec![
                            lead.into(),
                            ratatui::text::Span::styled(text, theme.selected()),
                        ]));
                    }
                } else {
                    let text = edit.section.text(&edit.working, row, field);
                    lines.push(Line::raw(format!("{label}{}", printable(&text, true))));
                }
            }
        }
    } else {
        let layout = edit.editor.layout(width);
        if editing {
            let (at, column) = layout.cursor;
            cursor = Some((lines.len() + at, column as u16));
        }
        for row in layout.rows {
            lines.push(Line::raw(row));
        }
    }
    lines.push(Line::raw(""));
    let footer = match edit.step {
        EditStep::Discard => Line::styled(
            "Discard your changes? y discards · any other key keeps editing",
            theme.warning(),
        ),
        EditStep::Saving => Line::styled("Saving…", theme.muted()),
        EditStep::Reloading => Line::styled("Loading the version saved meanwhile…", theme.muted()),
        EditStep::Editing => Line::styled(
            format!(
                "{} saves · {} closes · Ctrl-Z undoes",
                key(Command::Save),
                key(Command::Dismiss)
            ),
            theme.muted(),
        ),
    };
    lines.push(footer);
    if let Some(error) = &edit.error {
        lines.push(Line::styled(printable(error, true), theme.error()));
    }
    let height = (lines.len() as u16 + 2).min(area.height.saturating_sub(2));
    View {
        title: " Edit draft ",
        lines,
        height,
        cursor,
    }
}
