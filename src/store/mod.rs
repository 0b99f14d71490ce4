//! Persistence: the `Store` trait the server calls, its engines, the embedded migrations, and
//! the demo and synthetic data sets. Ownership (`doctor_id = caller`) is part of every statement,
//! and every read or write of patient data leaves an audit row.

pub mod admin;
pub mod audit_chain;
pub mod audit_queue;
pub mod auth;
pub mod bulk_load;
pub mod cipher;
pub mod consultations;
pub mod cursor;
pub mod demo;
mod dispatch;
pub mod doctor_names;
pub mod engine;
pub mod events;
pub mod exports;
pub mod mfa;
pub mod paging;
pub mod password;
pub mod patients;
pub mod postgres;
pub mod refold;
pub mod reports;
pub mod reseal;
pub mod settings;
pub mod sql;
pub mod sqlite;
pub mod synth;
pub mod values;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::model::admin::{AdminUser, AuditEvent, NewUser};
use crate::model::auth::{Role, User};
use crate::model::consultation::{Consultation, ConsultationHistory, StartConsultation};
use crate::model::envelope::FieldError;
use crate::model::page::Page;
use crate::model::patient::{
    DoctorSummary, NewPatient, Patient, PatientSort, PatientSummary, PatientUpdate,
};
use crate::model::report::{Report, ReportContent, ReportFilter, ReportPage, ReportStats};

/// Who is doing something, for ownership and the audit trail.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Uuid,
    pub role: Role,
    pub request_id: String,
    /// The `X-Request-ID` the client sent, kept beside the server's own in the audit row.
    pub client_request_id: Option<String>,
    pub ip: Option<String>,
    /// The interface the request came through, when not the API's own: `fhir` for the FHIR
    /// API. Its reads are audited as `<channel>.<action>` (`fhir.patient.read`), so the trail
    /// tells what left through which door.
    pub channel: Option<&'static str>,
}

impl Actor {
    /// The audit action of `action` done by this actor: prefixed with its channel, if any.
    pub fn audit_action(&self, action: &str) -> String {
        match self.channel {
            Some(channel) => format!("{channel}.{action}"),
            None => action.to_string(),
        }
    }

    /// The request the actor's audit rows name.
    pub fn context(&self) -> RequestContext {
        RequestContext {
            request_id: self.request_id.clone(),
            client_request_id: self.client_request_id.clone(),
            ip: self.ip.clone(),
        }
    }
}

/// Who administers accounts: an administrator signed in to the API, or an operator working on
/// the database itself (`synapse admin`), who has no account and is known by the
/// operating-system account that ran the command. Both leave the same audit rows.
#[derive(Debug, Clone)]
pub enum Administrator {
    Api(Actor),
    Console(ConsoleOperator),
}

/// An operator at the database's console: `synapse admin`, run by `os_user`.
#[derive(Debug, Clone)]
pub struct ConsoleOperator {
    /// The operating-system account that ran the command.
    pub os_user: String,
    /// One id per command run, shared by the audit rows it leaves.
    pub run_id: Uuid,
}

impl Administrator {
    /// The audit row's user id, request ids and address. A console operator has no user id;
    /// their request id is `cli:<os-user>:<run id>`, and there is no address.
    pub fn audit_origin(&self) -> (Option<Uuid>, RequestContext) {
        match self {
            Administrator::Api(actor) => (Some(actor.user_id), actor.context()),
            Administrator::Console(operator) => (
                None,
                RequestContext {
                    request_id: format!("cli:{}:{}", operator.os_user, operator.run_id),
                    client_request_id: None,
                    ip: None,
                },
            ),
        }
    }
}

