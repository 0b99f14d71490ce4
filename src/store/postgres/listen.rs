//! The listener that wakes this instance's event reader: `LISTEN` on the events channel
//! (`store::events::CHANNEL`), which every commit with events notifies from any instance.
//! Notifications sent while the listening connection is down are lost, so every (re)connect
//! also wakes the reader, which then reads whatever it missed from the table.

use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};

use crate::store::events::{CHANNEL, EventSignal};

/// How long to wait before connecting again after the listener could not connect.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// Listens until no reader is left (the server shut down), reconnecting as needed.
pub async fn listen_for_events(pool: PgPool, signal: EventSignal) {
    while !signal.is_unwatched() {
        match listen_once(&pool, &signal).await {
            Ok(()) => {}
            Err(error) => {
                tracing::warn!(error = %error, "the live events listener lost its connection; reconnecting")
            }
        }
        tokio::time::sleep(RECONNECT_AFTER).await;
    }
}

async fn listen_once(pool: &PgPool, signal: &EventSignal) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    signal.notify();
    while !signal.is_unwatched() {
        // `None`: the connection was lost and made again; what was sent meanwhile is lost.
        listener.try_recv().await?;
        signal.notify();
    }
    Ok(())
}
