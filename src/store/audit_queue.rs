//! Group commit for the audit rows of reads: every read waits until its audit row is stored,
//! but the rows of reads that finish at the same moment share one transaction. One commit per
//! read made the audit trail the bottleneck of every read endpoint (on SQLite one writer at a
//! time; on PostgreSQL one WAL flush per row); a batch costs about what one row did.
//!
//! The queue is engine-agnostic: an engine supplies `AuditSink::write_batch`, which stores a
//! batch in one transaction or not at all.

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::{Actor, AuditEntry, RequestContext, StoreError, StoreResult};
use crate::model::admin::AuditEvent;
use crate::model::time::now;

/// The most rows one transaction takes; more waiting rows go in the next one.
const MAX_BATCH: usize = 512;
/// Rows waiting for their batch; a read beyond this waits for room (backpressure, never loss).
const QUEUE_DEPTH: usize = 4096;

/// One audit row as it waits in the queue: the audit event as the audit query returns it.
pub type AuditRow = AuditEvent;

/// The row for `entry`, stamped now with a fresh id.
pub fn audit_row(ctx: &RequestContext, entry: &AuditEntry<'_>) -> AuditRow {
    AuditEvent {
        id: Uuid::now_v7(),
        at: now(),
        user_id: entry.user_id,
        action: entry.action.to_string(),
        resource_type: entry.resource_type.map(str::to_string),
        resource_id: entry.resource_id.clone(),
        patient_id: entry.patient_id,
        outcome: entry.outcome.to_string(),
        request_id: ctx.request_id.clone(),
        client_request_id: ctx.client_request_id.clone(),
        ip: ctx.ip.clone(),
    }
}

/// Where an engine stores a batch: all of `rows` in one transaction, or none of them.
#[async_trait]
pub trait AuditSink: Send + Sync + 'static {
    async fn write_batch(&self, rows: &[AuditRow]) -> StoreResult<()>;
}

type Waiter = oneshot::Sender<Result<(), String>>;

/// The sending side of the queue; cloned into every handle of the store.
#[derive(Clone)]
pub struct AuditQueue {
    sender: mpsc::Sender<(AuditRow, Waiter)>,
}

impl AuditQueue {
    /// Starts the task that drains the queue into `sink`. It ends when the last handle of the
    /// queue is dropped, after storing what was queued.
    pub fn start(sink: impl AuditSink) -> AuditQueue {
        let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(drain(sink, receiver));
        AuditQueue { sender }
    }

    /// How many rows wait to be stored (for `/metrics`).
    pub fn queued(&self) -> usize {
        self.sender.max_capacity() - self.sender.capacity()
    }

    /// Stores `row`, returning once it is committed (with the rows queued beside it).
    pub async fn record(&self, row: AuditRow) -> StoreResult<()> {
        let (done, stored) = oneshot::channel();
        self.sender
            .send((row, done))
            .await
            .map_err(|_| StoreError::Audit("the audit queue has stopped".into()))?;
        match stored.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(reason)) => Err(StoreError::Audit(reason)),
            Err(_) => Err(StoreError::Audit("the audit queue has stopped".into())),
        }
    }
}

impl AuditQueue {
    /// Audits a read by `actor` (or its refusal, by `outcome`), once the read has happened.
    pub async fn record_read(
        &self,
        actor: &Actor,
        action: &str,
        resource: (&str, Option<String>),
        patient_id: Option<Uuid>,
        outcome: &str,
    ) -> StoreResult<()> {
        let action = actor.audit_action(action);
        let entry = AuditEntry {
            user_id: Some(actor.user_id),
            action: &action,
            resource_type: Some(resource.0),
            resource_id: resource.1,
            patient_id,
            outcome,
        };
        self.record(audit_row(&actor.context(), &entry)).await
    }

    /// Audits a refused access to someone else's (or a missing) record, then answers
    /// `NotFound` exactly like a missing record, so the caller cannot tell which it was.
    pub async fn deny(&self, actor: &Actor, action: &str, resource: (&str, Uuid)) -> StoreError {
        // An attempt on a patient is findable by that patient's id in the audit query.
        let patient_id = (resource.0 == "patient").then_some(resource.1);
        let audited = self
            .record_read(
                actor,
                action,
                (resource.0, Some(resource.1.to_string())),
                patient_id,
                "denied",
            )
            .await;
        match audited {
            Ok(()) => StoreError::NotFound,
            Err(e) => e,
        }
    }
}

async fn drain(sink: impl AuditSink, mut receiver: mpsc::Receiver<(AuditRow, Waiter)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // Waits for the first row, then takes whatever else is already waiting: under load the
    // batches grow by themselves, and a lone read is not held back by a timer.
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (rows, waiters): (Vec<AuditRow>, Vec<Waiter>) = batch.drain(..).unzip();
        let outcome = sink.write_batch(&rows).await.map_err(|e| e.to_string());
        crate::telemetry::audit_batch(outcome.is_ok());
        for waiter in waiters {
            // A waiter that went away (its request was cancelled) needs no answer.
            let _ = waiter.send(outcome.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Recorder {
        batches: Arc<Mutex<Vec<usize>>>,
        fail: bool,
    }

    #[async_trait]
    impl AuditSink for Recorder {
        async fn write_batch(&self, rows: &[AuditRow]) -> StoreResult<()> {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            self.batches.lock().unwrap().push(rows.len());
            if self.fail {
                return Err(StoreError::Corrupt("disk full".into()));
            }
            Ok(())
        }
    }

    fn row() -> AuditRow {
        let entry = AuditEntry {
            user_id: None,
            action: "patient.list",
            resource_type: Some("patient"),
            resource_id: None,
            patient_id: None,
            outcome: "success",
        };
        audit_row(
            &RequestContext {
                request_id: "req".into(),
                client_request_id: None,
                ip: None,
            },
            &entry,
        )
    }

    #[tokio::test]
    async fn rows_recorded_together_share_batches_and_each_waits_for_its_commit() {
        let sink = Recorder::default();
        let queue = AuditQueue::start(sink.clone());
        let calls: Vec<_> = (0..100)
            .map(|_| {
                let queue = queue.clone();
                tokio::spawn(async move { queue.record(row()).await })
            })
            .collect();
        for call in calls {
            call.await.unwrap().unwrap();
        }
        let batches = sink.batches.lock().unwrap().clone();
        assert_eq!(batches.iter().sum::<usize>(), 100, "every row stored once");
        assert!(batches.len() < 100, "rows shared transactions: {batches:?}");
    }

    #[tokio::test]
    async fn a_failed_batch_fails_every_read_in_it() {
        let queue = AuditQueue::start(Recorder {
            fail: true,
            ..Recorder::default()
        });
        let error = queue.record(row()).await.unwrap_err();
        assert!(error.to_string().contains("disk full"), "{error}");
    }
}