/// Request context for calls made before anyone is authenticated (login, refresh).
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    /// The `X-Request-ID` the client sent, kept beside the server's own in the audit row.
    pub client_request_id: Option<String>,
    pub ip: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Missing, or owned by someone else: the caller cannot tell which.
    #[error("not found")]
    NotFound,
    /// The request clashes with the current state (a running consultation, a stale version…).
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        details: serde_json::Value,
    },
    /// A value that only the database can judge (an unknown doctor, a taken email).
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The database, or one of its files, does not take writes: the server's user may not
    /// write it, the file system is read-only, or the database refuses this user writes.
    #[error("cannot write {file}: {reason}")]
    NotWritable { file: String, reason: String },
    /// Every connection stayed busy for as long as a request may wait for one.
    #[error("no database connection came free in time")]
    Busy,
    /// The database does not answer: a connection attempt of its own failed too (it is down,
    /// restarting or unreachable), so the request does not wait for the pool.
    #[error("the database does not answer")]
    Unavailable,
    /// A read could not run on the SQLite read connections (`sqlite::reader`): it panicked or
    /// its task was stopped.
    #[error("a read did not run to its end: {0}")]
    ReadFailed(String),
    /// An error from the synchronous SQLite reads (`sqlite::reader`).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    /// The audit row of a read could not be stored, so the read is not answered.
    #[error("the audit trail could not be written: {0}")]
    Audit(String),
    /// A stored value could not be opened with its key (`store::cipher`): the key is missing
    /// from this server's keys, or is not the one that sealed it.
    #[error("a stored value under key {key_id} cannot be opened: {problem}")]
    Key {
        key_id: String,
        problem: &'static str,
    },
    /// No data keys are installed, so nothing can be sealed or opened.
    #[error("no data keys are installed")]
    NoKeys,
    /// The disk under the database is full, and what space is left is kept for the audit rows
    /// of reads (`sqlite::audit_reserve`): the write was not started.
    #[error("{}", DISK_FULL_TEXT)]
    DiskFull,
}

impl StoreError {
    /// Whether a write failed for want of disk space: refused before it started (`DiskFull`),
    /// SQLite's FULL (13) from either driver, a file system's ENOSPC, or PostgreSQL's
    /// disk_full (53100). The audit queue passes its failure on as text, so for it SQLite's
    /// own words are what tells.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::DiskFull => true,
            StoreError::Database(sqlx::Error::Database(refused)) => {
                let code = refused.code();
                let code = code.as_deref().unwrap_or_default();
                match code.parse::<i32>() {
                    Ok(sqlite) => sqlite & 0xff == 13,
                    Err(_) => code == "53100",
                }
            }
            StoreError::Database(sqlx::Error::Io(io)) => {
                io.kind() == std::io::ErrorKind::StorageFull
            }
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(failure, _)) => {
                failure.code == rusqlite::ErrorCode::DiskFull
            }
            StoreError::Audit(reason) => {
                reason.contains("database or disk is full") || reason.contains(DISK_FULL_TEXT)
            }
            _ => false,
        }
    }
}

/// How `StoreError::DiskFull` reads as text, for the audit queue's failures.
const DISK_FULL_TEXT: &str = "the disk of the database is full";

impl StoreError {
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        StoreError::Conflict {
            code,
            message: message.into(),
            details: serde_json::Value::Null,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Where a page starts: an offset, or the opaque cursor of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageStart {
    Offset(u64),
    Cursor(String),
}

#[derive(Debug, Clone)]
pub struct PatientListQuery {
    pub search: Option<String>,
    /// Conditions every row must meet besides the search (the FHIR API's search parameters).
    pub filter: PatientFilter,
    pub sort: PatientSort,
    pub limit: u32,
    pub start: PageStart,
}

/// Narrowing conditions on a patient list, each left out when `None`: every word of `name`
/// starts a word of the name (folded as search folds), the MRN is `mrn` (ignoring case), the
/// date of birth is `born_on`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatientFilter {
    pub name: Option<String>,
    pub mrn: Option<String>,
    pub born_on: Option<NaiveDate>,
}

impl PatientFilter {
    pub fn is_empty(&self) -> bool {
        self == &PatientFilter::default()
    }
}

#[derive(Debug, Clone)]
pub struct ReportListQuery {
    pub filter: ReportFilter,
    pub limit: u32,
    pub start: PageStart,
}

#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub user_id: Option<Uuid>,
    pub patient_id: Option<Uuid>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: u32,
    /// Where the page starts when there is no cursor.
    pub offset: u64,
    /// The opaque `next_cursor` of the previous page: the page starts after its row.
    pub cursor: Option<String>,
}

/// Where an audit export continues: after the row at this time with this id (the export's
/// order is `at`, then `id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditPosition {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

/// A user row with what authentication needs; never sent over the wire as is.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub user: User,
    pub password_hash: String,
    pub failed_logins: u32,
    pub locked_until: Option<DateTime<Utc>>,
    pub disabled: bool,
}

