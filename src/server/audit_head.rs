//! The head of each audit chain (`store::audit_chain`) in the server's log: at start, every
//! hour and at shutdown. The log lives apart from the database, so a chain whose end was cut
//! off, or that was rebuilt from scratch, no longer contains a head the log names; that is what
//! `synapse admin audit verify --expect-head ID:HASH` checks. A row id and a hash tell nothing
//! about a patient.

use std::sync::Arc;
use std::time::Duration;

use crate::store::Store;

/// How often a running server logs the heads.
const EVERY: Duration = Duration::from_secs(60 * 60);

/// Logs the heads at start and then every `EVERY`, until aborted.
pub async fn log_hourly(store: Arc<dyn Store>) {
    let mut ticks = tokio::time::interval(EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is at once.
    ticks.tick().await;
    log(store.as_ref(), "start").await;
    loop {
        ticks.tick().await;
        log(store.as_ref(), "hourly").await;
    }
}

/// Logs the head of every chain; `when` says why (`start`, `hourly`, `shutdown`).
pub async fn log(store: &dyn Store, when: &'static str) {
    match store.audit_chain_heads().await {
        Ok(heads) => {
            for (chain, head) in heads {
                match head.event_id {
                    Some(id) => tracing::info!(
                        chain,
                        when,
                        position = head.seq,
                        head = %format!("{id}:{}", head.hash),
                        "audit chain head (check with `synapse admin audit verify --expect-head`)"
                    ),
                    None => tracing::info!(chain, when, "audit chain head: the chain is empty"),
                }
            }
        }
        Err(error) => tracing::warn!(%error, when, "cannot read the audit chain head"),
    }
}
