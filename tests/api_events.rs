//! Live events (`GET /api/v1/events`) against the real server, on SQLite or (with
//! `SYNAPSE_TEST_ENGINE=postgres`) PostgreSQL: every change to a doctor's records reaches that
//! doctor's stream and no other doctor's; a dropped connection resumes with `Last-Event-ID`
//! without loss or duplicates (through the typed client and on the wire); heartbeats on a quiet
//! stream; a position too old answers `reset`; streams per user are bounded; a stream ends with
//! its session; opening one is audited; and on PostgreSQL an event written through one server
//! instance reaches a stream open on another.

mod common;

use std::time::Duration;

use common::{PASSWORD, Session, TestServer, test_config};
use reqwest::StatusCode;
use serde_json::{Value, json};
use synapse::client::{ApiClient, ClientConfig, EventStream};
use synapse::model::auth::Role;
use synapse::model::event::{Event, EventKind};
use synapse::model::report::ReportStatus;
use synapse::server::ServerConfig;
use uuid::Uuid;

const NOTES: &str = "History: low mood for 3 weeks\n\
Assessment: moderate depressive episode\n\
Plan: review in 2 weeks";

/// How long any one event may take to arrive before a test fails.
const WAIT: Duration = Duration::from_secs(10);

fn quick_config() -> ServerConfig {
    let mut config = test_config();
    config.events.heartbeat = Duration::from_millis(200);
    config
}

/// A doctor logged in on a typed client of their own.
async fn doctor_client(server: &TestServer, email: &str) -> ApiClient {
    server.user(email, Role::Doctor).await;
    let client = ApiClient::new(&ClientConfig::new(&server.base)).expect("a client");
    client.login(email, PASSWORD).await.expect("login");
    client
}

async fn next(stream: &mut EventStream) -> Event {
    tokio::time::timeout(WAIT, stream.next())
        .await
        .expect("an event within 10 s")
        .expect("the stream goes on")
}

/// The next events until (and with) the first of `kind`.
async fn until(stream: &mut EventStream, kind: EventKind) -> Vec<Event> {
    let mut seen = Vec::new();
    loop {
        let event = next(stream).await;
        let done = event.kind == kind;
        seen.push(event);
        if done {
            return seen;
        }
    }
}

fn kinds(events: &[Event]) -> Vec<EventKind> {
    events.iter().map(|e| e.kind).collect()
}

fn uuid(value: &Value) -> Uuid {
    value.as_str().and_then(|s| s.parse().ok()).expect("an id")
}

/// One message as it came over the wire.
#[derive(Debug, Default)]
struct Wire {
    id: Option<String>,
    event: Option<String>,
    data: Option<Value>,
    comment: Option<String>,
}

/// A stream read as text, for what the typed client hides (headers, comments, ids).
struct Raw {
    response: reqwest::Response,
    unread: String,
}

impl Raw {
    async fn open(server: &TestServer, session: &Session, last_event_id: Option<&str>) -> Raw {
        let response = Self::request(server, session, last_event_id).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        assert!(response.headers().contains_key("x-request-id"));
        Raw {
            response,
            unread: String::new(),
        }
    }

    async fn request(
        server: &TestServer,
        session: &Session,
        last_event_id: Option<&str>,
    ) -> reqwest::Response {
        let mut request = server
            .http
            .get(format!("{}/api/v1/events", server.base))
            .bearer_auth(&session.access_token);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        request.send().await.expect("request sent")
    }

    /// The next message or comment; `None` when the server ended the stream.
    async fn next(&mut self) -> Option<Wire> {
        loop {
            if let Some(end) = self.unread.find("\n\n") {
                let block: String = self.unread.drain(..end + 2).collect();
                let mut wire = Wire::default();
                for line in block.lines().filter(|line| !line.is_empty()) {
                    let (field, value) = line.split_once(": ").unwrap_or((line, ""));
                    match field {
                        "" => wire.comment = Some(value.to_string()),
                        "id" => wire.id = Some(value.to_string()),
                        "event" => wire.event = Some(value.to_string()),
                        "data" => wire.data = Some(serde_json::from_str(value).expect("JSON")),
                        "retry" => {}
                        other => panic!("unexpected field {other:?} in {block:?}"),
                    }
                }
                return Some(wire);
            }
            match tokio::time::timeout(WAIT, self.response.chunk()).await {
                Ok(Ok(Some(bytes))) => self.unread.push_str(std::str::from_utf8(&bytes).unwrap()),
                Ok(Ok(None)) | Ok(Err(_)) => return None,
                Err(_) => panic!("nothing on the stream within 10 s"),
            }
        }
    }

