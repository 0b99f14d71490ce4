//! The live event stream (`GET /api/v1/events`) as typed events: `ApiClient::events` opens
//! it, and `EventStream::next` yields each `Event` in order. When the connection drops, goes
//! quiet for longer than a few heartbeats, or the server ends the stream (the access token
//! expired), the stream reconnects by itself with a fresh token and the last id it received
//! as `Last-Event-ID`, so the server replays what came in between: nothing missing, nothing
//! twice. A `reset` event means that was no longer possible: fetch again everything shown.
//!
//! The Server-Sent Events text is read by the small parser below (`SseParser`): the stream is
//! read with reqwest's `chunk`, and the part of the format the server writes (`id`, `event`,
//! `data`, comments) is a few lines, where a crate would add a byte-stream layer.

use std::collections::VecDeque;
use std::time::Duration;

use reqwest::{StatusCode, header};

use super::{ApiClient, ApiError, ErrorKind, decode};
use crate::model::event::Event;

/// Without a byte for this long (the server sends a heartbeat every 15 s), the connection is
/// taken as dropped and made again.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(45);
/// The first wait before reconnecting after a failure; it doubles up to `MAX_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// A stream lasts at most as long as its access token; this only replaces the client's
/// per-request timeout, which would cut every stream after a few seconds.
const STREAM_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// The caller's live events; see the module documentation.
pub struct EventStream {
    client: ApiClient,
    last_event_id: Option<i64>,
    response: Option<reqwest::Response>,
    parser: SseParser,
    idle_timeout: Duration,
    /// Failures since the last byte received, for the backoff.
    failures: u32,
}

impl ApiClient {
    /// The caller's live event stream, resuming after `last_event_id` when given (a position
    /// kept from an earlier stream). Nothing is sent until the first `next`.
    pub fn events(&self, last_event_id: Option<i64>) -> EventStream {
        EventStream {
            client: self.clone(),
            last_event_id,
            response: None,
            parser: SseParser::default(),
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            failures: 0,
        }
    }
}

impl EventStream {
    /// How long a quiet connection is trusted before it is made again.
    pub fn with_idle_timeout(mut self, idle_timeout: Duration) -> EventStream {
        self.idle_timeout = idle_timeout;
        self
    }

    /// The id of the last event received: where a new stream would resume.
    pub fn last_event_id(&self) -> Option<i64> {
        self.last_event_id
    }

    /// Drops the connection (as a network failure would); the next `next` reconnects and
    /// resumes after the last event received.
    pub fn disconnect(&mut self) {
        self.response = None;
        self.parser = SseParser::default();
    }

    /// The next event. An error says why the stream could not be (re)opened: lasting ones
    /// (`SessionEnded`, `Forbidden`) need the user; for passing ones (`is_offline`, 5xx,
    /// `RateLimited`) call `next` again, which waits a little longer each time and reconnects.
    pub async fn next(&mut self) -> Result<Event, ApiError> {
        loop {
            while let Some(message) = self.parser.next_message() {
                if let Some(id) = message.id.as_deref().and_then(|id| id.parse().ok()) {
                    self.last_event_id = Some(id);
                }
                // A kind this client does not know yet (a newer server) is passed over; its id
                // still counts.
                if let Ok(event) = serde_json::from_str::<Event>(&message.data) {
                    return Ok(event);
                }
            }
            if self.response.is_none() {
                if self.failures > 0 {
                    tokio::time::sleep(backoff(self.failures)).await;
                }
                match self.connect().await {
                    Ok(response) => {
                        self.response = Some(response);
                        self.parser = SseParser::default();
                    }
                    Err(error) => {
                        self.failures = self.failures.saturating_add(1);
                        return Err(error);
                    }
                }
            }
            let Some(response) = self.response.as_mut() else {
                continue;
            };
            let read = tokio::time::timeout(self.idle_timeout, response.chunk()).await;
            match read {
                Ok(Ok(Some(bytes))) => {
                    self.failures = 0;
                    self.parser.push(&bytes);
                }
                // The server ended the stream (the token expired, or it shuts down): resume.
                Ok(Ok(None)) => self.disconnect(),
                // Dropped or silent: reconnect after a pause.
                Ok(Err(_)) | Err(_) => {
                    self.disconnect();
                    self.failures = self.failures.saturating_add(1);
                }
            }
        }
    }

