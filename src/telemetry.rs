//! The families `/metrics` shows beyond the HTTP ones, each named, described and labelled in
//! this one place: sign-ins by outcome, lockouts, rate-limit refusals, the database pool, the
//! audit queue, report generation, event streams, the build and the process. Labels take only
//! the fixed values written here, never anything a client sent, so the exposition stays small
//! and free of patient data. The store and the server call these functions; this module
//! depends on nothing of theirs.

use std::sync::OnceLock;

/// Describes every family once, when the recorder is installed, so each has its HELP line
/// even before its first value.
pub fn describe() {
    metrics::describe_counter!(
        "synapse_logins_total",
        "Sign-in attempts by outcome: success, failure, locked, disabled, rate_limited."
    );
    metrics::describe_counter!(
        "synapse_lockouts_total",
        "Failed sign-ins that locked an email out (of one address or of everywhere)."
    );
    metrics::describe_counter!(
        "synapse_rate_limited_total",
        "Requests refused with 429, by what the limit is kept for: user, address, login."
    );
    metrics::describe_gauge!(
        "synapse_db_connections",
        "Connections of the database pool for writes, by state: open, idle."
    );
    metrics::describe_gauge!(
        "synapse_audit_queue_rows",
        "Audit rows of reads waiting to be stored."
    );
    metrics::describe_counter!(
        "synapse_audit_batches_total",
        "Group-committed batches of audit rows, by outcome: stored, failed."
    );
    metrics::describe_counter!(
        "synapse_report_generations_total",
        "Report drafts generated, by outcome: completed, failed."
    );
    metrics::describe_gauge!(
        "synapse_event_streams",
        "Live event streams open on this instance."
    );
    metrics::describe_gauge!(
        "synapse_build_info",
        "Always 1; the version of this build is its label."
    );
    metrics::gauge!("synapse_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    process().describe();
}

/// The process family (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
/// `process_open_fds`, …), read from the operating system at each scrape.
fn process() -> &'static metrics_process::Collector {
    static COLLECTOR: OnceLock<metrics_process::Collector> = OnceLock::new();
    COLLECTOR.get_or_init(metrics_process::Collector::default)
}

/// What the store tells of itself at a scrape (`Store::status`).
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreStatus {
    /// Open connections of the pool for writes, and how many of them are idle.
    pub pool_open: u32,
    pub pool_idle: usize,
    /// Audit rows of reads queued and not yet stored.
    pub audit_queued: usize,
}

/// Sets the gauges that are read rather than counted, just before a scrape renders: reading
/// them there costs a request nothing.
pub fn before_scrape(store: StoreStatus, event_streams: usize) {
    metrics::gauge!("synapse_db_connections", "state" => "open").set(f64::from(store.pool_open));
    metrics::gauge!("synapse_db_connections", "state" => "idle").set(store.pool_idle as f64);
    metrics::gauge!("synapse_audit_queue_rows").set(store.audit_queued as f64);
    metrics::gauge!("synapse_event_streams").set(event_streams as f64);
    process().collect();
}

/// How a sign-in attempt ended.
#[derive(Debug, Clone, Copy)]
pub enum Login {
    Success,
    Failure,
    Locked,
    Disabled,
    RateLimited,
}

pub fn login(outcome: Login) {
    let outcome = match outcome {
        Login::Success => "success",
        Login::Failure => "failure",
        Login::Locked => "locked",
        Login::Disabled => "disabled",
        Login::RateLimited => "rate_limited",
    };
    metrics::counter!("synapse_logins_total", "outcome" => outcome).increment(1);
}

/// A failed sign-in locked an email out.
pub fn lockout() {
    metrics::counter!("synapse_lockouts_total").increment(1);
}

/// What a refused request's limit is kept for.
#[derive(Debug, Clone, Copy)]
pub enum Limited {
    User,
    Address,
    Login,
}

pub fn rate_limited(by: Limited) {
    let by = match by {
        Limited::User => "user",
        Limited::Address => "address",
        Limited::Login => "login",
    };
    metrics::counter!("synapse_rate_limited_total", "by" => by).increment(1);
}

pub fn audit_batch(stored: bool) {
    let outcome = if stored { "stored" } else { "failed" };
    metrics::counter!("synapse_audit_batches_total", "outcome" => outcome).increment(1);
}

pub fn report_generation(completed: bool) {
    let outcome = if completed { "completed" } else { "failed" };
    metrics::counter!("synapse_report_generations_total", "outcome" => outcome).increment(1);
}