    /// The next message that is not a comment.
    /// The next message that is not a comment, within `WAIT` however many heartbeats come
    /// meanwhile (they would otherwise keep a missing event waited for forever).
    async fn next_event(&mut self) -> Wire {
        let waited = async {
            loop {
                let wire = self.next().await.expect("the stream goes on");
                if wire.comment.is_none() {
                    return wire;
                }
            }
        };
        tokio::time::timeout(WAIT, waited)
            .await
            .expect("an event within 10 s (only heartbeats came)")
    }
}

#[tokio::test]
async fn a_doctor_hears_of_every_change_to_their_records_and_nothing_of_anothers() {
    let server = TestServer::start().await;
    let doctor = doctor_client(&server, "doc@clinic.test").await;
    let other = doctor_client(&server, "other@clinic.test").await;
    let mut mine = doctor.events(None);
    let mut theirs = other.events(None);
    let ready = next(&mut mine).await;
    assert_eq!(ready.kind, EventKind::Ready);
    assert_eq!(next(&mut theirs).await.kind, EventKind::Ready);

    // A whole day's work on one patient, through the API (and the generation worker).
    let session = server.login("doc@clinic.test", PASSWORD).await;
    let patient = server.patient(&session, "Anna Smith").await;
    server
        .patch(
            &format!("/api/v1/patients/{patient}"),
            &session,
            json!({"phone": "+44 20 7946 0000"}),
        )
        .await
        .expect(200);
    let started = server
        .post(
            "/api/v1/consultation/start",
            &session,
            json!({"patient_id": patient, "session_type": "follow_up"}),
        )
        .await;
    started.expect(201);
    let consultation = started.data()["id"].as_str().unwrap().to_string();
    server
        .patch(
            &format!("/api/v1/consultation/{consultation}"),
            &session,
            json!({"notes": NOTES}),
        )
        .await
        .expect(200);
    let stopped = server
        .post(
            &format!("/api/v1/consultation/{consultation}/stop"),
            &session,
            json!({}),
        )
        .await;
    stopped.expect(200);
    let report_id = stopped.data()["report_id"].as_str().unwrap().to_string();
    let report = server.wait_for_report(&session, &report_id).await;
    server
        .patch(
            &format!("/api/v1/reports/{report_id}"),
            &session,
            json!({"version": report["version"], "content": {"history": "Low mood, three weeks"}}),
        )
        .await
        .expect(200);
    server
        .post(
            &format!("/api/v1/reports/{report_id}/sign"),
            &session,
            json!({"password": PASSWORD, "version": report["version"].as_u64().unwrap() + 1}),
        )
        .await
        .expect(200);
    server
        .post(
            &format!("/api/v1/reports/{report_id}/addenda"),
            &session,
            json!({"text": "Phoned: sleeping better."}),
        )
        .await
        .expect(200);
    let second = server
        .post(
            "/api/v1/consultation/start",
            &session,
            json!({"patient_id": patient, "session_type": "follow_up"}),
        )
        .await;
    second.expect(201);
    let second = second.data()["id"].as_str().unwrap().to_string();
    server
        .post(
            &format!("/api/v1/consultation/{second}/cancel"),
            &session,
            json!({"reason": "Patient left early"}),
        )
        .await
        .expect(200);

    let events = until(&mut mine, EventKind::ConsultationCancelled).await;
    use EventKind as K;
    assert_eq!(
        kinds(&events),
        [
            K::PatientCreated,
            K::PatientUpdated,
            K::ConsultationStarted,
            K::ConsultationNotesSaved,
            K::ConsultationStopped,
            K::ReportCreated,
            K::ReportStatusChanged,
            K::ReportStatusChanged,
            K::ReportUpdated,
            K::ReportSigned,
            K::ReportUpdated,
            K::ConsultationStarted,
            K::ConsultationCancelled,
        ]
    );
    let patient = patient.parse::<Uuid>().unwrap();
    let report_id = report_id.parse::<Uuid>().unwrap();
    let consultation = consultation.parse::<Uuid>().unwrap();
    assert!(events.iter().all(|e| e.patient_id == Some(patient)));
    assert!(
        events.windows(2).all(|w| w[0].id < w[1].id),
        "ids increase: {events:?}"
    );
    assert!(events[0].id > ready.id);
    assert_eq!(events[2].consultation_id, Some(consultation));
    assert_eq!(events[5].report_id, Some(report_id));
    assert_eq!(
        events[5..11]
            .iter()
            .map(|e| e.report_status)
            .collect::<Vec<_>>(),
        [
            ReportStatus::Pending,
            ReportStatus::Generating,
            ReportStatus::Completed,
            ReportStatus::Completed,
            ReportStatus::Signed,
            ReportStatus::Signed,
        ]
        .map(Some)
    );
    // Events carry ids and statuses only: nothing of the patient's data.
    let text = serde_json::to_string(&events).unwrap();
    for private in ["Anna", "Smith", "+44", "low mood", "Phoned"] {
        assert!(!text.contains(private), "{private} in {text}");
    }

    // The other doctor's own change arrives, after none of the first doctor's.
    let own = server.login("other@clinic.test", PASSWORD).await;
    let own_patient = server.patient(&own, "Ben Jones").await;
    let received = next(&mut theirs).await;
    assert_eq!(received.kind, EventKind::PatientCreated);
    assert_eq!(received.patient_id, Some(own_patient.parse().unwrap()));
    assert!(received.id > events.last().unwrap().id);

    // A receptionist registering a patient for the doctor: the doctor hears of it.
    let receptionist = server
        .login_new("rec@clinic.test", Role::Receptionist)
        .await;
    let doctor_id = doctor.user().unwrap().id;
    let reply = server
        .post(
            "/api/v1/patients",
            &receptionist,
            json!({"full_name": "Cara Diaz", "date_of_birth": "1990-01-02", "sex": "female",
                   "doctor_id": doctor_id}),
        )
        .await;
    reply.expect(201);
    let registered = next(&mut mine).await;
    assert_eq!(registered.kind, EventKind::PatientCreated);
    assert_eq!(registered.patient_id, Some(uuid(&reply.data()["id"])));

    // Opening a stream is audited like a read: one row per stream opened.
    let audited = server
        .sql_count(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'events.subscribe' \
             AND CAST(user_id AS TEXT) = $1 AND outcome = 'success'",
            &[&doctor_id.to_string()],
        )
        .await;
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn a_dropped_connection_resumes_without_loss_or_duplicates() {
    let server = TestServer::start().await;
    let doctor = doctor_client(&server, "doc@clinic.test").await;
    let session = server.login("doc@clinic.test", PASSWORD).await;
    let mut stream = doctor.events(None);
    assert_eq!(next(&mut stream).await.kind, EventKind::Ready);

    let patient = server.patient(&session, "Anna Smith").await;
    let edit = |n: u32| {
        let path = format!("/api/v1/patients/{patient}");
        let session = session.clone();
        let server = &server;
        async move {
            server
                .patch(
                    &path,
                    &session,
                    json!({"phone": format!("+44 20 7946 {n:04}")}),
                )
                .await
                .expect(200);
        }
    };
    edit(1).await;
    let created = next(&mut stream).await;
    assert_eq!(created.kind, EventKind::PatientCreated);
    // The update may already sit in the connection's buffer: dropping it loses it here.
    stream.disconnect();
    for n in 2..=4 {
        edit(n).await;
    }

    // Reconnected with the last id received: the four updates once each, then `ready`.
    let resumed = until(&mut stream, EventKind::Ready).await;
    assert_eq!(
        kinds(&resumed),
        [
            EventKind::PatientUpdated,
            EventKind::PatientUpdated,
            EventKind::PatientUpdated,
            EventKind::PatientUpdated,
            EventKind::Ready,
        ],
        "{resumed:?}"
    );
    assert!(resumed[0].id > created.id);
    assert!(resumed[..4].windows(2).all(|w| w[0].id < w[1].id));
    // `ready` is at the position of the last event replayed.
    assert_eq!(resumed[4].id, resumed[3].id);
    assert_eq!(stream.last_event_id(), Some(resumed[4].id));
    // And live again after the replay.
    edit(5).await;
    let live = next(&mut stream).await;
    assert_eq!(live.kind, EventKind::PatientUpdated);
    assert!(live.id > resumed[4].id);

    // On the wire: `Last-Event-ID` replays what came after it, each message with its id and
    // kind, and `ready` carries the position to resume from.
    let mut raw = Raw::open(&server, &session, Some(&created.id.to_string())).await;
    let mut replayed = Vec::new();
    loop {
        let wire = raw.next_event().await;
        let data = wire.data.expect("data");
        assert_eq!(wire.id.as_deref(), Some(data["id"].to_string().as_str()));
        assert_eq!(wire.event.as_deref(), data["kind"].as_str());
        if data["kind"] == "ready" {
            assert_eq!(data["id"], json!(live.id));
            break;
        }
        replayed.push(data["id"].as_i64().unwrap());
    }
    let expected: Vec<i64> = resumed[..4].iter().map(|e| e.id).chain([live.id]).collect();
    assert_eq!(replayed, expected);
}

#[tokio::test]
async fn a_quiet_stream_gets_heartbeats() {
    let server = TestServer::start_with(quick_config()).await;
    let session = server.login_new("doc@clinic.test", Role::Doctor).await;
    let mut raw = Raw::open(&server, &session, None).await;
    let ready = raw.next().await.unwrap();
    assert_eq!(ready.event.as_deref(), Some("ready"));
    let started = std::time::Instant::now();
    let heartbeat = raw.next().await.unwrap();
    assert_eq!(
        heartbeat.comment.as_deref(),
        Some("heartbeat"),
        "{heartbeat:?}"
    );
    assert!(heartbeat.event.is_none() && heartbeat.id.is_none());
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_position_no_longer_kept_answers_reset_and_a_bad_one_is_refused() {
    let mut config = quick_config();
    config.events.replay_keep = 3;
    config.events.prune_every = Duration::ZERO;
    let server = TestServer::start_with(config).await;
    let session = server.login_new("doc@clinic.test", Role::Doctor).await;
    let mut raw = Raw::open(&server, &session, None).await;
    assert_eq!(raw.next_event().await.event.as_deref(), Some("ready"));
    let patient = server.patient(&session, "Anna Smith").await;
    let first = raw.next_event().await.id.unwrap();
    for n in 0..6 {
        server
            .patch(
                &format!("/api/v1/patients/{patient}"),
                &session,
                json!({"phone": format!("+44 20 7946 {n:04}")}),
            )
            .await
            .expect(200);
    }
    let mut newest = first.clone();
    for _ in 0..6 {
        newest = raw.next_event().await.id.unwrap();
    }
    // The reader prunes after it has read (here: after every read).
    let pruned = async {
        while server.sql_count("SELECT COUNT(*) FROM events", &[]).await > 3 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(WAIT, pruned)
        .await
        .expect("pruned to the newest three");

    // Resuming from the first event: the ones after it are gone, so `reset` at the newest.
    let mut resumed = Raw::open(&server, &session, Some(&first)).await;
    let reset = resumed.next_event().await;
    assert_eq!(reset.event.as_deref(), Some("reset"));
    assert_eq!(reset.id.as_deref(), Some(newest.as_str()));
    // Resuming from a kept position still replays.
    let kept = (newest.parse::<i64>().unwrap() - 2).to_string();
    let mut replay = Raw::open(&server, &session, Some(&kept)).await;
    assert_eq!(
        replay.next_event().await.event.as_deref(),
        Some("patient.updated")
    );
    assert_eq!(
        replay.next_event().await.event.as_deref(),
        Some("patient.updated")
    );
    assert_eq!(replay.next_event().await.event.as_deref(), Some("ready"));
    // A position this database never gave: reset too.
    let mut ahead = Raw::open(&server, &session, Some("999999999")).await;
    assert_eq!(ahead.next_event().await.event.as_deref(), Some("reset"));

    // Not a position at all: 422 naming the header.
    for bad in ["abc", "-5"] {
        let reply = Raw::request(&server, &session, Some(bad)).await;
        assert_eq!(reply.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = reply.json().await.unwrap();
        assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
        assert_eq!(
            body["error"]["details"]["fields"][0]["field"],
            "Last-Event-ID"
        );
    }
}

#[tokio::test]
async fn streams_per_user_are_bounded_and_a_closed_one_frees_its_place() {
    let mut config = quick_config();
    config.events.streams_per_user = 2;
    let server = TestServer::start_with(config).await;
    let session = server.login_new("doc@clinic.test", Role::Doctor).await;
    let other = server.login_new("other@clinic.test", Role::Doctor).await;
    let first = Raw::open(&server, &session, None).await;
    let _second = Raw::open(&server, &session, None).await;
    let refused = Raw::request(&server, &session, None).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "RATE_LIMITED");
    // Another doctor is not affected.
    let _theirs = Raw::open(&server, &other, None).await;

    // Closing one frees its place once the server notices (at the next heartbeat at most).
    drop(first);
    let reopened = async {
        loop {
            let reply = Raw::request(&server, &session, None).await;
            if reply.status() == StatusCode::OK {
                return;
            }
            assert_eq!(reply.status(), StatusCode::TOO_MANY_REQUESTS);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(WAIT, reopened)
        .await
        .expect("a place freed");
}

#[tokio::test]
async fn a_stream_ends_with_its_session_and_other_roles_are_refused() {
    let server = TestServer::start_with(quick_config()).await;
    let session = server.login_new("doc@clinic.test", Role::Doctor).await;
    let mut raw = Raw::open(&server, &session, None).await;
    assert_eq!(raw.next().await.unwrap().event.as_deref(), Some("ready"));
    server
        .post("/api/v1/auth/logout", &session, json!({}))
        .await
        .expect(200);
    let ended = async { while raw.next().await.is_some() {} };
    tokio::time::timeout(WAIT, ended)
        .await
        .expect("the stream ends after logout");

    for role in [Role::Admin, Role::Receptionist] {
        let session = server
            .login_new(&format!("{}@clinic.test", role.as_str()), role)
            .await;
        let refused = Raw::request(&server, &session, None).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn an_event_written_through_one_instance_reaches_a_stream_on_another() {
    let Some(url) = common::postgres_url() else {
        eprintln!("skipped: {} is not set", common::POSTGRES_URL_VAR);
        return;
    };
    let a = TestServer::start_postgres_on(&url, test_config()).await;
    let b = a.start_beside(test_config()).await;
    let session = a.login_new("doc@clinic.test", Role::Doctor).await;
    let other = a.login_new("other@clinic.test", Role::Doctor).await;
    let on_b = ApiClient::new(&ClientConfig::new(&b.base)).expect("a client");
    on_b.login("doc@clinic.test", PASSWORD)
        .await
        .expect("login");
    let mut stream = on_b.events(None);
    assert_eq!(next(&mut stream).await.kind, EventKind::Ready);
    let mut theirs = Raw::open(&b, &other, None).await;
    assert_eq!(theirs.next_event().await.event.as_deref(), Some("ready"));

    // Written through A, received on B, in order.
    let patient = a.patient(&session, "Anna Smith").await;
    a.patch(
        &format!("/api/v1/patients/{patient}"),
        &session,
        json!({"phone": "+44 20 7946 0000"}),
    )
    .await
    .expect(200);
    let created = next(&mut stream).await;
    assert_eq!(created.kind, EventKind::PatientCreated);
    assert_eq!(created.patient_id, Some(patient.parse().unwrap()));
    assert_eq!(next(&mut stream).await.kind, EventKind::PatientUpdated);

    // Written through B, received there too; the other doctor on B got none of it.
    let own = b.patient(&other, "Ben Jones").await;
    let wire = theirs.next_event().await;
    assert_eq!(wire.event.as_deref(), Some("patient.created"));
    assert_eq!(wire.data.unwrap()["patient_id"], json!(own));

    // Resuming on A from what B delivered: the same ids on every instance.
    stream.disconnect();
    a.patch(
        &format!("/api/v1/patients/{patient}"),
        &session,
        json!({"phone": "+44 20 7946 0001"}),
    )
    .await
    .expect(200);
    let mut on_a = Raw::open(&a, &session, Some(&created.id.to_string())).await;
    let replayed: Vec<String> = [
        on_a.next_event().await,
        on_a.next_event().await,
        on_a.next_event().await,
    ]
    .into_iter()
    .map(|w| w.event.unwrap())
    .collect();
    assert_eq!(replayed, ["patient.updated", "patient.updated", "ready"]);
}

#[tokio::test]
async fn pruning_never_deletes_an_event_the_reader_has_not_read() {
    let server = TestServer::start_with(quick_config()).await;
    let session = server.login_new("doc@clinic.test", Role::Doctor).await;
    let patient = server.patient(&session, "Anna Smith").await;
    for n in 0..5 {
        server
            .patch(
                &format!("/api/v1/patients/{patient}"),
                &session,
                json!({"phone": format!("+44 20 7946 {n:04}")}),
            )
            .await
            .expect(200);
    }
    let ids: Vec<i64> = server
        .sql_rows("SELECT CAST(id AS TEXT) FROM events ORDER BY id", &[])
        .await
        .into_iter()
        .map(|row| row[0].as_deref().unwrap().parse().unwrap())
        .collect();
    assert_eq!(ids.len(), 6, "{ids:?}");
    // The reader has read only the first two: keeping the newest two must not delete the
    // four after them, which no stream has been given yet.
    let deleted = server.store.prune_events(2, ids[1]).await.unwrap();
    assert_eq!(deleted, 2);
    let left = server.sql_count("SELECT COUNT(*) FROM events", &[]).await;
    assert_eq!(left, 4);
    // Once it has read them all, the newest two are kept.
    server.store.prune_events(2, ids[5]).await.unwrap();
    assert_eq!(
        server.sql_count("SELECT COUNT(*) FROM events", &[]).await,
        2
    );
}
