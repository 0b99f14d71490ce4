//! The load itself: one phase is N virtual users (tokio tasks) sharing one `ApiClient` — one
//! pool of keep-alive connections and one session — each looping over its workload until the
//! phase's deadline, its request budget, or a stop (Ctrl-C).
//!
//! A request that is in flight at the deadline is let finish and counted (it was sent inside
//! the phase); the phase's wall time runs until the last one answered, so requests/s stays
//! honest. Think time is cut short at the deadline, so a long `--think-ms` never overruns it.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::Scenario;
use super::progress::Progress;
use super::samples::{Endpoint, Samples};
use crate::client::{ApiClient, ApiError};
use crate::model::query::{PageParams, PatientListParams, ReportListParams, ReportStatsParams};

/// Rows per page, as the workstation asks for them.
const PAGE_ROWS: u32 = 20;
/// Consultation history rows when a chart opens, as the workstation asks.
const HISTORY_ROWS: u32 = 50;
/// At most this many letters are typed into the search: a doctor stops once the patient shows.
const MAX_TYPED: usize = 10;
/// Rows a search asks for, as the workstation's result list does.
const SEARCH_ROWS: u32 = 20;
/// Typed when the first page of patients has no names (a doctor without patients).
const FALLBACK_WORD: &str = "ann";

/// The longest a phase may run, whatever it is asked.
pub const MAX_PHASE: Duration = Duration::from_secs(7 * 24 * 3600);

/// What a phase drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// `GET /health`: the bare HTTP round trip the others are measured against.
    Health,
    Scenario(Scenario),
}

/// The settings of one phase.
pub struct PhasePlan {
    pub workload: Workload,
    pub concurrency: u32,
    pub duration: Duration,
    pub max_requests: u64,
    /// Pause after every request, per virtual user.
    pub think: Duration,
}

/// What every virtual user of a run shares.
pub struct Shared {
    pub client: ApiClient,
    pub email: String,
    pub password: String,
    /// Surnames from the first page of patients, for the search scenario.
    pub words: Vec<String>,
    /// Whole terms to search in turn (`--terms`); when given, they replace the typed surnames.
    pub terms: Vec<String>,
    pub progress: Arc<Progress>,
    /// Becomes true on Ctrl-C: the run stops early and still reports.
    pub stop: watch::Receiver<bool>,
}

/// A phase's measurements and how long it really took.
pub struct PhaseResult {
    pub samples: Samples,
    pub elapsed: Duration,
}

/// The limits of a running phase, checked before every request.
struct Limits {
    started: Instant,
    deadline: Instant,
    max_requests: u64,
    issued: AtomicU64,
    /// Raised when the request budget is spent, to wake the users that are thinking: the
    /// phase then ends with its last answer instead of idling to the deadline, which would
    /// understate requests/s.
    spent: watch::Sender<bool>,
}

impl Limits {
    /// Whether one more request may be sent (and counts it as sent).
    fn admit(&self, stop: &watch::Receiver<bool>) -> bool {
        if *stop.borrow() || *self.spent.borrow() || Instant::now() >= self.deadline {
            return false;
        }
        let issued = self.issued.fetch_add(1, Ordering::Relaxed);
        // Raised with the last admitted request, not at the next refused one: a user that is
        // thinking would otherwise be the one to find out, a think time later.
        if issued + 1 >= self.max_requests {
            self.spent.send_replace(true);
        }
        issued < self.max_requests
    }
}

/// Runs one phase to its end and gathers what every virtual user measured.
pub async fn run_phase(plan: &PhasePlan, shared: &Arc<Shared>) -> PhaseResult {
    let started = Instant::now();
    let limits = Arc::new(Limits {
        started,
        // `--duration` is capped when parsed, so this cannot overflow; be safe regardless.
        deadline: started
            .checked_add(plan.duration)
            .unwrap_or(started + MAX_PHASE),
        max_requests: plan.max_requests,
        issued: AtomicU64::new(0),
        spent: watch::Sender::new(false),
    });
    let mut users = Vec::with_capacity(plan.concurrency as usize);
    for id in 0..plan.concurrency as usize {
        let mut user = VirtualUser {
            id,
            turn: 0,
            limits: limits.clone(),
            shared: shared.clone(),
            think: plan.think,
            stop: shared.stop.clone(),
            spent: limits.spent.subscribe(),
            samples: Samples::default(),
        };
        // Users with think time start at random points of one think period, so they do not
        // all fire in the same instant every period (a burst no real clinic produces).
        let stagger = random_below(plan.think);
        let workload = plan.workload;
        users.push(tokio::spawn(async move {
            if user.wait(stagger).await.is_ok() {
                // `Err(Stop)` is how every loop ends: the limits were reached.
                let _ = user.drive(workload).await;
            }
            user.samples
        }));
    }
    let mut samples = Samples::default();
    for user in users {
        match user.await {
            Ok(theirs) => samples.merge(theirs),
            // A panicking user loses only its own samples; the others still report.
            Err(error) => eprintln!("synapse bench: a virtual user failed: {error}"),
        }
    }
    PhaseResult {
        samples,
        elapsed: started.elapsed(),
    }
}

