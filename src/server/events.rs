//! `GET /api/v1/events`: the caller's live events as Server-Sent Events, and the fan-out that
//! feeds every open stream of this instance.
//!
//! The store writes an event row in the transaction of each change (`store::events`). One
//! reader per instance (`EventHub::start`) wakes after every commit that wrote events (of any
//! instance, on PostgreSQL), reads the rows after the last it saw, and hands each to the open
//! streams of its owner only, through a broadcast channel per doctor. Every stream opens by
//! subscribing to that channel first and then reading its replay (the owner's events after
//! `Last-Event-ID`) and the newest position: what is committed after that read comes through
//! the channel, and what came through the channel too is dropped by id, so a resumed stream
//! misses nothing and repeats nothing. A stream that falls behind its channel reads what it
//! missed from the table again.
//!
//! Doctors only (the events are about their patients); other roles answer 403. A stream ends
//! when its access token expires or its session ends (checked at every heartbeat), so a client
//! reconnects with a fresh token and its `Last-Event-ID`; and when the server shuts down.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, MissedTickBehavior};
use uuid::Uuid;

use super::AppState;
use super::auth::Watcher;
use super::error::ApiError;
use super::extract::NoQuery;
use super::openapi;
use crate::model::auth::Role;
use crate::model::envelope::{ErrorEnvelope, code};
use crate::model::event::{Event, EventKind};
use crate::model::time::now;
use crate::store::events::{EventReplay, OwnedEvent};
use crate::store::{Actor, SessionPolicy, SessionState, SessionUse, Store};

/// The header a client resumes with, as EventSource sends it.
pub const LAST_EVENT_ID: &str = "last-event-id";

/// How the event streams run; `ServerConfig::events`.
#[derive(Debug, Clone)]
pub struct EventSettings {
    /// Between heartbeats (SSE comments) on a stream with nothing to send; also how often a
    /// stream checks that its session is still open.
    pub heartbeat: Duration,
    /// How many of the newest events are kept for streams that resume (`Last-Event-ID`).
    pub replay_keep: u64,
    /// Streams one user may have open on one instance.
    pub streams_per_user: usize,
    /// How often the reader reads the table without being woken, in case a wake-up was lost.
    pub poll_every: Duration,
    /// How often the oldest events are pruned.
    pub prune_every: Duration,
}

impl Default for EventSettings {
    fn default() -> Self {
        EventSettings {
            heartbeat: Duration::from_secs(15),
            replay_keep: 10_000,
            streams_per_user: 8,
            poll_every: Duration::from_secs(5),
            prune_every: Duration::from_secs(60),
        }
    }
}

/// Events the reader reads at once.
const BATCH: u32 = 500;
/// Events a doctor's channel holds for a stream that is slow to take them; past that the
/// stream reads what it missed from the table.
const CHANNEL_CAPACITY: usize = 256;
/// What a browser's EventSource waits before reconnecting.
const RECONNECT_AFTER: Duration = Duration::from_secs(2);

/// The open streams of this instance, by doctor, and the reader that feeds them.
#[derive(Clone)]
pub struct EventHub {
    inner: Arc<HubInner>,
}

struct HubInner {
    channels: Mutex<Channels>,
    settings: EventSettings,
}

#[derive(Default)]
struct Channels {
    by_owner: HashMap<Uuid, broadcast::Sender<Arc<Event>>>,
    /// Set at shutdown: every channel is gone, so every stream ends, and none opens.
    closed: bool,
}

/// A stream's place in its owner's channel; leaving it (the stream ends) frees the place.
struct Subscription {
    // Declared first, so it is dropped before `_place` counts the receivers left.
    receiver: broadcast::Receiver<Arc<Event>>,
    _place: Place,
}

struct Place {
    hub: Arc<HubInner>,
    owner: Uuid,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut channels = self.hub.channels();
        if channels
            .by_owner
            .get(&self.owner)
            .is_some_and(|sender| sender.receiver_count() == 0)
        {
            channels.by_owner.remove(&self.owner);
        }
    }
}

impl HubInner {
    fn channels(&self) -> MutexGuard<'_, Channels> {
        // A panic while holding the lock leaves the map as it was: still usable.
        self.channels.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn deliver(&self, owned: OwnedEvent) {
        let channels = self.channels();
        if let Some(sender) = channels.by_owner.get(&owned.owner_id) {
            // No receiver left is fine: the stream just ended.
            let _ = sender.send(Arc::new(owned.event));
        }
    }
}

/// Why a stream could not open.
enum Refused {
    TooMany,
    ShuttingDown,
}