/// The outcome of counting a failed password.
#[derive(Debug, Clone, Copy)]
pub struct LoginFailure {
    pub failed_logins: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

/// The lockout policy, from the server configuration.
#[derive(Debug, Clone, Copy)]
pub struct LockoutPolicy {
    /// Failures from one address that lock that address out of the account.
    pub threshold: u32,
    /// Failures from all addresses together that lock the account from everywhere.
    pub account_threshold: u32,
    pub duration: chrono::Duration,
}

/// A refresh token to store: only its hash is kept.
#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    pub token_hash: String,
    pub expires_at: DateTime<Utc>,
}

/// What presenting a refresh token led to.
#[derive(Debug, Clone)]
pub enum RefreshOutcome {
    Rotated {
        user: User,
        session_id: Uuid,
    },
    /// The token had been used before: the whole session is now revoked.
    Reused,
    Revoked,
    /// The refresh token itself has expired.
    Expired,
    /// The session ended by the idle timeout or its lifetime.
    TimedOut,
    Unknown,
    Disabled,
}

/// Whether a session may still be used. An active session answers the account's role as the
/// database holds it now: a token's claims are not trusted for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Active {
        role: Role,
        /// The account has a confirmed second factor.
        mfa: bool,
    },
    Revoked,
    Disabled,
    /// Ended by the idle timeout or the absolute lifetime, just now or before.
    Expired,
}

/// How long a session lasts on the server, whatever its tokens say.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// Ended after this long without a request.
    pub idle: chrono::Duration,
    /// Ended this long after login, however busy.
    pub lifetime: chrono::Duration,
}

impl Default for SessionPolicy {
    fn default() -> SessionPolicy {
        SessionPolicy {
            idle: chrono::Duration::minutes(30),
            lifetime: chrono::Duration::hours(12),
        }
    }
}

/// Whether a session check counts as use of the session (resets its idle timeout). A request
/// does; the periodic checks of an open event stream, and opening one, do not, or a workstation
/// left alone would keep its session forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionUse {
    Request,
    Watch,
}

/// One of a user's open sessions, for `GET /auth/sessions`.
#[derive(Debug, Clone)]
pub struct OpenSession {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub client: Option<String>,
}

/// A report claimed for generation, with what the generator needs.
#[derive(Debug, Clone)]
pub struct GenerationJob {
    pub report_id: Uuid,
    pub notes: String,
    pub chief_complaint: Option<String>,
}

