//! Live events, on either engine: every change a doctor's workstation should hear of is an
//! `events` row written by the store in the transaction of the change (`record`), so every
//! write path (the API's handlers, the report generation worker) emits them and an event
//! exists exactly when its change was committed. The row's id is the stream position.
//!
//! Ids become visible in increasing order on both engines, so "every event after id N" is a
//! complete answer: SQLite has one writer at a time, and on PostgreSQL `record` takes a
//! transaction-level advisory lock (`Dialect::event_lock`) before inserting, held until the
//! commit, so of two transactions the one that took the lower id commits first. The lock is
//! the last one a write takes (events are recorded after every other change), and it is held
//! only for the commit.
//!
//! After such a commit the server's event reader is woken (`EventSignal`): by the SQLite
//! write transaction itself, after its commit; on PostgreSQL by a `pg_notify` in the same
//! transaction, which the database delivers at commit to the listener of every instance
//! (`postgres::listen_for_events`). The reader then reads the rows after the last it saw
//! (`after`) and hands each to its owner's streams. Streams that resume with a
//! `Last-Event-ID` replay the owner's rows after it (`replay`); the newest rows are kept for
//! that and older ones pruned (`prune`).

use std::sync::Arc;

use tokio::sync::watch;
use uuid::Uuid;

use super::engine::{Engine, audit_read};
use super::sql::{self, Conn, Row, Statement, WriteTx};
use super::{Actor, StoreResult};
use crate::model::event::{Event, EventKind};
use crate::model::report::ReportStatus;
use crate::model::time::now;

/// The PostgreSQL notification channel a commit with events notifies.
pub const CHANNEL: &str = "synapse_events";

/// The advisory lock key under which PostgreSQL inserts events (`Dialect::event_lock`).
pub(crate) const EVENT_LOCK: i64 = 0x5359_4E41_5053_4556;

/// An event to record: whose it is (the doctor the records belong to) and what it is about.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub owner_id: Uuid,
    pub kind: EventKind,
    pub patient_id: Option<Uuid>,
    pub consultation_id: Option<Uuid>,
    pub report_id: Option<Uuid>,
    pub report_status: Option<ReportStatus>,
}

impl NewEvent {
    pub fn patient(kind: EventKind, owner_id: Uuid, patient_id: Uuid) -> NewEvent {
        NewEvent {
            owner_id,
            kind,
            patient_id: Some(patient_id),
            consultation_id: None,
            report_id: None,
            report_status: None,
        }
    }

    pub fn consultation(
        kind: EventKind,
        owner_id: Uuid,
        patient_id: Uuid,
        consultation_id: Uuid,
    ) -> NewEvent {
        NewEvent {
            consultation_id: Some(consultation_id),
            ..NewEvent::patient(kind, owner_id, patient_id)
        }
    }

    pub fn report(
        kind: EventKind,
        owner_id: Uuid,
        (patient_id, consultation_id): (Uuid, Option<Uuid>),
        report_id: Uuid,
        status: ReportStatus,
    ) -> NewEvent {
        NewEvent {
            consultation_id,
            report_id: Some(report_id),
            report_status: Some(status),
            ..NewEvent::patient(kind, owner_id, patient_id)
        }
    }
}

/// A stored event with the doctor it belongs to, as the server's fan-out reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedEvent {
    pub owner_id: Uuid,
    pub event: Event,
}

/// Where a stream starts: the caller's events to replay and the position after them, or
/// `reset` when the events after the position asked for are no longer kept (or the position
/// was never given by this database), so the client must fetch everything again.
#[derive(Debug, Clone, PartialEq)]
pub struct EventReplay {
    pub events: Vec<Event>,
    /// The newest id when the replay was read: the stream goes on after it.
    pub position: i64,
    pub reset: bool,
}

/// Wakes the server's event reader after a commit that wrote events. A counter in a watch
/// channel: a reader that was busy sees one change for any number of commits, and reads them
/// all at once.
#[derive(Clone)]
pub struct EventSignal(Arc<watch::Sender<u64>>);

impl Default for EventSignal {
    fn default() -> Self {
        EventSignal(Arc::new(watch::channel(0).0))
    }
}

impl EventSignal {
    pub fn notify(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.0.subscribe()
    }

    /// Whether no reader listens any more (the server shut down).
    pub fn is_unwatched(&self) -> bool {
        self.0.receiver_count() == 0
    }
}

/// Writes `events` in the caller's transaction; call it after every other change of the
/// transaction (see the module documentation).
pub async fn record(tx: &mut impl WriteTx, events: &[NewEvent]) -> StoreResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let dialect = tx.dialect();
    if let Some(lock) = dialect.event_lock() {
        tx.execute(&Statement::new(lock).arg(EVENT_LOCK)).await?;
    }
    let at = now();
    for event in events {
        let insert = Statement::new(
            "INSERT INTO events (owner_id, kind, patient_id, consultation_id, report_id,
                 report_status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .arg(event.owner_id)
        .arg(event.kind.as_str())
        .arg(event.patient_id)
        .arg(event.consultation_id)
        .arg(event.report_id)
        .arg(event.report_status.map(ReportStatus::as_str))
        .arg(at);
        tx.execute(&insert).await?;
    }
    if let Some(notify) = dialect.event_notify() {
        tx.execute(&Statement::new(notify).arg(CHANNEL)).await?;
    }
    tx.events_written();
    Ok(())
}

