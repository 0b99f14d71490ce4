//! What the shared store code needs from an engine: its dialect, a write transaction, a way to
//! run a read on a connection, and the audit queue. Everything else an engine does (opening,
//! migrations, bulk loading, the trigram step of search) stays in its own module.

use std::future::Future;

use futures_util::future::BoxFuture;
use uuid::Uuid;

use super::audit_queue::AuditQueue;
use super::doctor_names::DoctorNames;
use super::patients::Search;
use super::sql::{Conn, Dialect, Statement, WriteTx};
use super::synth::SynthPatient;
use super::{Actor, AuditEntry, RequestContext, StoreError, StoreResult};
use crate::model::patient::PatientSummary;

/// A read: given a connection, the future that runs its statements on it.
pub trait ReadFn<C, T>:
    for<'c> FnOnce(&'c mut C) -> BoxFuture<'c, StoreResult<T>> + Send + 'static
{
}

impl<C, T, F> ReadFn<C, T> for F where
    F: for<'c> FnOnce(&'c mut C) -> BoxFuture<'c, StoreResult<T>> + Send + 'static
{
}

/// One database engine under the shared store code.
pub trait Engine: Send + Sync + 'static {
    /// A write transaction; on SQLite it also holds the writer's turn.
    type Tx: WriteTx;
    /// A connection reads run on.
    type Reader: Conn;

    fn dialect(&self) -> Dialect;

    fn write_tx(&self) -> impl Future<Output = StoreResult<Self::Tx>> + Send;

    /// Runs `read` on a read connection, all of its statements on the same one.
    fn read<T: Send + 'static>(
        &self,
        read: impl ReadFn<Self::Reader, T>,
    ) -> impl Future<Output = StoreResult<T>> + Send;

    /// The group-committed audit rows of reads, refusals and sign-ins.
    fn audit_queue(&self) -> &AuditQueue;

    /// How an error names the database: the data file on SQLite, the database on
    /// PostgreSQL (never with its password).
    fn data_file_name(&self) -> String;

    /// The rest of `Store::writable` on this engine: files of its own beyond the data file.
    fn check_writable(&self) -> impl Future<Output = StoreResult<()>> + Send;

    /// Open and idle connections of the pool writes use, for `/metrics`.
    fn write_pool(&self) -> (u32, usize);

    /// The names of the patients' doctors, for the patient summaries.
    fn doctor_names(&self) -> &DoctorNames;

    /// Changes after every commit that wrote live events (`store::events`): of this process
    /// on SQLite, of every instance on the database on PostgreSQL.
    fn event_signal(&self) -> tokio::sync::watch::Receiver<u64>;

    // Patients (`store::patients`).

    /// From how many prefix candidates a search reads patients in last-visit order rather
    /// than ranking every candidate (`set_dense_prefix_candidates` lowers it in tests).
    fn dense_prefix_candidates(&self) -> u64;

    /// The substring step of a search, for a term that takes substrings: up to `rest` of the
    /// caller's patients matching the term anywhere but not as a prefix, in last-visit order,
    /// found through the engine's own trigram index (FTS5 on SQLite, pg_trgm on PostgreSQL),
    /// on the search's read connection.
    fn patient_substrings<'c>(
        conn: &'c mut Self::Reader,
        search: &'c Search,
        rest: u32,
    ) -> impl Future<Output = StoreResult<Vec<PatientSummary>>> + Send + 'c;

    // Loading a data set (`synapse seed`): each engine has its own fastest path.

    /// Inserts synthetic patients with everything hanging off them, in one transaction.
    fn bulk_insert(
        &self,
        doctor_ids: &[Uuid],
        patients: &[SynthPatient],
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// `Store::prepare_bulk_load` on this engine.
    fn bulk_prepare(&self) -> impl Future<Output = StoreResult<bool>> + Send;

    /// `Store::finish_bulk_load` on this engine.
    fn bulk_finish(&self) -> impl Future<Output = StoreResult<usize>> + Send;
}

/// Writes one audit row on `conn`, inside whatever transaction the caller holds.
pub async fn insert_audit(
    conn: &mut impl Conn,
    ctx: &RequestContext,
    entry: &AuditEntry<'_>,
) -> StoreResult<()> {
    let row = super::audit_queue::audit_row(ctx, entry);
    let insert = Statement::new(
        "INSERT INTO audit_events (id, at, user_id, action, resource_type, resource_id, \
         patient_id, outcome, request_id, ip, client_request_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .arg(row.id)
    .arg(row.at)
    .arg(row.user_id)
    .arg(row.action.as_str())
    .arg(row.resource_type.clone())
    .arg(row.resource_id.clone())
    .arg(row.patient_id)
    .arg(row.outcome.as_str())
    .arg(row.request_id.as_str())
    .arg(row.ip.clone())
    .arg(row.client_request_id.clone());
    conn.execute(&insert).await?;
    // Linked in the same transaction: the row and its link are stored together or not at all.
    super::audit_chain::append(conn, "audit_chain", std::slice::from_ref(&row)).await?;
    Ok(())
}

/// Audits an action by an authenticated actor, in the caller's transaction.
pub async fn audit_actor(
    conn: &mut impl Conn,
    actor: &Actor,
    action: &str,
    resource: (&str, Option<String>),
    patient_id: Option<Uuid>,
    outcome: &str,
) -> StoreResult<()> {
    insert_audit(
        conn,
        &actor.context(),
        &AuditEntry {
            user_id: Some(actor.user_id),
            action,
            resource_type: Some(resource.0),
            resource_id: resource.1,
            patient_id,
            outcome,
        },
    )
    .await
}

/// Audits a read right after it happened; the data is only returned once the row is stored.
pub async fn audit_read(
    engine: &impl Engine,
    actor: &Actor,
    action: &str,
    resource: (&str, Option<String>),
    patient_id: Option<Uuid>,
) -> StoreResult<()> {
    engine
        .audit_queue()
        .record_read(actor, action, resource, patient_id, "success")
        .await
}

/// Audits a refused access, then answers `NotFound` like a missing record.
pub async fn deny(
    engine: &impl Engine,
    actor: &Actor,
    action: &str,
    resource: (&str, Uuid),
) -> StoreError {
    engine.audit_queue().deny(actor, action, resource).await
}

/// Audits a change of the caller's own record that its state refused (a consultation already
/// running or over, a report signed or changed since it was read) as `failure`, then answers
/// `refusal`: the trail holds a row for every attempt on a record, not only for those that
/// changed it. Call it after the transaction is rolled back.
pub async fn refuse(
    engine: &impl Engine,
    actor: &Actor,
    action: &str,
    resource: (&str, Uuid),
    patient_id: Uuid,
    refusal: StoreError,
) -> StoreError {
    let audited = engine
        .audit_queue()
        .record_read(
            actor,
            action,
            (resource.0, Some(resource.1.to_string())),
            Some(patient_id),
            "failure",
        )
        .await;
    match audited {
        Ok(()) => refusal,
        Err(e) => e,
    }
}

/// `doctor_id = caller` for doctors; receptionists see every doctor's patient rows.
pub fn owner_scope(actor: &Actor) -> Option<Uuid> {
    match actor.role {
        crate::model::auth::Role::Doctor => Some(actor.user_id),
        _ => None,
    }
}
