//! The result of a run, for people (a table on stdout, errors under it) and for scripts
//! (`--json`: one object with the run's settings and a row per endpoint).

use serde::Serialize;

use super::samples::{Latency, Summary};
use crate::console::table::{Align, Table};

/// Everything a finished run reports.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub server: String,
    pub scenario: &'static str,
    pub concurrency: u32,
    pub think_ms: u64,
    pub max_requests: u64,
    /// Wall time of the `/health` phase and of the scenario, in seconds.
    pub health_seconds: f64,
    pub scenario_seconds: f64,
    /// True when Ctrl-C ended the run early.
    pub interrupted: bool,
    /// `/health` first, then the scenario's endpoints in the order a doctor meets them.
    pub endpoints: Vec<Summary>,
    /// The scenario's endpoints taken together.
    pub total: Summary,
}

impl BenchReport {
    /// The report as a pretty-printed JSON document.
    pub fn to_json(&self) -> String {
        // Serializing plain structs of numbers and strings cannot fail; keep a readable
        // fallback anyway rather than a panic.
        serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| format!("{{\"error\":\"cannot encode the report: {e}\"}}"))
    }

    /// The report as a table with a heading and, under it, the first error of each endpoint
    /// that had any.
    pub fn to_table(&self) -> String {
        let mut out = format!(
            "synapse bench: {} on {} — {} virtual user{}, think {} ms; /health {:.2} s, scenario {:.2} s{}\n\n",
            self.scenario,
            self.server,
            self.concurrency,
            if self.concurrency == 1 { "" } else { "s" },
            self.think_ms,
            self.health_seconds,
            self.scenario_seconds,
            if self.interrupted {
                " (interrupted)"
            } else {
                ""
            },
        );
        let mut table = Table::new(&[
            "endpoint",
            "requests",
            "req/s",
            "vs /health",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "max ms",
            "errors",
        ])
        .align_from(1, Align::Right);
        let cells = |s: &Summary, name: String| {
            let latency = |pick: fn(&Latency) -> f64| {
                s.latency_ms
                    .as_ref()
                    .map_or_else(|| "-".to_string(), |l| format!("{:.2}", pick(l)))
            };
            vec![
                name,
                thousands(s.requests),
                format!("{:.1}", s.requests_per_s),
                s.vs_health
                    .map_or_else(|| "-".to_string(), |v| format!("{v:.3}")),
                latency(|l| l.p50),
                latency(|l| l.p90),
                latency(|l| l.p99),
                latency(|l| l.max),
                thousands(s.errors),
            ]
        };
        for s in &self.endpoints {
            table.row(cells(s, s.route.to_string()));
        }
        // A rule above the total, which sums the rows over it.
        table.rule();
        table.row(cells(&self.total, "total".to_string()));
        out.push_str(&table.render());
        out.push_str(
            "\nvs /health: the endpoint's requests/s over /health's at the same concurrency (no think time).\n",
        );
        if self.endpoints.len() > 2 {
            // In a mixed scenario the users' time is split between the endpoints, so one
            // endpoint's row is its share; the total is the scenario's throughput.
            out.push_str(
                "The endpoints share the virtual users: compare the total with /health.\n",
            );
        }
        let failures: Vec<&Summary> = self
            .endpoints
            .iter()
            .filter(|s| s.first_error.is_some())
            .collect();
        if !failures.is_empty() {
            out.push_str(
                "\nErrors are counted in requests and req/s, not in the latencies. The first of each endpoint:\n",
            );
            for s in failures {
                if let Some(message) = &s.first_error {
                    out.push_str(&format!("  {}: {message}\n", s.route));
                }
            }
        }
        out
    }
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::samples::{Endpoint, Samples};
    use std::time::Duration;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn the_table_has_a_row_per_endpoint_a_total_and_first_errors() {
        let mut samples = Samples::default();
        samples.ok(Endpoint::Health, Duration::from_micros(300));
        samples.ok(Endpoint::ReportStats, Duration::from_millis(2));
        samples.error(Endpoint::ReportStats, Duration::ZERO, "boom".into());
        let second = Duration::from_secs(1);
        let health = samples.summary(Endpoint::Health, second);
        let mut stats = samples.summary(Endpoint::ReportStats, second);
        stats.relative_to(health.requests_per_s);
        let report = BenchReport {
            server: "http://127.0.0.1:8080".into(),
            scenario: "stats",
            concurrency: 1,
            think_ms: 0,
            max_requests: 10,
            health_seconds: 1.0,
            scenario_seconds: 1.0,
            interrupted: false,
            endpoints: vec![health, stats],
            total: samples.total(&[Endpoint::ReportStats], second),
        };
        let table = report.to_table();
        assert!(table.contains("GET /health"), "{table}");
        assert!(table.contains("GET /api/v1/reports/stats"), "{table}");
        assert!(
            table.contains("2.000"),
            "stats did twice health's requests: {table}"
        );
        assert!(table.contains("\ntotal "), "{table}");
        assert!(table.contains("GET /api/v1/reports/stats: boom"), "{table}");
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(json["endpoints"][1]["endpoint"], "reports.stats");
        assert_eq!(json["endpoints"][1]["errors"], 1);
    }
}