/// A uniformly random duration in `[0, max)`.
fn random_below(max: Duration) -> Duration {
    use rand::Rng;
    let max_ms = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
    if max_ms == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(rand::rng().random_range(0..max_ms))
}

/// The phase is over for this user: deadline, request budget or Ctrl-C.
struct Stop;

/// One simulated doctor (or client, for `/health`).
struct VirtualUser {
    id: usize,
    /// How many rounds of its workload this user has done; picks a different patient and
    /// report each round, and different ones from the other users.
    turn: usize,
    limits: Arc<Limits>,
    shared: Arc<Shared>,
    think: Duration,
    stop: watch::Receiver<bool>,
    spent: watch::Receiver<bool>,
    samples: Samples,
}

impl VirtualUser {
    /// Loops over the workload until the phase ends.
    async fn drive(&mut self, workload: Workload) -> Result<(), Stop> {
        let shared = self.shared.clone();
        let client = &shared.client;
        loop {
            match workload {
                Workload::Health => {
                    self.call(Endpoint::Health, client.health()).await?;
                }
                Workload::Scenario(Scenario::List) => {
                    self.call(
                        Endpoint::PatientsList,
                        client.list_patients(&patients_page()),
                    )
                    .await?;
                }
                Workload::Scenario(Scenario::Search) => {
                    match pick(&shared.terms, self.id + self.turn) {
                        Some(term) => {
                            self.call(
                                Endpoint::PatientsSearch,
                                client.search_patients(term, Some(SEARCH_ROWS)),
                            )
                            .await?;
                        }
                        None => {
                            let word = pick(&shared.words, self.id + self.turn)
                                .map_or(FALLBACK_WORD, String::as_str);
                            self.type_ahead(client, word).await?;
                        }
                    }
                }
                Workload::Scenario(Scenario::Reports) => {
                    self.call(Endpoint::ReportsList, client.list_reports(&reports_page()))
                        .await?;
                }
                Workload::Scenario(Scenario::Stats) => {
                    self.call(
                        Endpoint::ReportStats,
                        client.report_stats(&ReportStatsParams::default()),
                    )
                    .await?;
                }
                Workload::Scenario(Scenario::Login) => {
                    self.call(
                        Endpoint::Login,
                        client.login(&shared.email, &shared.password),
                    )
                    .await?;
                }
                Workload::Scenario(Scenario::Mixed) => self.doctors_day(client).await?,
            }
            self.turn = self.turn.wrapping_add(1);
        }
    }

    /// A round of a doctor's day, as the workstation makes the calls: the patient list,
    /// searching for one of them letter by letter, their chart (patient and history), the
    /// reports list, one report, the statistics. A failed step skips the steps that need its
    /// answer; the round goes on.
    async fn doctors_day(&mut self, client: &ApiClient) -> Result<(), Stop> {
        let pick_at = self.id + self.turn;
        let patients = self
            .call(
                Endpoint::PatientsList,
                client.list_patients(&patients_page()),
            )
            .await?;
        let patient = patients.and_then(|page| pick(&page.items, pick_at).cloned());
        if let Some(patient) = patient {
            self.type_ahead(client, &surname(&patient.full_name))
                .await?;
            self.call(Endpoint::PatientGet, client.get_patient(patient.id))
                .await?;
            let history = PageParams {
                limit: Some(HISTORY_ROWS),
                offset: None,
            };
            self.call(
                Endpoint::ConsultationHistory,
                client.consultation_history(patient.id, &history),
            )
            .await?;
        }
        let reports = self
            .call(Endpoint::ReportsList, client.list_reports(&reports_page()))
            .await?;
        if let Some(report) = reports.and_then(|page| pick(&page.items, pick_at).map(|r| r.id)) {
            self.call(Endpoint::ReportGet, client.get_report(report))
                .await?;
        }
        self.call(
            Endpoint::ReportStats,
            client.report_stats(&ReportStatsParams::default()),
        )
        .await?;
        Ok(())
    }