impl EventHub {
    /// Starts the reader on the current runtime.
    pub fn start(store: Arc<dyn Store>, settings: EventSettings) -> EventHub {
        let hub = EventHub {
            inner: Arc::new(HubInner {
                channels: Mutex::new(Channels::default()),
                settings,
            }),
        };
        tokio::spawn(read_events(store, hub.inner.clone()));
        hub
    }

    fn open(&self, owner: Uuid) -> Result<Subscription, Refused> {
        let mut channels = self.inner.channels();
        if channels.closed {
            return Err(Refused::ShuttingDown);
        }
        let sender = channels
            .by_owner
            .entry(owner)
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0);
        if sender.receiver_count() >= self.inner.settings.streams_per_user {
            return Err(Refused::TooMany);
        }
        Ok(Subscription {
            receiver: sender.subscribe(),
            _place: Place {
                hub: self.inner.clone(),
                owner,
            },
        })
    }

    /// Ends every stream and refuses new ones (the server is shutting down; open streams
    /// would otherwise keep it waiting).
    pub fn close(&self) {
        let mut channels = self.inner.channels();
        channels.closed = true;
        channels.by_owner.clear();
    }

    /// How many streams are open on this instance.
    pub fn open_streams(&self) -> usize {
        self.inner
            .channels()
            .by_owner
            .values()
            .map(broadcast::Sender::receiver_count)
            .sum()
    }
}

/// The reader: after each wake-up (or `poll_every`), every event after the last one read goes
/// to its owner's channel. Prunes the oldest events now and then.
async fn read_events(store: Arc<dyn Store>, hub: Arc<HubInner>) {
    let settings = hub.settings.clone();
    let mut signal = store.event_signal();
    // From the oldest event kept, not the newest: a stream may open before this first read,
    // and what it already replayed is dropped by id. The first tick reads at once.
    let mut position = 0;
    let mut poll = tokio::time::interval(settings.poll_every);
    poll.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut pruned_at = Instant::now();
    loop {
        tokio::select! {
            changed = signal.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            _ = poll.tick() => {}
        }
        if hub.channels().closed {
            return;
        }
        loop {
            match store.events_after(position, BATCH).await {
                Ok(batch) => {
                    let full = batch.len() == BATCH as usize;
                    for owned in batch {
                        position = owned.event.id;
                        hub.deliver(owned);
                    }
                    if !full {
                        break;
                    }
                }
                Err(error) => {
                    // The next wake-up or poll reads them.
                    tracing::warn!(error = %error, "could not read the live events");
                    break;
                }
            }
        }
        if pruned_at.elapsed() >= settings.prune_every {
            pruned_at = Instant::now();
            if let Err(error) = store.prune_events(settings.replay_keep, position).await {
                tracing::warn!(error = %error, "could not prune the live events");
            }
        }
    }
}

/// Reads `Last-Event-ID`: absent or empty is a new stream; otherwise the id of an event.
fn last_event_id(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get(LAST_EVENT_ID) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("-").trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<i64>() {
        Ok(id) if id >= 0 => Ok(Some(id)),
        _ => Err(ApiError::field(
            "Last-Event-ID",
            "must be the id of an event this server sent (a whole number); leave it out to start afresh",
        )),
    }
}

