//! `synapse bench`: an HTTP load generator for any server that speaks API.md.
//!
//! It logs in once, then runs two phases at the same concurrency over one `ApiClient` (one
//! pool of keep-alive connections, one session): first `GET /health` for a fifth of the
//! duration (at least a second), then the chosen scenario for the duration. Each endpoint's
//! requests/s is reported beside its share of `/health`'s — the bare HTTP round trip to the
//! same server from the same machine — a ratio that holds on noisy or slower machines where
//! absolute figures do not.
//!
//! Bounded in time (`--duration`) and in count (`--max-requests` per phase, which also bounds
//! the memory of the exact latency samples). Errors are counted per endpoint, with the first
//! message kept, and never abort the run. Exit codes follow the CLI's: 0 done, 2 usage,
//! 5 server unreachable at the start, 1 anything else that stops it from starting (a refused
//! login); Ctrl-C stops the run early, prints what it measured and exits 130, as an
//! interrupted command does, so a script never takes a cut-short run for a whole one.

mod load;
mod progress;
mod report;
mod samples;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use tokio::sync::watch;

use crate::client::{ApiClient, ApiError};
use crate::config::{ClientFile, Environment};
use crate::console::Exit;
use load::{PhasePlan, Shared, Workload};
use progress::{Progress, ProgressLine};
pub use report::BenchReport;
use samples::Endpoint;
pub use samples::{Latency, Summary};

/// The demo doctor of `synapse serve --demo` (API.md), the default account.
pub const DEMO_EMAIL: &str = "doc@demo.com";
/// The demo accounts' password.
pub const DEMO_PASSWORD: &str = "password123";

/// The `/health` phase lasts this share of `--duration`…
const HEALTH_SHARE: u32 = 5;
/// …and at least this long, so it has enough requests to mean something.
const MIN_HEALTH_PHASE: Duration = Duration::from_secs(1);

/// What the virtual users do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// The first page of the patient list, over and over.
    List,
    /// Search as you type: the prefixes of surnames from the first page ("s", "sm", "smi", …).
    Search,
    /// The first page of the reports list.
    Reports,
    /// Report statistics.
    Stats,
    /// A login per request (the server limits logins per address: expect 429s past it).
    Login,
    /// A doctor's day: list, search as you type, open the chart, reports list, open a report,
    /// statistics.
    Mixed,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::List => "list",
            Scenario::Search => "search",
            Scenario::Reports => "reports",
            Scenario::Stats => "stats",
            Scenario::Login => "login",
            Scenario::Mixed => "mixed",
        }
    }

    /// The endpoints it drives, in the order a doctor meets them; each gets a row even when
    /// it was never reached, so a missing step shows.
    fn endpoints(self) -> &'static [Endpoint] {
        match self {
            Scenario::List => &[Endpoint::PatientsList],
            Scenario::Search => &[Endpoint::PatientsSearch],
            Scenario::Reports => &[Endpoint::ReportsList],
            Scenario::Stats => &[Endpoint::ReportStats],
            Scenario::Login => &[Endpoint::Login],
            Scenario::Mixed => &[
                Endpoint::PatientsList,
                Endpoint::PatientsSearch,
                Endpoint::PatientGet,
                Endpoint::ConsultationHistory,
                Endpoint::ReportsList,
                Endpoint::ReportGet,
                Endpoint::ReportStats,
            ],
        }
    }
}

