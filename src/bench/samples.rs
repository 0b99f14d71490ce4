//! What a run measured: the endpoints a benchmark can drive, every latency of every answer
//! (kept exactly, as a sorted list per endpoint at the end), error counts, and the per-endpoint
//! figures computed from them.
//!
//! Exact samples instead of a histogram: a run is bounded by `--max-requests` per phase, so
//! memory is bounded too (8 bytes a request), and the percentiles need no bucket error.

use std::time::Duration;

use serde::Serialize;

/// One endpoint of API.md as the benchmark drives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Health,
    Login,
    PatientsList,
    PatientsSearch,
    PatientGet,
    ConsultationHistory,
    ReportsList,
    ReportGet,
    ReportStats,
}

impl Endpoint {
    /// How many endpoints there are (the length of per-endpoint arrays).
    pub const COUNT: usize = 9;

    /// A short, stable name: the key in `--json` output.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Health => "health",
            Endpoint::Login => "auth.login",
            Endpoint::PatientsList => "patients.list",
            Endpoint::PatientsSearch => "patients.search",
            Endpoint::PatientGet => "patients.get",
            Endpoint::ConsultationHistory => "consultation.history",
            Endpoint::ReportsList => "reports.list",
            Endpoint::ReportGet => "reports.get",
            Endpoint::ReportStats => "reports.stats",
        }
    }

    /// The method and route pattern, as in API.md (never a real id: the table is shareable).
    pub fn route(self) -> &'static str {
        match self {
            Endpoint::Health => "GET /health",
            Endpoint::Login => "POST /api/v1/auth/login",
            Endpoint::PatientsList => "GET /api/v1/patients/list/",
            Endpoint::PatientsSearch => "GET /api/v1/patients/search/",
            Endpoint::PatientGet => "GET /api/v1/patients/{id}",
            Endpoint::ConsultationHistory => "GET /api/v1/consultation/history/{patient_id}",
            Endpoint::ReportsList => "GET /api/v1/reports/list",
            Endpoint::ReportGet => "GET /api/v1/reports/{id}",
            Endpoint::ReportStats => "GET /api/v1/reports/stats",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

// Per-endpoint arrays are indexed by the variant: a new last variant must raise `COUNT`.
const _: () = assert!(Endpoint::ReportStats as usize + 1 == Endpoint::COUNT);

/// One endpoint's raw measurements.
#[derive(Debug, Default, Clone)]
struct EndpointSamples {
    /// Latencies of successful answers, in nanoseconds.
    latencies_ns: Vec<u64>,
    errors: u64,
    /// The earliest error (time since the phase started, and what it said), so the report
    /// shows the cause rather than the last of a cascade.
    first_error: Option<(Duration, String)>,
}

/// Everything one virtual user (or, merged, a whole phase) measured. Each virtual user keeps
/// its own, so recording never contends on a lock; they are merged when the phase ends.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    endpoints: [EndpointSamples; Endpoint::COUNT],
}

impl Samples {
    /// A successful answer after `latency`.
    pub fn ok(&mut self, endpoint: Endpoint, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.endpoints[endpoint.index()].latencies_ns.push(nanos);
    }

    /// A failed request, `at` this long after the phase started.
    pub fn error(&mut self, endpoint: Endpoint, at: Duration, message: String) {
        let slot = &mut self.endpoints[endpoint.index()];
        slot.errors += 1;
        if slot
            .first_error
            .as_ref()
            .is_none_or(|(first, _)| at < *first)
        {
            slot.first_error = Some((at, message));
        }
    }

    /// Adds another virtual user's measurements to these.
    pub fn merge(&mut self, other: Samples) {
        for (mine, theirs) in self.endpoints.iter_mut().zip(other.endpoints) {
            mine.latencies_ns.extend(theirs.latencies_ns);
            mine.errors += theirs.errors;
            if let Some((at, message)) = theirs.first_error
                && mine
                    .first_error
                    .as_ref()
                    .is_none_or(|(first, _)| at < *first)
            {
                mine.first_error = Some((at, message));
            }
        }
    }

    /// The figures of `endpoint` over a phase that lasted `elapsed`.
    pub fn summary(&self, endpoint: Endpoint, elapsed: Duration) -> Summary {
        let slot = &self.endpoints[endpoint.index()];
        let mut latencies = slot.latencies_ns.clone();
        latencies.sort_unstable();
        Summary::new(
            endpoint.name(),
            endpoint.route(),
            latencies,
            slot.errors,
            slot.first_error.as_ref().map(|(_, m)| m.clone()),
            elapsed,
        )
    }