/// The caller's live events
///
/// A stream of Server-Sent Events (`text/event-stream`) that stays open. Each message has
/// `id` (the position), `event` (the kind) and `data` (the `Event` as JSON: ids, kind,
/// time and the report's status, never patient data). It starts with a `ready` event whose
/// id is the position the stream starts from. To resume after a dropped connection, send the
/// last id received as `Last-Event-ID`: the events after it are replayed first, none missing
/// and none twice; when they are no longer kept (only the newest are), a `reset` event comes
/// instead, and the client must fetch again everything it shows. A comment line (`: heartbeat`)
/// comes every 15 s on a quiet stream. The stream ends when the access token expires or the
/// session ends: reconnect with a fresh token. A doctor gets only events about their own
/// patients, consultations and reports, from every server instance; opening a stream is
/// audited like a read. At most 8 streams per user and instance (429 past that).
///
/// Roles: doctor.
#[utoipa::path(
    get,
    path = "/api/v1/events",
    tag = "events",
    operation_id = "streamEvents",
    security(("bearer" = [])),
    params(
        ("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received, to resume after it."),
    ),
    responses(
        (status = 200, description = "The stream: `id:`, `event:` (an `EventKind`) and `data:` (an `Event` as JSON) per message; `: heartbeat` comments between.", body = String, content_type = "text/event-stream"),
        (status = 429, description = openapi::errors("Too many streams open for this user", &[code::RATE_LIMITED]), body = ErrorEnvelope),
    ),
)]
pub async fn stream(
    State(app): State<AppState>,
    Watcher(caller): Watcher,
    _: NoQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let actor = caller.permit(&app, &[Role::Doctor]).await?;
    let last_event_id = last_event_id(&headers)?;
    let settings = &app.config.events;
    // Into the channel before reading the replay: nothing committed after the read is missed.
    let subscription = app
        .events
        .open(actor.user_id)
        .map_err(|refused| match refused {
            Refused::TooMany => {
                let wait = settings.heartbeat.as_secs().max(1);
                let mut error = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    code::RATE_LIMITED,
                    format!(
                        "This account already has {} live event streams open on this server. Close \
                     one (another workstation?), or retry in a moment: a dropped one is noticed \
                     within {wait} s.",
                        settings.streams_per_user
                    ),
                )
                .with_details(json!({ "retry_after_s": wait }));
                error.retry_after = Some(wait);
                error
            }
            Refused::ShuttingDown => ApiError::from_status(StatusCode::SERVICE_UNAVAILABLE),
        })?;
    let replay = app.store.subscribe_events(&actor, last_event_id).await?;

    let remaining = (caller.expires_at - chrono::Utc::now().timestamp()).max(0);
    let mut session_check =
        tokio::time::interval_at(Instant::now() + settings.heartbeat, settings.heartbeat);
    session_check.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut streaming = Streaming {
        store: app.store.clone(),
        actor,
        session_id: caller.session_id,
        policy: app.config.sessions,
        subscription,
        pending: VecDeque::new(),
        sent: 0,
        ends_at: Instant::now() + Duration::from_secs(remaining as u64),
        session_check,
        closing: false,
    };
    streaming.start(replay);
    let messages = futures_util::stream::unfold(streaming, next_message);
    let keep_alive = KeepAlive::new()
        .interval(settings.heartbeat)
        .text("heartbeat");
    let mut response = Sse::new(messages).keep_alive(keep_alive).into_response();
    // Proxies that buffer answers (nginx) would hold events back.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// One open stream.
struct Streaming {
    store: Arc<dyn Store>,
    actor: Actor,
    session_id: Uuid,
    policy: SessionPolicy,
    subscription: Subscription,
    /// Events to send, in order.
    pending: VecDeque<Event>,
    /// The highest position queued so far: what the channel brings at or below it was replayed.
    sent: i64,
    ends_at: Instant,
    session_check: tokio::time::Interval,
    /// The goodbye of a shutdown has been sent.
    closing: bool,
}

/// The last message of every stream when the server shuts down: a comment saying so and the
/// time to wait before reconnecting (with `Last-Event-ID`, to another instance or this one
/// restarted), so clients come back rather than give up.
fn shutting_down() -> SseEvent {
    SseEvent::default()
        .comment("the server is shutting down; reconnect")
        .retry(RECONNECT_AFTER)
}

/// Queues a stream's replay and the `ready` (or `reset`) that gives it its position; what the
/// channel brings at or below that position was replayed.
fn queue_start(pending: &mut VecDeque<Event>, sent: &mut i64, replay: EventReplay) {
    let opened = if replay.reset {
        EventKind::Reset
    } else {
        pending.extend(replay.events);
        EventKind::Ready
    };
    pending.push_back(Event::about_stream(opened, replay.position, now()));
    *sent = replay.position;
}

impl Streaming {
    fn start(&mut self, replay: EventReplay) {
        queue_start(&mut self.pending, &mut self.sent, replay);
    }

    /// After the stream fell behind its channel: what it missed, from the table.
    fn caught_up(&mut self, replay: EventReplay) {
        if replay.reset {
            self.pending.push_back(Event::about_stream(
                EventKind::Reset,
                replay.position,
                now(),
            ));
        } else {
            self.pending.extend(replay.events);
        }
        self.sent = self.sent.max(replay.position);
    }
}

fn message(event: &Event) -> SseEvent {
    let message = SseEvent::default()
        .id(event.id.to_string())
        .event(event.kind.as_str())
        .data(serde_json::to_string(event).unwrap_or_default());
    match event.kind {
        EventKind::Ready | EventKind::Reset => message.retry(RECONNECT_AFTER),
        _ => message,
    }
}

