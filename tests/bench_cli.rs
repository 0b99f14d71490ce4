//! The real `synapse bench` against a real `synapse serve --demo` it starts itself: the mixed
//! scenario reports every endpoint of a doctor's day and `/health` with ordered percentiles
//! and no errors, the table names them, and the exit codes say what went wrong (2 for usage,
//! 5 for an unreachable server). No timing is asserted: only that the figures are consistent.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;

mod common;

use common::served::{Served, free_port, synapse, wait_bounded};

/// A finished `synapse bench`: its exit status and what it printed.
struct Outcome {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs `synapse <args>` to the end (at most 2 minutes), its output going to files so a full
/// pipe can never stall it.
fn run(dir: &Path, args: &[&str]) -> Outcome {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let name = format!("run-{}", RUNS.fetch_add(1, Ordering::Relaxed));
    let out_path = dir.join(format!("{name}.out"));
    let err_path = dir.join(format!("{name}.err"));
    let mut child = synapse(dir)
        .args(args)
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("spawn synapse");
    let status = wait_bounded(&mut child, Duration::from_secs(120));
    Outcome {
        status,
        stdout: std::fs::read_to_string(out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(err_path).unwrap_or_default(),
    }
}

/// The row of `name` in the JSON report.
fn row<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["endpoints"]
        .as_array()
        .expect("endpoints is an array")
        .iter()
        .find(|row| row["endpoint"] == name)
        .unwrap_or_else(|| panic!("no {name} row in {report:#}"))
}

/// Requests answered, no errors, and p50 ≤ p90 ≤ p99 ≤ max.
fn assert_consistent(name: &str, row: &Value) {
    let requests = row["requests"].as_u64().expect("requests");
    assert!(requests > 0, "{name} was never requested: {row:#}");
    assert_eq!(row["errors"], 0, "{name} had errors: {row:#}");
    assert!(row["first_error"].is_null(), "{row:#}");
    assert!(row["requests_per_s"].as_f64().expect("requests_per_s") > 0.0);
    assert!(row["vs_health"].as_f64().expect("vs_health") > 0.0);
    let latency = &row["latency_ms"];
    let [p50, p90, p99, max] =
        ["p50", "p90", "p99", "max"].map(|p| latency[p].as_f64().expect("a percentile"));
    assert!(
        0.0 <= p50 && p50 <= p90 && p90 <= p99 && p99 <= max,
        "{name}: percentiles out of order: {latency}"
    );
}

#[test]
fn mixed_load_reports_every_endpoint_of_a_doctors_day() {
    let dir = tempfile::tempdir().unwrap();
    // A benchmark measures the server, not its rate limits: raised past what the load sends.
    let served = Served::start(
        dir.path(),
        &dir.path().join("data"),
        &["--demo"],
        &[
            ("SYNAPSE_REQUESTS_PER_MINUTE_PER_USER", "100000000"),
            ("SYNAPSE_REQUESTS_PER_MINUTE_PER_ADDRESS", "100000000"),
        ],
        Duration::from_secs(30),
    );

    // `--server` is the CLI's global flag: accepted after the subcommand too.
    let outcome = run(
        dir.path(),
        &[
            "bench",
            "--server",
            &served.base,
            "--duration",
            "2s",
            "--concurrency",
            "4",
            "--scenario",
            "mixed",
            "--json",
        ],
    );
    assert!(
        outcome.status.success(),
        "bench failed ({}): {}{}",
        outcome.status,
        outcome.stdout,
        outcome.stderr
    );
    let report: Value = serde_json::from_str(&outcome.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", outcome.stdout));
    assert_eq!(report["scenario"], "mixed");
    assert_eq!(report["concurrency"], 4);
    assert_eq!(report["interrupted"], false);
    for name in [
        "health",
        "patients.list",
        "patients.search",
        "patients.get",
        "consultation.history",
        "reports.list",
        "reports.get",
        "reports.stats",
    ] {
        assert_consistent(name, row(&report, name));
    }
    assert_consistent("total", &report["total"]);
    assert_eq!(row(&report, "health")["vs_health"], 1.0);
    // Search as you type sends several prefixes per patient opened.
    let searches = row(&report, "patients.search")["requests"]
        .as_u64()
        .unwrap();
    let charts = row(&report, "patients.get")["requests"].as_u64().unwrap();
    assert!(searches > charts, "{searches} searches for {charts} charts");
    // No progress line when stderr is not a terminal.
    assert!(!outcome.stderr.contains('\r'), "{:?}", outcome.stderr);

    // Bounded in count: the budget ends each phase long before its time is up.
    let outcome = run(
        dir.path(),
        &[
            "--server",
            &served.base,
            "--json",
            "bench",
            "--duration",
            "10m",
            "--concurrency",
            "3",
            "--scenario",
            "list",
            "--max-requests",
            "30",
        ],
    );
    assert!(outcome.status.success(), "{}", outcome.stderr);
    let report: Value = serde_json::from_str(&outcome.stdout).unwrap();
    assert_eq!(row(&report, "health")["requests"], 30, "{report:#}");
    assert_eq!(row(&report, "patients.list")["requests"], 30, "{report:#}");
    assert_consistent("patients.list", row(&report, "patients.list"));

    // Whole search terms in turn: every request searches one of them as given, so a term the
    // server refuses (over 100 characters) fails every request, and valid ones none.
    for (terms, failed) in [("smi,anna s,5550", 0), (&*"x".repeat(101), 20)] {
        let outcome = run(
            dir.path(),
            &[
                "--server",
                &served.base,
                "--json",
                "bench",
                "--scenario",
                "search",
                "--terms",
                terms,
                "--max-requests",
                "20",
            ],
        );
        assert!(outcome.status.success(), "{}", outcome.stderr);
        let report: Value = serde_json::from_str(&outcome.stdout).unwrap();
        let search = row(&report, "patients.search");
        assert_eq!(search["requests"], 20, "{report:#}");
        assert_eq!(search["errors"], failed, "{terms}: {report:#}");
    }

    // The table for people, through SYNAPSE_SERVER this time.
    let mut command = synapse(dir.path());
    let out_path = dir.path().join("table.out");
    let mut child = command
        .env("SYNAPSE_SERVER", &served.base)
        .args([
            "bench",
            "--duration",
            "300ms",
            "--concurrency",
            "2",
            "--scenario",
            "stats",
        ])
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status = wait_bounded(&mut child, Duration::from_secs(120));
    let table = std::fs::read_to_string(out_path).unwrap();
    assert!(status.success(), "{status}: {table}");
    for text in [
        "GET /health",
        "GET /api/v1/reports/stats",
        "vs /health",
        "p99 ms",
        "total",
    ] {
        assert!(table.contains(text), "no {text:?} in:\n{table}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let server = format!("http://127.0.0.1:{}", free_port());
    for args in [
        vec!["bench", "--server", &server, "--scenario", "bogus"],
        vec!["bench", "--server", &server, "--duration", "soon"],
        vec!["bench", "--server", &server, "--concurrency", "0"],
        // No server anywhere: not on the command line, in the environment or a config file.
        vec!["bench"],
    ] {
        let outcome = run(dir.path(), &args);
        assert_eq!(
            outcome.status.code(),
            Some(2),
            "{args:?}: {}{}",
            outcome.stdout,
            outcome.stderr
        );
        assert!(!outcome.stderr.is_empty(), "{args:?} said nothing");
    }
}

#[test]
fn an_unreachable_server_exits_5() {
    let dir = tempfile::tempdir().unwrap();
    // A port nothing listens on: the connection is refused at once.
    let server = format!("http://127.0.0.1:{}", free_port());
    let outcome = run(
        dir.path(),
        &["bench", "--server", &server, "--duration", "1s", "--json"],
    );
    assert_eq!(
        outcome.status.code(),
        Some(5),
        "{}{}",
        outcome.stdout,
        outcome.stderr
    );
    assert!(outcome.stderr.contains(&server), "{}", outcome.stderr);
    assert!(outcome.stdout.is_empty(), "{}", outcome.stdout);
}
