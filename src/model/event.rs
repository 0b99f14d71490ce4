//! Live events (`GET /api/v1/events`): what changed in a doctor's records, as ids, a kind and
//! a status, never patient data. A workstation keeps a stream open and refetches what an event
//! touches; the stream's position (`id`) lets it resume after a dropped connection.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantArray};
use utoipa::ToSchema;
use uuid::Uuid;

use super::status::ReportStatus;

/// What happened. `ready` and `reset` are about the stream itself: `ready` opens every
/// stream (its id is the position the stream starts from), `reset` says that the events since
/// the `Last-Event-ID` sent are no longer kept, so everything shown must be fetched again.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    EnumString,
    IntoStaticStr,
    VariantArray,
)]
pub enum EventKind {
    #[serde(rename = "patient.created")]
    #[strum(serialize = "patient.created")]
    PatientCreated,
    #[serde(rename = "patient.updated")]
    #[strum(serialize = "patient.updated")]
    PatientUpdated,
    #[serde(rename = "consultation.started")]
    #[strum(serialize = "consultation.started")]
    ConsultationStarted,
    #[serde(rename = "consultation.notes_saved")]
    #[strum(serialize = "consultation.notes_saved")]
    ConsultationNotesSaved,
    #[serde(rename = "consultation.stopped")]
    #[strum(serialize = "consultation.stopped")]
    ConsultationStopped,
    #[serde(rename = "consultation.cancelled")]
    #[strum(serialize = "consultation.cancelled")]
    ConsultationCancelled,
    /// A consultation was stopped and its report queued (`pending`).
    #[serde(rename = "report.created")]
    #[strum(serialize = "report.created")]
    ReportCreated,
    /// Generation moved the report on: `generating`, then `completed` or `failed`.
    #[serde(rename = "report.status_changed")]
    #[strum(serialize = "report.status_changed")]
    ReportStatusChanged,
    /// The draft was edited, or a signed report got an addendum.
    #[serde(rename = "report.updated")]
    #[strum(serialize = "report.updated")]
    ReportUpdated,
    #[serde(rename = "report.signed")]
    #[strum(serialize = "report.signed")]
    ReportSigned,
    #[serde(rename = "ready")]
    #[strum(serialize = "ready")]
    Ready,
    #[serde(rename = "reset")]
    #[strum(serialize = "reset")]
    Reset,
}

super::string_enum!(EventKind, ALL);

/// One event of the stream, the `data` of its SSE message (whose `event` field is the kind and
/// whose `id` field is the id). Object ids are null where the kind has no such object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    /// The position in the stream, increasing; send the last one seen as `Last-Event-ID` to
    /// resume after it.
    pub id: i64,
    pub kind: EventKind,
    /// When the change was written (`ready` and `reset`: when the stream opened).
    #[serde(with = "crate::model::time::millis")]
    pub at: DateTime<Utc>,
    pub patient_id: Option<Uuid>,
    pub consultation_id: Option<Uuid>,
    pub report_id: Option<Uuid>,
    /// The report's status after the change, on report events.
    pub report_status: Option<ReportStatus>,
}

impl Event {
    /// An event about the stream itself (`ready`, `reset`) at position `id`.
    pub fn about_stream(kind: EventKind, id: i64, at: DateTime<Utc>) -> Event {
        Event {
            id,
            kind,
            at,
            patient_id: None,
            consultation_id: None,
            report_id: None,
            report_status: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::string_enum_agrees_with_serde;

    #[test]
    fn kinds_are_the_wire_names() {
        string_enum_agrees_with_serde(EventKind::VARIANTS, EventKind::as_str);
        assert_eq!(
            EventKind::parse("report.status_changed"),
            Some(EventKind::ReportStatusChanged)
        );
        assert_eq!(EventKind::parse("ReportSigned"), None);
    }

    #[test]
    fn an_event_reads_back_as_written() {
        let event = Event {
            report_id: Some(Uuid::now_v7()),
            report_status: Some(ReportStatus::Completed),
            ..Event::about_stream(EventKind::ReportStatusChanged, 7, crate::model::time::now())
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["kind"], "report.status_changed");
        assert_eq!(json["report_status"], "completed");
        assert!(json["patient_id"].is_null());
        assert_eq!(serde_json::from_value::<Event>(json).unwrap(), event);
    }
}