/// Migrations embedded in the binary (version, description, SQL), as sqlx's `Migrator` takes
/// them: each engine keeps its own list under `migrations/<engine>/`.
fn embedded_migrations(
    migrations: &'static [(i64, &'static str, &'static str)],
) -> std::borrow::Cow<'static, [sqlx::migrate::Migration]> {
    use sqlx::SqlSafeStr;
    migrations
        .iter()
        .map(|(version, description, sql)| {
            sqlx::migrate::Migration::new(
                *version,
                std::borrow::Cow::Borrowed(*description),
                sqlx::migrate::MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect()
}

/// Says at start how many patients a due refold (`refold`) brought up to date.
fn log_reseal(sealed: u64) {
    if sealed > 0 {
        tracing::info!(
            values = sealed,
            "sealed the values stored before encryption"
        );
    }
}

fn log_refold(refolded: u64) {
    if refolded > 0 {
        tracing::info!(
            patients = refolded,
            "derived the search columns of existing patients again"
        );
    }
}

/// An audit row to write for an event outside a store transaction (logins, denials).
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub user_id: Option<Uuid>,
    pub action: &'a str,
    pub resource_type: Option<&'a str>,
    pub resource_id: Option<String>,
    pub patient_id: Option<Uuid>,
    pub outcome: &'a str,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    // --- health
    async fn ping(&self) -> StoreResult<()>;
    /// `Ok` when the database takes writes (`/ready`, and start-up, which refuses a database
    /// it cannot write); `StoreError::NotWritable` naming the file and why when it does not.
    async fn writable(&self) -> StoreResult<()>;
    /// Seals every stored value again under the current data key, in passes until one finds
    /// none under another key (`store::reseal`), at most `passes`; answers the totals and
    /// whether it got there.
    async fn reseal(&self, passes: u32) -> StoreResult<(reseal::Pass, bool)>;
    /// The pool and the audit queue, for `/metrics`.
    fn status(&self) -> crate::telemetry::StoreStatus;

    // --- users and sessions
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>>;
    async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<UserRecord>>;
    /// Creates an account; audited when `by` is given (demo and synthetic accounts are not).
    async fn create_user(
        &self,
        by: Option<&Administrator>,
        user: &NewUser,
        password_hash: &str,
    ) -> StoreResult<AdminUser>;
    async fn record_login_failure(
        &self,
        ctx: &RequestContext,
        email: &str,
        user_id: Option<Uuid>,
        policy: LockoutPolicy,
    ) -> StoreResult<LoginFailure>;
    /// Until when logins to `email` from the request's address are refused, if they are.
    async fn login_lock(
        &self,
        ctx: &RequestContext,
        email: &str,
    ) -> StoreResult<Option<DateTime<Utc>>>;
    /// Resets the failure count, opens a session with its first refresh token, audits the login.
    /// `client` names the program that logged in (its User-Agent), for the list of sessions.
    async fn open_session(
        &self,
        ctx: &RequestContext,
        user_id: Uuid,
        refresh: &NewRefreshToken,
        client: Option<&str>,
    ) -> StoreResult<Uuid>;
    /// Spends the presented refresh token for `next`, unless the session has ended, or ends
    /// now under `policy`.
    async fn rotate_refresh_token(
        &self,
        ctx: &RequestContext,
        presented_hash: &str,
        next: &NewRefreshToken,
        policy: SessionPolicy,
    ) -> StoreResult<RefreshOutcome>;
    /// Whether the session may be used, ending it when `policy` says it is over; a
    /// [`SessionUse::Request`] counts as use.
    async fn session_state(
        &self,
        session_id: Uuid,
        user_id: Uuid,
        policy: SessionPolicy,
        usage: SessionUse,
    ) -> StoreResult<SessionState>;
    /// The user's sessions that have not ended, newest first.
    async fn open_sessions(
        &self,
        user_id: Uuid,
        policy: SessionPolicy,
    ) -> StoreResult<Vec<OpenSession>>;
    async fn session_of_refresh_token(&self, token_hash: &str)
    -> StoreResult<Option<(Uuid, Uuid)>>;
    /// Ends one of the actor's own sessions; answers false when it has none open by that id.
    async fn revoke_session(
        &self,
        actor: &Actor,
        session_id: Uuid,
        reason: &str,
    ) -> StoreResult<bool>;
    /// Stores a new password hash and revokes every other session of the user.
    async fn change_password(
        &self,
        actor: &Actor,
        keep_session: Uuid,
        password_hash: &str,
    ) -> StoreResult<()>;
    async fn audit(&self, ctx: &RequestContext, entry: AuditEntry<'_>) -> StoreResult<()>;

    // --- second factor (TOTP)
    /// The account's enrolment, pending or confirmed, if it has one.
    async fn mfa_record(&self, user_id: Uuid) -> StoreResult<Option<mfa::MfaRecord>>;
    /// Keeps a pending enrolment; false when a confirmed one exists.
    async fn begin_mfa(&self, actor: &Actor, sealed_secret: &str) -> StoreResult<bool>;
    /// Confirms the pending enrolment at time step `step` with new recovery codes' hashes.
    async fn enable_mfa(
        &self,
        actor: &Actor,
        step: i64,
        recovery_hashes: &[String],
    ) -> StoreResult<bool>;
    /// Accepts a code of time step `step` once: false for that step or an earlier one again.
    async fn accept_mfa_step(&self, user_id: Uuid, step: i64) -> StoreResult<bool>;
    /// Spends a recovery code by its hash; false when unknown or used.
    async fn use_recovery_code(
        &self,
        ctx: &RequestContext,
        user_id: Uuid,
        code_hash: &str,
    ) -> StoreResult<bool>;
    /// Removes the account's second factor; answers whether it had one.
    async fn reset_mfa(&self, by: &Administrator, user_id: Uuid) -> StoreResult<bool>;

    // --- admin
    async fn list_users(
        &self,
        by: &Administrator,
        limit: u32,
        offset: u64,
    ) -> StoreResult<Page<AdminUser>>;
    /// How many accounts can administer (role admin, not disabled): `serve` says how to create
    /// the first one when there is none.
    async fn active_admins(&self) -> StoreResult<u64>;
    async fn unlock_user(&self, by: &Administrator, user_id: Uuid) -> StoreResult<AdminUser>;
    /// Disables the account and revokes its open sessions.
    async fn disable_user(&self, by: &Administrator, user_id: Uuid) -> StoreResult<AdminUser>;
    async fn enable_user(&self, by: &Administrator, user_id: Uuid) -> StoreResult<AdminUser>;
    /// Sets a new password, clears the lockout and revokes every session of the account.
    async fn reset_password(
        &self,
        by: &Administrator,
        user_id: Uuid,
        password_hash: &str,
    ) -> StoreResult<AdminUser>;
    /// Revokes every open session of the account; answers how many there were.
    async fn revoke_sessions(&self, by: &Administrator, user_id: Uuid) -> StoreResult<u64>;
    async fn query_audit(&self, actor: &Actor, query: &AuditQuery)
    -> StoreResult<Page<AuditEvent>>;
    /// A page of the audit export: up to `query.limit` rows matching `query` (its `offset`
    /// unused), oldest first, after `after` (keyset paging, so a year's trail costs per page
    /// what a day's does). The first page (`after` = `None`) audits the export.
    async fn export_audit(
        &self,
        by: &Administrator,
        query: &AuditQuery,
        after: Option<AuditPosition>,
    ) -> StoreResult<Vec<AuditEvent>>;
    /// The names of the audit chains (`audit_chain`; SQLite keeps one per file), in the
    /// order the chain methods number them.
    fn audit_chain_names(&self) -> Vec<&'static str>;
    /// Up to `limit` links of chain `chain` after position `after`, each with its row.
    async fn audit_chain_links(
        &self,
        chain: usize,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<audit_chain::ChainLink>>;
    /// Up to `limit` audit rows of chain `chain`'s table that have no link, oldest first.
    async fn audit_unchained(
        &self,
        chain: usize,
        limit: u32,
    ) -> StoreResult<Vec<audit_queue::AuditRow>>;
    /// The last link of every chain, by name (what the server logs).
    async fn audit_chain_heads(&self) -> StoreResult<Vec<(&'static str, audit_chain::ChainHead)>>;

    // --- patients
    async fn list_patients(
        &self,
        actor: &Actor,
        query: &PatientListQuery,
    ) -> StoreResult<Page<PatientSummary>>;
    async fn search_patients(
        &self,
        actor: &Actor,
        term: &str,
        limit: u32,
    ) -> StoreResult<Vec<PatientSummary>>;
    async fn get_patient(&self, actor: &Actor, id: Uuid) -> StoreResult<Patient>;
    async fn create_patient(
        &self,
        actor: &Actor,
        doctor_id: Uuid,
        patient: &NewPatient,
    ) -> StoreResult<Patient>;
    async fn update_patient(
        &self,
        actor: &Actor,
        id: Uuid,
        update: &PatientUpdate,
    ) -> StoreResult<Patient>;
    /// The active doctors, by name: whom a receptionist registers a patient with.
    async fn active_doctors(&self, actor: &Actor) -> StoreResult<Vec<DoctorSummary>>;

    // --- consultations
    async fn start_consultation(
        &self,
        actor: &Actor,
        start: &StartConsultation,
    ) -> StoreResult<Consultation>;
    async fn active_consultations(&self, actor: &Actor) -> StoreResult<Vec<Consultation>>;
    async fn get_consultation(&self, actor: &Actor, id: Uuid) -> StoreResult<Consultation>;
    async fn update_notes(&self, actor: &Actor, id: Uuid, notes: &str)
    -> StoreResult<Consultation>;
    /// Completes the consultation and creates its pending report, queued for generation.
    async fn stop_consultation(
        &self,
        actor: &Actor,
        id: Uuid,
        notes: Option<&str>,
    ) -> StoreResult<Consultation>;
    async fn cancel_consultation(
        &self,
        actor: &Actor,
        id: Uuid,
        reason: &str,
    ) -> StoreResult<Consultation>;
    async fn consultation_history(
        &self,
        actor: &Actor,
        patient_id: Uuid,
        limit: u32,
        offset: u64,
    ) -> StoreResult<ConsultationHistory>;

    // --- reports
    async fn list_reports(&self, actor: &Actor, query: &ReportListQuery)
    -> StoreResult<ReportPage>;
    async fn report_stats(
        &self,
        actor: &Actor,
        patient_id: Option<Uuid>,
        days: u32,
    ) -> StoreResult<ReportStats>;
    async fn get_report(&self, actor: &Actor, id: Uuid) -> StoreResult<Report>;
    /// A report of the caller with its patient's allergies, to render outside the system;
    /// audited as `report.export.<format>` (`exports`).
    async fn export_report(
        &self,
        actor: &Actor,
        id: Uuid,
        format: crate::model::export::ExportFormat,
    ) -> StoreResult<crate::model::export::ExportedReport>;
    /// A patient's chart, consultations and reports, to render outside the system; audited
    /// as `patient.export.<format>` (`exports`).
    async fn export_record(
        &self,
        actor: &Actor,
        patient_id: Uuid,
        format: crate::model::export::ExportFormat,
    ) -> StoreResult<crate::model::export::PatientRecord>;
    /// The record `export_record` reads, audited as one disclosure, `patient.everything`.
    async fn patient_everything(
        &self,
        actor: &Actor,
        patient_id: Uuid,
    ) -> StoreResult<crate::model::export::PatientRecord>;
    async fn edit_report(
        &self,
        actor: &Actor,
        id: Uuid,
        content: &ReportContent,
        version: u32,
    ) -> StoreResult<Report>;
    /// Signs the `completed` report `id` if it is still at `version`, the version the doctor
    /// read: a report changed since answers `VERSION_CONFLICT` and stays unsigned.
    async fn sign_report(&self, actor: &Actor, id: Uuid, version: u32) -> StoreResult<Report>;
    async fn add_addendum(&self, actor: &Actor, id: Uuid, text: &str) -> StoreResult<Report>;

    // --- report generation (the reportgen worker)
    /// Reports queued for generation and not finished (after a restart, too).
    async fn queued_reports(&self) -> StoreResult<Vec<Uuid>>;
    /// Marks a queued report `generating` and hands out its notes; `None` if it is not queued.
    async fn claim_generation(&self, report_id: Uuid) -> StoreResult<Option<GenerationJob>>;
    async fn finish_generation(
        &self,
        report_id: Uuid,
        result: Result<(&ReportContent, f64, &str), &str>,
    ) -> StoreResult<()>;

    // --- live events (`events`)
    /// Every owner's events after `after`, oldest first, at most `limit`: the server's fan-out
    /// reads these and hands each to its owner's streams only.
    async fn events_after(&self, after: i64, limit: u32) -> StoreResult<Vec<events::OwnedEvent>>;
    /// Opens the caller's event stream, audited like a read: their events after
    /// `last_event_id`, or a reset when those are no longer kept.
    async fn subscribe_events(
        &self,
        actor: &Actor,
        last_event_id: Option<i64>,
    ) -> StoreResult<events::EventReplay>;
    /// The caller's events after `after`, for a stream that fell behind (not audited again).
    async fn catch_up_events(&self, actor: &Actor, after: i64) -> StoreResult<events::EventReplay>;
    /// Deletes all but the newest `keep` events, and none after `read_up_to` (the position the
    /// caller has read to); answers how many it deleted.
    async fn prune_events(&self, keep: u64, read_up_to: i64) -> StoreResult<u64>;
    /// Changes after each commit that wrote events (of every instance, on PostgreSQL).
    fn event_signal(&self) -> tokio::sync::watch::Receiver<u64>;

    // --- data sets
    /// Inserts synthetic patients with everything hanging off them, in one transaction.
    async fn insert_synthetic(
        &self,
        doctor_ids: &[Uuid],
        patients: &[synth::SynthPatient],
    ) -> StoreResult<()>;
    /// When the database holds no patients yet, sets aside what a large `insert_synthetic`
    /// load would otherwise update row by row: the secondary indexes of the tables it fills
    /// (on PostgreSQL also their foreign keys and the triggers keeping derived data). Returns
    /// whether it did. What it set aside is recorded: `finish_bulk_load` restores it, and so
    /// does the next start after an interrupted load.
    async fn prepare_bulk_load(&self) -> StoreResult<bool>;
    /// Restores what `prepare_bulk_load` set aside, if anything, and leaves the database as
    /// servers read it best (SQLite: the WAL checkpointed into the file); returns how many
    /// indexes and constraints it built.
    async fn finish_bulk_load(&self) -> StoreResult<usize>;
    async fn next_mrn_seq(&self) -> StoreResult<i64>;
    async fn setting(&self, key: &str) -> StoreResult<Option<String>>;
    async fn set_setting(&self, key: &str, value: &str) -> StoreResult<()>;
    /// Sets a setting only if it is not set yet; returns whether this call set it. Lets one of
    /// several instances starting at once claim a one-time job.
    async fn claim_setting(&self, key: &str, value: &str) -> StoreResult<bool>;
}