/// The flags of `synapse bench`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "The default account (doc@demo.com, password123) is the demo doctor of \
`synapse serve --demo`; for any other server pass --email and --password.\n\
Exit codes: 0 done, 1 could not start (login refused), 2 usage, 5 server unreachable, \
130 interrupted (Ctrl-C; what was measured is still printed)."
)]
pub struct BenchArgs {
    /// The server to load, e.g. http://127.0.0.1:8080 (else SYNAPSE_SERVER, else the config
    /// file).
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// Print the measurements as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Account to log in as. The default is the demo doctor of `synapse serve --demo`.
    #[arg(long, default_value = DEMO_EMAIL)]
    pub email: String,
    /// Its password. The default is the demo accounts' password.
    #[arg(long, default_value = DEMO_PASSWORD)]
    pub password: String,
    /// Virtual users (concurrent tasks) sharing one session and one connection pool.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub concurrency: u32,
    /// How long the scenario runs, e.g. 500ms, 30s, 2m (the /health phase comes first and
    /// adds a fifth of it, at least 1s).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub duration: Duration,
    /// What the virtual users do.
    #[arg(long, value_enum, default_value_t = Scenario::Mixed)]
    pub scenario: Scenario,
    /// At most this many requests per phase (bounds the run and its memory).
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_requests: u64,
    /// Pause after each request, per virtual user, to simulate doctors rather than a flood
    /// (500 doctors at one request per 5 s: --concurrency 500 --think-ms 5000).
    #[arg(long, default_value_t = 0)]
    pub think_ms: u64,
    /// For the search scenario: search these whole terms in turn (comma-separated, e.g.
    /// "smi,anna s,5550,zz") instead of typing surnames from the first page letter by letter.
    #[arg(long, value_delimiter = ',')]
    pub terms: Vec<String>,
}

/// Parses "500ms", "30s", "2m", "1h" or bare seconds ("30").
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 500ms, 30s or 2m"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?}: use ms, s, m or h"
            ));
        }
    };
    let duration =
        Duration::try_from_secs_f64(seconds).map_err(|_| format!("{text:?} is out of range"))?;
    if duration < Duration::from_millis(1) {
        return Err("the duration must be at least 1ms".to_string());
    }
    if duration > load::MAX_PHASE {
        return Err("the duration must be at most a week (168h)".to_string());
    }
    Ok(duration)
}

/// The exit code of a command ended by Ctrl-C (128 + SIGINT), as shells report it.
const INTERRUPTED: u8 = 130;

/// How a run that started ended.
enum Finished {
    Completed,
    Interrupted,
}

/// Why the run could not start, with the exit code it maps to.
struct Failure {
    exit: Exit,
    message: String,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Failure {
        Failure {
            exit: Exit::Usage,
            message: message.into(),
        }
    }

    /// An error of a call at the start: a server that cannot be reached, or does not speak
    /// the API, is "unreachable" (5); anything else (a refused login) is a failure (1).
    fn at_start(what: &str, error: &ApiError) -> Failure {
        let exit = if error.is_offline() || error.kind == crate::client::ErrorKind::Protocol {
            Exit::Unreachable
        } else {
            Exit::Failed
        };
        // The client's own words suit the workstation, which retries; here nothing does.
        let message = match error.kind {
            crate::client::ErrorKind::Unreachable => {
                "no connection (is the server running, and is the address right?)".to_string()
            }
            _ => error.message.clone(),
        };
        Failure {
            exit,
            message: format!("{what}: {message}"),
        }
    }
}

/// Runs `synapse bench` and returns its exit code. `server` is the global `--server` flag,
/// resolved like every client command (flag, `SYNAPSE_SERVER`, config `[client] server`).
pub async fn run(
    args: BenchArgs,
    file: &ClientFile,
    server: Option<String>,
    env: &Environment,
    json: bool,
) -> ExitCode {
    match run_inner(args, file, server, env, json).await {
        Ok(Finished::Completed) => Exit::Ok.into(),
        Ok(Finished::Interrupted) => ExitCode::from(INTERRUPTED),
        Err(failure) => {
            eprintln!("synapse bench: {}", failure.message);
            failure.exit.into()
        }
    }
}

