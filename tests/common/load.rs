//! A small mixed load for the fault tests: clients that register patients, list them, and
//! start and stop consultations (which writes a report), recording every answer with when it
//! was sent and how long it took, and every write the server acknowledged.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// One answer the load saw: when it was sent (from the test's start), how long it took, and
/// what came back (`None`: no answer at all, a timeout or a broken connection).
#[derive(Debug, Clone)]
pub struct Seen {
    pub what: &'static str,
    pub sent: Duration,
    pub took: Duration,
    pub status: Option<u16>,
    pub code: String,
    /// The server's `X-Request-ID`, which its audit rows carry.
    pub request_id: Option<String>,
}

/// What the load learnt: every answer, and the writes acknowledged.
#[derive(Default)]
pub struct Record {
    pub seen: Vec<Seen>,
    pub patients: Vec<String>,
    pub consultations: Vec<String>,
    pub reports: Vec<String>,
}

pub struct Load {
    pub base: String,
    pub http: reqwest::Client,
    pub origin: Instant,
    pub record: Mutex<Record>,
}

impl Load {
    pub async fn call(
        &self,
        what: &'static str,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (Option<u16>, Value) {
        let sent = self.origin.elapsed();
        let started = Instant::now();
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let (status, body, request_id) = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let request_id = response
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                match response.json::<Value>().await {
                    Ok(body) => (Some(status), body, request_id),
                    // The answer broke off: the client saw an error, not this status.
                    Err(_) => (None, Value::Null, request_id),
                }
            }
            Err(_) => (None, Value::Null, None),
        };
        let code = body["error"]["code"].as_str().unwrap_or("").to_string();
        self.record.lock().unwrap().seen.push(Seen {
            what,
            sent,
            took: started.elapsed(),
            status,
            code,
            request_id,
        });
        (status, body)
    }

    /// One client: register a patient, list, start a consultation, stop it (which writes its
    /// report), over and over until `until` says stop.
    pub async fn client(self: Arc<Self>, n: usize, token: String, until: Arc<tokio::sync::Notify>) {
        let mut round = 0;
        let stop = until.notified();
        tokio::pin!(stop);
        loop {
            round += 1;
            let work = async {
                let (status, body) = self
                    .call(
                        "register",
                        reqwest::Method::POST,
                        "/api/v1/patients",
                        &token,
                        Some(json!({
                            "full_name": format!("Fault Client{n} Round{round}"),
                            "date_of_birth": "1980-02-03",
                            "sex": "female"
                        })),
                    )
                    .await;
                let patient = (status == Some(201))
                    .then(|| body["data"]["id"].as_str().map(str::to_string))
                    .flatten();
                if let Some(id) = &patient {
                    self.record.lock().unwrap().patients.push(id.clone());
                }
                self.call(
                    "list",
                    reqwest::Method::GET,
                    "/api/v1/patients/list?limit=5",
                    &token,
                    None,
                )
                .await;
                let Some(patient) = patient else {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    return;
                };
                let (status, body) = self
                    .call(
                        "start",
                        reqwest::Method::POST,
                        "/api/v1/consultation/start",
                        &token,
                        Some(json!({"patient_id": patient, "session_type": "follow_up"})),
                    )
                    .await;
                let Some(consultation) = (status == Some(201))
                    .then(|| body["data"]["id"].as_str().map(str::to_string))
                    .flatten()
                else {
                    return;
                };
                self.record
                    .lock()
                    .unwrap()
                    .consultations
                    .push(consultation.clone());
                let (status, body) = self
                    .call(
                        "stop",
                        reqwest::Method::POST,
                        &format!("/api/v1/consultation/{consultation}/stop"),
                        &token,
                        Some(json!({"notes": "Sleeping better. Continue the plan."})),
                    )
                    .await;
                if status == Some(200)
                    && let Some(report) = body["data"]["report_id"].as_str()
                {
                    self.record.lock().unwrap().reports.push(report.to_string());
                }
            };
            tokio::select! {
                () = work => {}
                () = &mut stop => return,
            }
        }
    }
}

pub async fn login(http: &reqwest::Client, base: &str, email: &str) -> String {
    let reply = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": "password123"}))
        .send()
        .await
        .expect("login sent");
    assert_eq!(reply.status(), 200, "login of {email}");
    let body: Value = reply.json().await.expect("login body");
    body["data"]["access_token"]
        .as_str()
        .expect("access token")
        .to_string()
}

pub async fn status_of(http: &reqwest::Client, url: String, token: Option<&str>) -> Option<u16> {
    let mut request = http.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.ok().map(|r| r.status().as_u16())
}