const COLUMNS: &str =
    "id, owner_id, kind, patient_id, consultation_id, report_id, report_status, created_at";

fn event(row: &dyn Row) -> StoreResult<Event> {
    Ok(Event {
        id: sql::int(row, "id")?,
        kind: sql::parsed(row, "kind", EventKind::parse)?,
        at: sql::time(row, "created_at")?,
        patient_id: sql::opt_uuid(row, "patient_id")?,
        consultation_id: sql::opt_uuid(row, "consultation_id")?,
        report_id: sql::opt_uuid(row, "report_id")?,
        report_status: sql::opt_parsed(row, "report_status", ReportStatus::parse)?,
    })
}

async fn newest(conn: &mut impl Conn) -> StoreResult<i64> {
    let select = Statement::new("SELECT COALESCE(MAX(id), 0) AS value FROM events");
    Ok(conn.scalar(&select).await?.unwrap_or(0))
}

/// Every owner's events after `after`, oldest first, at most `limit`. Only the server's
/// fan-out reads this, and it hands each event to the streams of its owner only.
pub async fn after(engine: &impl Engine, after: i64, limit: u32) -> StoreResult<Vec<OwnedEvent>> {
    let select = Statement::new(format!(
        "SELECT {COLUMNS} FROM events WHERE id > $1 ORDER BY id LIMIT $2"
    ))
    .arg(after)
    .arg(limit);
    engine
        .read(move |conn| {
            Box::pin(async move {
                conn.rows(&select, |row| {
                    Ok(OwnedEvent {
                        owner_id: sql::uuid(row, "owner_id")?,
                        event: event(row)?,
                    })
                })
                .await
            })
        })
        .await
}

/// The caller's events after `after` (none when `after` is `None`: a new stream starts at the
/// newest position), or a reset when some events after it are no longer kept. Ids are visible
/// in order, so the newest id read first bounds a replay that misses nothing below it.
async fn read_replay(
    engine: &impl Engine,
    owner_id: Uuid,
    after: Option<i64>,
) -> StoreResult<EventReplay> {
    engine
        .read(move |conn| {
            Box::pin(async move {
                let position = newest(conn).await?;
                let Some(after) = after else {
                    return Ok(EventReplay {
                        events: Vec::new(),
                        position,
                        reset: false,
                    });
                };
                let oldest = Statement::new("SELECT COALESCE(MIN(id), 0) AS value FROM events");
                let oldest = conn.scalar(&oldest).await?.unwrap_or(0);
                // Ids between `after` and the oldest kept row may have been pruned; a position
                // past the newest was never given by this database.
                if after > position || (oldest > 0 && after + 1 < oldest) {
                    return Ok(EventReplay {
                        events: Vec::new(),
                        position,
                        reset: true,
                    });
                }
                let select = Statement::new(format!(
                    "SELECT {COLUMNS} FROM events WHERE owner_id = $1 AND id > $2 AND id <= $3
                     ORDER BY id"
                ))
                .arg(owner_id)
                .arg(after)
                .arg(position);
                let events = conn.rows(&select, event).await?;
                Ok(EventReplay {
                    events,
                    position,
                    reset: false,
                })
            })
        })
        .await
}

/// Opens the caller's stream: the replay after `last_event_id`, audited like a read.
pub async fn subscribe(
    engine: &impl Engine,
    actor: &Actor,
    last_event_id: Option<i64>,
) -> StoreResult<EventReplay> {
    let replay = read_replay(engine, actor.user_id, last_event_id).await?;
    audit_read(engine, actor, "events.subscribe", ("event", None), None).await?;
    Ok(replay)
}

/// The caller's events after `after`, for a stream that fell behind the fan-out; part of the
/// subscription already audited.
pub async fn catch_up(engine: &impl Engine, actor: &Actor, after: i64) -> StoreResult<EventReplay> {
    read_replay(engine, actor.user_id, Some(after)).await
}

/// Deletes all but the newest `keep` events (at least one is kept, so the oldest id kept
/// always shows how far replay reaches); answers how many it deleted.
pub async fn prune(engine: &impl Engine, keep: u64, read_up_to: i64) -> StoreResult<u64> {
    let keep = i64::try_from(keep.max(1)).unwrap_or(i64::MAX);
    // Never past what the reader has read: events committed since its last read are not yet
    // delivered, and deleting one would lose it for every open stream.
    let delete = Statement::new(
        "DELETE FROM events WHERE id <= $2 AND id <= (SELECT COALESCE(MAX(id), 0) FROM events) - $1",
    )
    .arg(keep)
    .arg(read_up_to);
    let mut tx = engine.write_tx().await?;
    let deleted = tx.execute(&delete).await?;
    tx.commit().await?;
    Ok(deleted)
}
