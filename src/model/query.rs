//! The query strings of the list endpoints, typed: the server parses them (refusing unknown
//! parameters) and the client builds them, so both sides spell every parameter the same way.

use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use uuid::Uuid;

use super::consultation::SessionType;
use super::patient::PatientSort;
use super::report::ReportStatus;

/// `GET /patients/list/`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PatientListParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// How many items to return.
    #[param(inline, value_type = super::schema::ListLimit)]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// How many items to skip.
    #[param(inline, value_type = super::schema::Offset)]
    pub offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The opaque `pagination.next_cursor` of the previous page (keyset paging).
    #[param(inline, value_type = super::schema::Cursor)]
    pub cursor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Only patients matching this, as `/patients/search/` matches.
    #[param(inline, value_type = super::schema::SearchTerm)]
    pub search: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The order: by name (surname, then given names), most recent visit first (the default),
    /// or newest patient first.
    pub sort: Option<PatientSort>,
}

/// `GET /patients/search/`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PatientSearchParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// What to search for: names, MRN, phone digits or email.
    #[param(required = true, inline, value_type = super::schema::SearchTerm)]
    pub q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// How many matches to return.
    #[param(inline, value_type = super::schema::SearchLimit)]
    pub limit: Option<u32>,
}

/// `GET /reports/list`. Dates are `YYYY-MM-DD` or RFC 3339 times.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportListParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Only this patient's records.
    pub patient_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Only reports in this status.
    pub status: Option<ReportStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Only reports of consultations of this type.
    pub session_type: Option<SessionType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Only reports created at or after this (a date or an RFC 3339 time).
    #[param(inline, value_type = super::schema::DateOrTime)]
    pub date_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Only reports created before the end of this (a date, for the whole day, or an RFC 3339 time).
    #[param(inline, value_type = super::schema::DateOrTime)]
    pub date_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// How many items to return.
    #[param(inline, value_type = super::schema::ListLimit)]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// How many items to skip.
    #[param(inline, value_type = super::schema::Offset)]
    pub offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The opaque `pagination.next_cursor` of the previous page (keyset paging).
    #[param(inline, value_type = super::schema::Cursor)]
    pub cursor: Option<String>,
}

/// `GET /reports/stats`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportStatsParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Only this patient's records.
    pub patient_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// How many days `daily` covers, ending today.
    #[param(inline, value_type = super::schema::StatsDays)]
    pub days: Option<u32>,
}

/// Offset pages: consultation history and the admin user list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// How many items to return.
    #[param(inline, value_type = super::schema::ListLimit)]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// How many items to skip.
    #[param(inline, value_type = super::schema::Offset)]
    pub offset: Option<u64>,
}

/// `GET /admin/audit`. `since`/`until` are dates or RFC 3339 times.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Only events of this user.
    pub user_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Only this patient's records.
    pub patient_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Only events of this action.
    #[param(inline, value_type = super::schema::SearchTerm)]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Only events of this outcome: `success`, `failure`, `denied` (a record refused as not found), `forbidden` (refused for the role) or `locked`.
    #[param(inline, value_type = super::schema::SearchTerm)]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Only events at or after this (a date or an RFC 3339 time).
    #[param(inline, value_type = super::schema::DateOrTime)]
    pub since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Only events before the end of this (a date, for the whole day, or an RFC 3339 time).
    #[param(inline, value_type = super::schema::DateOrTime)]
    pub until: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// How many items to return.
    #[param(inline, value_type = super::schema::ListLimit)]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// How many items to skip (not with `cursor`).
    #[param(inline, value_type = super::schema::Offset)]
    pub offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The opaque `pagination.next_cursor` of the previous page (keyset paging): the page
    /// starts after its last row, whatever was written since.
    #[param(inline, value_type = super::schema::Cursor)]
    pub cursor: Option<String>,
}