/// The next message of a stream, or `None` when it ends.
async fn next_message(mut s: Streaming) -> Option<(Result<SseEvent, Infallible>, Streaming)> {
    loop {
        if let Some(event) = s.pending.pop_front() {
            return Some((Ok(message(&event)), s));
        }
        tokio::select! {
            _ = tokio::time::sleep_until(s.ends_at) => return None,
            _ = s.session_check.tick() => {
                match s.store.session_state(s.session_id, s.actor.user_id, s.policy, SessionUse::Watch).await {
                    Ok(SessionState::Active { .. }) => {}
                    Ok(SessionState::Revoked | SessionState::Disabled | SessionState::Expired) => return None,
                    // The database may come back; the client keeps its stream meanwhile.
                    Err(error) => tracing::warn!(error = %error, "could not check an event stream's session"),
                }
            }
            received = s.subscription.receiver.recv() => match received {
                Ok(event) => {
                    if event.id > s.sent {
                        s.sent = event.id;
                        s.pending.push_back((*event).clone());
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    match s.store.catch_up_events(&s.actor, s.sent).await {
                        Ok(replay) => s.caught_up(replay),
                        // Ending lets the client resume from what it has, on a fresh stream.
                        Err(error) => {
                            tracing::warn!(error = %error, "an event stream could not catch up");
                            return None;
                        }
                    }
                }
                // The server is shutting down: say so, and when to come back, before the
                // stream ends (the next call finds nothing more and ends it).
                Err(RecvError::Closed) if !s.closing => {
                    s.closing = true;
                    return Some((Ok(shutting_down()), s));
                }
                Err(RecvError::Closed) => return None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub(streams_per_user: usize) -> EventHub {
        EventHub {
            inner: Arc::new(HubInner {
                channels: Mutex::new(Channels::default()),
                settings: EventSettings {
                    streams_per_user,
                    ..EventSettings::default()
                },
            }),
        }
    }

    fn owned(owner_id: Uuid, id: i64) -> OwnedEvent {
        OwnedEvent {
            owner_id,
            event: Event::about_stream(EventKind::PatientUpdated, id, now()),
        }
    }

    #[test]
    fn events_reach_their_owners_streams_only() {
        let hub = hub(2);
        let (doctor, other) = (Uuid::now_v7(), Uuid::now_v7());
        let mut first = hub.open(doctor).ok().unwrap();
        let mut second = hub.open(doctor).ok().unwrap();
        let mut theirs = hub.open(other).ok().unwrap();
        hub.inner.deliver(owned(doctor, 1));
        hub.inner.deliver(owned(Uuid::now_v7(), 2));
        assert_eq!(first.receiver.try_recv().unwrap().id, 1);
        assert_eq!(second.receiver.try_recv().unwrap().id, 1);
        assert!(first.receiver.try_recv().is_err());
        assert!(theirs.receiver.try_recv().is_err());
        assert_eq!(hub.open_streams(), 3);
    }

    #[test]
    fn streams_per_user_are_bounded_and_places_come_free() {
        let hub = hub(2);
        let doctor = Uuid::now_v7();
        let first = hub.open(doctor).ok().unwrap();
        let second = hub.open(doctor).ok().unwrap();
        assert!(matches!(hub.open(doctor), Err(Refused::TooMany)));
        drop(first);
        let third = hub.open(doctor).ok().unwrap();
        drop(third);
        drop(second);
        // The last stream of a doctor takes the channel with it.
        assert!(hub.inner.channels().by_owner.is_empty());
    }

    #[test]
    fn closing_ends_every_stream_and_refuses_new_ones() {
        let hub = hub(2);
        let mut open = hub.open(Uuid::now_v7()).ok().unwrap();
        hub.close();
        assert!(matches!(
            open.receiver.try_recv(),
            Err(broadcast::error::TryRecvError::Closed)
        ));
        assert!(matches!(
            hub.open(Uuid::now_v7()),
            Err(Refused::ShuttingDown)
        ));
    }

    #[test]
    fn a_stream_starts_with_its_replay_and_drops_what_it_replayed() {
        let at = now();
        let replayed = Event::about_stream(EventKind::PatientUpdated, 5, at);
        let replay = EventReplay {
            events: vec![replayed.clone()],
            position: 7,
            reset: false,
        };
        let mut pending = VecDeque::new();
        let mut sent = 0;
        queue_start(&mut pending, &mut sent, replay);
        assert_eq!(sent, 7);
        assert_eq!(pending[0], replayed);
        assert_eq!((pending[1].kind, pending[1].id), (EventKind::Ready, 7));

        let mut pending = VecDeque::new();
        queue_start(
            &mut pending,
            &mut sent,
            EventReplay {
                events: Vec::new(),
                position: 9,
                reset: true,
            },
        );
        assert_eq!(pending.len(), 1);
        assert_eq!((pending[0].kind, pending[0].id), (EventKind::Reset, 9));
    }

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(LAST_EVENT_ID, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn last_event_id_is_a_position_or_nothing() {
        assert_eq!(last_event_id(&HeaderMap::new()).unwrap(), None);
        assert_eq!(last_event_id(&headers("")).unwrap(), None);
        assert_eq!(last_event_id(&headers(" 42 ")).unwrap(), Some(42));
        for bad in ["-1", "x", "1.5", "99999999999999999999"] {
            let error = last_event_id(&headers(bad)).unwrap_err();
            assert_eq!(error.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
            assert!(error.message.contains("Last-Event-ID"), "{bad}");
        }
    }
}