    /// Opens the stream: a fresh token, one refresh on `TOKEN_EXPIRED`, and `Last-Event-ID`.
    async fn connect(&self) -> Result<reqwest::Response, ApiError> {
        let mut refreshed = false;
        loop {
            let token = self.client.fresh_access_token().await?;
            let request_id = uuid::Uuid::now_v7().to_string();
            let mut request = self
                .client
                .http
                .get(format!("{}/api/v1/events", self.client.base))
                .header("x-request-id", &request_id)
                .header(header::ACCEPT, "text/event-stream")
                .bearer_auth(&token)
                .timeout(STREAM_TIMEOUT);
            if let Some(id) = self.last_event_id {
                request = request.header("last-event-id", id.to_string());
            }
            let response = request
                .send()
                .await
                .map_err(|e| self.client.send_error(&e, &request_id))?;
            let status = response.status();
            if status == StatusCode::OK {
                let is_stream = response
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("text/event-stream"));
                if !is_stream {
                    return Err(ApiError::protocol(&request_id, status.as_u16()));
                }
                return Ok(response);
            }
            let retry_after = response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            let bytes = response
                .bytes()
                .await
                .map_err(|_| ApiError::unreachable(&request_id))?;
            let error = match decode::<serde_json::Value>(status, &bytes, retry_after, &request_id)
            {
                Err(error) => error,
                Ok(_) => ApiError::protocol(&request_id, status.as_u16()),
            };
            match error.kind {
                ErrorKind::TokenExpired if !refreshed => {
                    refreshed = true;
                    self.client.refresh_after(&token).await?;
                }
                ErrorKind::SessionRevoked => {
                    self.client.forget_session();
                    return Err(ApiError {
                        kind: ErrorKind::SessionEnded,
                        ..error
                    });
                }
                _ => return Err(error),
            }
        }
    }
}

fn backoff(failures: u32) -> Duration {
    let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(8));
    (FIRST_BACKOFF * factor).min(MAX_BACKOFF)
}

/// One message of the stream: its `id` field and its `data` lines joined.
#[derive(Debug, Clone, PartialEq)]
struct Message {
    id: Option<String>,
    data: String,
}

/// Reads Server-Sent Events text as it arrives, in pieces cut anywhere (even inside a UTF-8
/// character): complete lines are read, the rest waits for the next piece.
#[derive(Debug, Default)]
struct SseParser {
    unread: Vec<u8>,
    id: Option<String>,
    data: String,
    messages: VecDeque<Message>,
}

impl SseParser {
    fn push(&mut self, bytes: &[u8]) {
        self.unread.extend_from_slice(bytes);
        while let Some(end) = self.unread.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.unread.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line[..end]);
            self.line(line.strip_suffix('\r').unwrap_or(&line));
        }
    }

    fn line(&mut self, line: &str) {
        if line.is_empty() {
            // A blank line ends a message; one without data is not dispatched.
            let data = std::mem::take(&mut self.data);
            let id = self.id.take();
            if !data.is_empty() {
                let data = data.strip_suffix('\n').unwrap_or(&data).to_string();
                self.messages.push_back(Message { id, data });
            }
            return;
        }
        if line.starts_with(':') {
            return; // a comment: the heartbeat
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
            }
            "id" if !value.contains('\0') => self.id = Some(value.to_string()),
            _ => {}
        }
    }

    fn next_message(&mut self) -> Option<Message> {
        self.messages.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(parser: &mut SseParser) -> Vec<Message> {
        std::iter::from_fn(|| parser.next_message()).collect()
    }

    #[test]
    fn messages_are_read_across_pieces_and_comments_are_skipped() {
        let text = "id: 7\nevent: report.signed\ndata: {\"a\":\"é\"}\n\n: heartbeat\n\nretry: 2000\nid: 8\r\ndata: one\ndata: two\r\n\r\n";
        let bytes = text.as_bytes();
        // Every cut, including inside the two bytes of "é".
        for cut in 0..bytes.len() {
            let mut parser = SseParser::default();
            parser.push(&bytes[..cut]);
            parser.push(&bytes[cut..]);
            assert_eq!(
                all(&mut parser),
                [
                    Message {
                        id: Some("7".into()),
                        data: "{\"a\":\"é\"}".into()
                    },
                    Message {
                        id: Some("8".into()),
                        data: "one\ntwo".into()
                    },
                ],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn a_message_without_its_blank_line_waits() {
        let mut parser = SseParser::default();
        parser.push(b"id: 1\ndata: x\n");
        assert!(parser.next_message().is_none());
        parser.push(b"\n");
        assert_eq!(parser.next_message().unwrap().data, "x");
    }

    #[test]
    fn the_wait_before_reconnecting_grows_and_stops_growing() {
        assert_eq!(backoff(1), FIRST_BACKOFF);
        assert_eq!(backoff(2), FIRST_BACKOFF * 2);
        assert_eq!(backoff(40), MAX_BACKOFF);
    }
}