    /// The figures of several endpoints taken together (a scenario's total).
    pub fn total(&self, endpoints: &[Endpoint], elapsed: Duration) -> Summary {
        let mut latencies = Vec::new();
        let mut errors = 0;
        let mut first_error: Option<&(Duration, String)> = None;
        for endpoint in endpoints {
            let slot = &self.endpoints[endpoint.index()];
            latencies.extend_from_slice(&slot.latencies_ns);
            errors += slot.errors;
            if let Some(candidate) = &slot.first_error
                && first_error.is_none_or(|(first, _)| candidate.0 < *first)
            {
                first_error = Some(candidate);
            }
        }
        latencies.sort_unstable();
        Summary::new(
            "total",
            "all requests of the scenario",
            latencies,
            errors,
            first_error.map(|(_, m)| m.clone()),
            elapsed,
        )
    }
}

/// Latency percentiles in milliseconds (rounded to the microsecond).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// One row of the result: an endpoint's throughput, latency and errors.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub endpoint: &'static str,
    pub route: &'static str,
    /// Answered requests, successful or not.
    pub requests: u64,
    pub errors: u64,
    /// `requests` over the phase's wall time.
    pub requests_per_s: f64,
    /// `requests_per_s` as a fraction of `/health`'s at the same concurrency; set once the
    /// health figure is known.
    pub vs_health: Option<f64>,
    /// Over successful answers only: an error's latency (a refused connection, a timeout)
    /// says little about the endpoint. `None` when nothing succeeded.
    pub latency_ms: Option<Latency>,
    pub first_error: Option<String>,
}

impl Summary {
    fn new(
        endpoint: &'static str,
        route: &'static str,
        sorted_ns: Vec<u64>,
        errors: u64,
        first_error: Option<String>,
        elapsed: Duration,
    ) -> Summary {
        let requests = sorted_ns.len() as u64 + errors;
        let seconds = elapsed.as_secs_f64();
        let requests_per_s = if seconds > 0.0 {
            requests as f64 / seconds
        } else {
            0.0
        };
        let latency_ms = sorted_ns.last().map(|&max| Latency {
            p50: millis(percentile(&sorted_ns, 50.0)),
            p90: millis(percentile(&sorted_ns, 90.0)),
            p99: millis(percentile(&sorted_ns, 99.0)),
            max: millis(max),
        });
        Summary {
            endpoint,
            route,
            requests,
            errors,
            requests_per_s,
            vs_health: None,
            latency_ms,
            first_error,
        }
    }

    /// Sets `vs_health` from the `/health` phase's throughput.
    pub fn relative_to(&mut self, health_requests_per_s: f64) {
        self.vs_health =
            (health_requests_per_s > 0.0).then(|| self.requests_per_s / health_requests_per_s);
    }
}

/// The nearest-rank percentile of a sorted, non-empty list: a value that was really measured,
/// and never above a higher percentile.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted.get(index).copied().unwrap_or_default()
}

fn millis(nanos: u64) -> f64 {
    (nanos as f64 / 1_000.0).round() / 1_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank_and_ordered() {
        let sorted: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&sorted, 50.0), 50);
        assert_eq!(percentile(&sorted, 90.0), 90);
        assert_eq!(percentile(&sorted, 99.0), 99);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[1, 2], 50.0), 1);
    }

    #[test]
    fn summaries_count_errors_and_keep_the_earliest() {
        let mut a = Samples::default();
        let mut b = Samples::default();
        a.ok(Endpoint::PatientsList, Duration::from_millis(3));
        a.ok(Endpoint::PatientsList, Duration::from_millis(1));
        a.error(
            Endpoint::PatientsList,
            Duration::from_secs(2),
            "late".into(),
        );
        b.error(
            Endpoint::PatientsList,
            Duration::from_secs(1),
            "early".into(),
        );
        b.ok(Endpoint::ReportStats, Duration::from_millis(2));
        a.merge(b);

        let list = a.summary(Endpoint::PatientsList, Duration::from_secs(2));
        assert_eq!((list.requests, list.errors), (4, 2));
        assert_eq!(list.requests_per_s, 2.0);
        assert_eq!(list.first_error.as_deref(), Some("early"));
        let latency = list.latency_ms.unwrap();
        assert_eq!((latency.p50, latency.max), (1.0, 3.0));

        let total = a.total(
            &[Endpoint::PatientsList, Endpoint::ReportStats],
            Duration::from_secs(1),
        );
        assert_eq!(total.requests, 5);
        let mut stats = a.summary(Endpoint::ReportStats, Duration::from_secs(1));
        stats.relative_to(4.0);
        assert_eq!(stats.vs_health, Some(0.25));
        assert!(
            a.summary(Endpoint::Login, Duration::from_secs(1))
                .latency_ms
                .is_none()
        );
    }
}