async fn run_inner(
    args: BenchArgs,
    file: &ClientFile,
    server: Option<String>,
    env: &Environment,
    json: bool,
) -> Result<Finished, Failure> {
    // The token store is not used: the session lives only in this process.
    let settings = crate::client::settings::resolve(file, server, env)
        .map_err(|e| Failure::usage(format!("{e:#}")))?;
    let server_url = settings.server_url.clone().ok_or_else(|| {
        Failure::usage(
            "no server to benchmark: pass --server URL, set SYNAPSE_SERVER, or set server in the [client] table of the config file",
        )
    })?;
    let client = ApiClient::new(&settings.client_config(&server_url)).map_err(|e| Failure {
        exit: Exit::Failed,
        message: e.message,
    })?;

    client
        .health()
        .await
        .map_err(|e| Failure::at_start(&format!("cannot reach {server_url}"), &e))?;
    // Log in once before the load even for the login scenario: a wrong password repeated by
    // every virtual user would lock the account.
    client
        .login(&args.email, &args.password)
        .await
        .map_err(|e| Failure::at_start(&format!("cannot log in as {}", args.email), &e))?;
    let terms: Vec<String> = args
        .terms
        .iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    let words = if args.scenario == Scenario::Search && terms.is_empty() {
        let page = client
            .list_patients(&load::patients_page())
            .await
            .map_err(|e| Failure::at_start("cannot list patients for the search", &e))?;
        page.items
            .iter()
            .map(|p| load::surname(&p.full_name))
            .collect()
    } else {
        Vec::new()
    };

    let health_duration = (args.duration / HEALTH_SHARE).max(MIN_HEALTH_PHASE);
    let progress = Arc::new(Progress::new(health_duration + args.duration));
    let (stop_sender, stop) = watch::channel(false);
    let shared = Arc::new(Shared {
        client,
        email: args.email.clone(),
        password: args.password.clone(),
        words,
        terms,
        progress: progress.clone(),
        stop,
    });
    // Ctrl-C ends the run early; what was measured is still reported.
    let interrupt = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = stop_sender.send(true);
        }
    });
    eprintln!(
        "synapse bench: {} on {server_url}, {} virtual users: /health for {:.1} s, then the scenario for {:.1} s",
        args.scenario.name(),
        args.concurrency,
        health_duration.as_secs_f64(),
        args.duration.as_secs_f64(),
    );
    let bar = ProgressLine::start(progress.clone());

    progress.set_phase("health");
    let health = load::run_phase(
        &PhasePlan {
            workload: Workload::Health,
            concurrency: args.concurrency,
            duration: health_duration,
            max_requests: args.max_requests,
            // The reference is the round trip at full speed: think time would make it a
            // measure of the pause instead.
            think: Duration::ZERO,
        },
        &shared,
    )
    .await;
    progress.set_phase(args.scenario.name());
    let scenario = load::run_phase(
        &PhasePlan {
            workload: Workload::Scenario(args.scenario),
            concurrency: args.concurrency,
            duration: args.duration,
            max_requests: args.max_requests,
            think: Duration::from_millis(args.think_ms),
        },
        &shared,
    )
    .await;
    if let Some(bar) = bar {
        bar.finish().await;
    }
    let interrupted = *shared.stop.borrow();
    interrupt.abort();

    let health_row = health.samples.summary(Endpoint::Health, health.elapsed);
    let reference = health_row.requests_per_s;
    let mut endpoints = vec![health_row];
    for &endpoint in args.scenario.endpoints() {
        endpoints.push(scenario.samples.summary(endpoint, scenario.elapsed));
    }
    let mut total = scenario
        .samples
        .total(args.scenario.endpoints(), scenario.elapsed);
    for row in endpoints.iter_mut().chain(std::iter::once(&mut total)) {
        row.relative_to(reference);
    }
    let report = BenchReport {
        server: server_url,
        scenario: args.scenario.name(),
        concurrency: args.concurrency,
        think_ms: args.think_ms,
        max_requests: args.max_requests,
        health_seconds: health.elapsed.as_secs_f64(),
        scenario_seconds: scenario.elapsed.as_secs_f64(),
        interrupted,
        endpoints,
        total,
    };
    if json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_table());
    }
    Ok(if interrupted {
        Finished::Interrupted
    } else {
        Finished::Completed
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        for bad in [
            "",
            "s",
            "30x",
            "-1s",
            "0s",
            "1e999s",
            "ms30",
            "169h",
            "99999999999999h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn mixed_covers_a_doctors_day() {
        let names: Vec<&str> = Scenario::Mixed
            .endpoints()
            .iter()
            .map(|e| e.name())
            .collect();
        assert_eq!(
            names,
            [
                "patients.list",
                "patients.search",
                "patients.get",
                "consultation.history",
                "reports.list",
                "reports.get",
                "reports.stats"
            ]
        );
    }
}
