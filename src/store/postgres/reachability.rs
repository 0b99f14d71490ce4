//! Telling a database that is down from one that is busy, in well under a second.
//!
//! The pool waits up to its acquire timeout (5 s) for a connection, and while PostgreSQL
//! refuses connections it keeps retrying for all of that time: a request to a server whose
//! database has gone would hang for 5 s before its 503, and a load balancer or a person would
//! see a stalled server, not an unavailable one. So a request that has not got its connection
//! after a moment asks the database directly, with one short connection attempt of its own
//! (shared by the requests of the next moment); if that fails too, the request answers
//! `StoreError::Unavailable` at once. A busy database accepts the probe, and the request goes
//! on waiting its turn as before.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use crate::store::{StoreError, StoreResult};

/// How long a request waits for the pool before it checks whether the database answers.
const PROBE_AFTER: Duration = Duration::from_millis(250);
/// How long the check's own connection attempt may take (an unreachable host drops packets).
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);
/// How long one check's answer holds for the requests that come after it.
const PROBE_FRESH: Duration = Duration::from_millis(250);

/// Whether the database answers, checked on demand and remembered for a moment.
pub struct Reachability {
    options: PgConnectOptions,
    last: Mutex<Option<(Instant, bool)>>,
}

impl Reachability {
    pub fn new(options: PgConnectOptions) -> Reachability {
        Reachability {
            options,
            last: Mutex::new(None),
        }
    }

    /// Waits for `acquire` (the pool's acquire or begin) unless the database turns out to be
    /// down meanwhile: then `StoreError::Unavailable`, within about `PROBE_AFTER +
    /// PROBE_TIMEOUT`.
    pub async fn connection<T>(
        &self,
        acquire: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> StoreResult<T> {
        tokio::pin!(acquire);
        tokio::select! {
            acquired = &mut acquire => return Ok(acquired?),
            () = tokio::time::sleep(PROBE_AFTER) => {}
        }
        if !self.answers().await {
            return Err(StoreError::Unavailable);
        }
        Ok(acquire.await?)
    }

    /// Whether a fresh connection to the database succeeds (the last answer, if recent).
    async fn answers(&self) -> bool {
        if let Some((at, answered)) = *self.last.lock().unwrap_or_else(|e| e.into_inner())
            && at.elapsed() < PROBE_FRESH
        {
            return answered;
        }
        let answered =
            match tokio::time::timeout(PROBE_TIMEOUT, PgConnection::connect_with(&self.options))
                .await
            {
                Ok(Ok(connection)) => {
                    let _ = connection.close().await;
                    true
                }
                Ok(Err(error)) => {
                    tracing::debug!(%error, "the database refused a connection");
                    false
                }
                Err(_) => false,
            };
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), answered));
        answered
    }
}