    /// Search as you type: "s", "sm", "smi", … one request per keystroke, as the workstation
    /// sends them.
    async fn type_ahead(&mut self, client: &ApiClient, word: &str) -> Result<(), Stop> {
        let mut typed = String::new();
        for letter in word.chars().take(MAX_TYPED) {
            typed.push(letter);
            self.call(
                Endpoint::PatientsSearch,
                client.search_patients(&typed, Some(SEARCH_ROWS)),
            )
            .await?;
        }
        Ok(())
    }

    /// Sends one request if the limits allow, records its latency or error, then thinks.
    /// `Ok(None)` is a failed request: counted, and the run goes on.
    async fn call<T>(
        &mut self,
        endpoint: Endpoint,
        request: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<Option<T>, Stop> {
        if !self.limits.admit(&self.stop) {
            return Err(Stop);
        }
        let sent = Instant::now();
        let result = request.await;
        let latency = sent.elapsed();
        self.shared.progress.answered(result.is_err());
        let answer = match result {
            Ok(answer) => {
                self.samples.ok(endpoint, latency);
                Some(answer)
            }
            Err(error) => {
                let at = sent.saturating_duration_since(self.limits.started);
                self.samples.error(endpoint, at, describe(&error));
                None
            }
        };
        self.wait(self.think).await?;
        Ok(answer)
    }

    /// Waits `pause`, cut short by the deadline, a spent budget or a stop.
    async fn wait(&mut self, pause: Duration) -> Result<(), Stop> {
        if pause.is_zero() {
            return Ok(());
        }
        let until = Instant::now()
            .checked_add(pause)
            .map_or(self.limits.deadline, |end| end.min(self.limits.deadline));
        tokio::select! {
            _ = tokio::time::sleep_until(until.into()) => {}
            _ = raised(&mut self.stop) => return Err(Stop),
            _ = raised(&mut self.spent) => return Err(Stop),
        }
        if Instant::now() >= self.limits.deadline {
            return Err(Stop);
        }
        Ok(())
    }
}

/// Resolves once the flag is true; never, if its sender is gone (the deadline still ends the
/// phase).
async fn raised(flag: &mut watch::Receiver<bool>) {
    if flag.wait_for(|raised| *raised).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// An error as the report shows it: the client's message, the request id for the server log.
fn describe(error: &ApiError) -> String {
    match &error.request_id {
        Some(id) => format!("{} (request id {id})", error.message),
        None => error.message.clone(),
    }
}

fn pick<T>(items: &[T], at: usize) -> Option<&T> {
    if items.is_empty() {
        None
    } else {
        items.get(at % items.len())
    }
}

/// The word a doctor types to find a patient: the last word of the name, lowercased.
pub fn surname(full_name: &str) -> String {
    full_name
        .split_whitespace()
        .last()
        .unwrap_or(FALLBACK_WORD)
        .to_lowercase()
}

/// The first page of patients, as the workstation opens it.
pub fn patients_page() -> PatientListParams {
    PatientListParams {
        limit: Some(PAGE_ROWS),
        ..PatientListParams::default()
    }
}

fn reports_page() -> ReportListParams {
    ReportListParams {
        limit: Some(PAGE_ROWS),
        ..ReportListParams::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_typed_word_is_the_lowercased_surname() {
        assert_eq!(surname("Anna Smith"), "smith");
        assert_eq!(surname("  Émile  Zola "), "zola");
        assert_eq!(surname(""), FALLBACK_WORD);
    }

    #[test]
    fn picks_wrap_around() {
        assert_eq!(pick(&[1, 2, 3], 4), Some(&2));
        assert_eq!(pick::<u8>(&[], 4), None);
    }

    #[test]
    fn random_stagger_stays_below_the_think_time() {
        assert_eq!(random_below(Duration::ZERO), Duration::ZERO);
        for _ in 0..100 {
            assert!(random_below(Duration::from_millis(5)) < Duration::from_millis(5));
        }
    }
}
