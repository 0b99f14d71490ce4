//! Reading a report: the patient banner line, the sections laid out for reading, signature and
//! addenda; scrollable, with `n`/`p` through the list it was opened from.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::common::{name, notice};
use crate::model::report::Report;
use crate::model::text::printable;
use crate::tui::state::{Load, State};

/// The report as lines of text, shared by the reader and the browser's preview.
pub fn report_lines(state: &State, report: &Report) -> Vec<Line<'static>> {
    let theme = &state.settings.theme;
    let s = &report.summary;
    let c = &report.content;
    let mut lines = vec![
        Line::from(vec![
            Span::styled(name(state, &s.patient.full_name), theme.title()),
            Span::raw(format!(
                "  {}  {} y  {}",
                s.patient.mrn,
                s.patient.age,
                s.patient.sex.as_str()
            )),
        ]),
        Line::from(vec![
            Span::styled(s.status.as_str().to_uppercase(), theme.status(s.status)),
            Span::raw(format!(
                "  {}  {}  {}  v{}{}",
                s.consultation.session_code,
                s.consultation.session_type.as_str(),
                s.created_at.format("%Y-%m-%d %H:%M"),
                report.version,
                s.confidence
                    .map(|c| format!("  confidence {:.0}%", c * 100.0))
                    .unwrap_or_default()
            )),
        ]),
    ];
    if let Some(complaint) = &s.consultation.chief_complaint {
        lines.push(Line::raw(format!(
            "Complaint: {}",
            printable(complaint, true)
        )));
    }
    // A failed report says why at the top, not below a page of empty sections.
    if let Some(reason) = &report.failure_reason {
        lines.push(Line::styled(
            format!("Generation failed: {}", printable(reason, true)),
            theme.error(),
        ));
    }
    let mut section = |title: &str, body: Vec<String>| {
        lines.push(Line::raw(""));
        lines.push(Line::styled(title.to_string(), theme.title()));
        if body.is_empty() {
            lines.push(Line::styled("—", theme.muted()));
        }
        for text in body {
            for line in printable(&text, false).lines() {
                lines.push(Line::raw(line.to_string()));
            }
        }
    };
    let text = |t: &Option<String>| t.iter().cloned().collect::<Vec<_>>();
    section("History", text(&c.history));
    section("Mental status", text(&c.mental_status));
    section("Assessment", text(&c.assessment));
    section(
        "Diagnoses",
        c.diagnoses
            .iter()
            .map(|d| match &d.code {
                Some(code) => format!("{code}  {}", d.description),
                None => d.description.clone(),
            })
            .collect(),
    );
    section(
        "Medication plan",
        c.medication_plan
            .iter()
            .map(|m| {
                [
                    Some(m.drug.clone()),
                    m.dosage.clone(),
                    m.frequency.clone(),
                    m.duration.clone(),
                    m.instructions.clone(),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · ")
            })
            .collect(),
    );
    section(
        "Recommendations",
        c.recommendations.iter().map(|r| format!("• {r}")).collect(),
    );
    section("Follow-up", text(&c.follow_up));
    if let Some(signer) = &report.signed_by {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!(
                "Signed by {} on {}",
                printable(&signer.full_name, true),
                s.signed_at
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default()
            ),
            theme.ok(),
        ));
    }
    for addendum in &report.addenda {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!(
                "Addendum — {}, {}",
                printable(&addendum.author.full_name, true),
                addendum.created_at.format("%Y-%m-%d %H:%M")
            ),
            theme.title(),
        ));
        lines.push(Line::raw(printable(&addendum.text, false)));
    }
    lines
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let view = &state.report;
    let position = if view.siblings.len() > 1 {
        format!(" {} of {} ", view.position + 1, view.siblings.len())
    } else {
        String::new()
    };
    let block = Block::bordered()
        .title(Line::styled(" Report ", theme.title()))
        .title(Line::raw(position).right_aligned());
    match &view.report {
        Load::Ready(report) => {
            let lines = report_lines(state, report);
            frame.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .scroll((view.scroll, 0))
                    .block(block),
                area,
            );
        }
        Load::Failed(error) => {
            let inner = block.inner(area);
            frame.render_widget(block, area);
            notice(frame, inner, state, error, true);
        }
        _ => {
            let inner = block.inner(area);
            frame.render_widget(block, area);
            notice(frame, inner, state, "Loading the report…", false);
        }
    }
}
