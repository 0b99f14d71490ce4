//! The `synapse` binary: the workstation (no subcommand; with no server configured, over an
//! embedded demo server), the scripting CLI and `bench`, the clinical API server (`serve`), the
//! operator's commands on the database (`admin`) and data seeding (`seed`). The only place that
//! sees both sides: it parses the command line, reads the config file and the process's
//! environment, and hands each room its settings.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use synapse::config::{self, ConfigFile, Environment};
use synapse::console::Exit;
use synapse::console::output::OutputArgs;
use synapse::server::settings::ServeFlags;
use synapse::server::{self, AppState};
use synapse::store::ConsoleOperator;
use synapse::store::sqlite::SqliteStore;
use synapse::store::{Store, demo};
use synapse::{admin, bench, cli, client, credentials, logging, tui};

/// `synapse --version`: the release, the commit and the build date (see build.rs).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("SYNAPSE_COMMIT"),
    ", built ",
    env!("SYNAPSE_BUILD_DATE"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "synapse",
    version = VERSION,
    about = "A keyboard-driven clinical workstation and the API it drives",
    // Our own `help`, which also knows the topics (exit-codes, environment).
    disable_help_subcommand = true
)]
struct Cli {
    /// Config file (default: ~/.config/synapse/config.toml, or SYNAPSE_CONFIG).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// The workstation's server, e.g. https://synapse.clinic.example (else SYNAPSE_SERVER, else
    /// the config file; without one, an embedded demo server).
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// The named profile (a remembered server) to use: else SYNAPSE_PROFILE, else the one the
    /// last `synapse login` used.
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Where the session is remembered: auto, secret-service, keyutils or memory.
    #[arg(long, value_name = "STORE")]
    token_store: Option<String>,
    /// Before a command's name, the same as after it (`synapse --json whoami`).
    #[arg(long, hide = true)]
    json: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

impl Cli {
    /// The flags given before the command's name that a command other than the workstation
    /// and the scripting commands would ignore: named in a usage error instead.
    fn misplaced(&self) -> Option<(&'static str, &'static str)> {
        let name = match &self.command {
            None | Some(Command::Client(_)) => return None,
            Some(Command::Bench(_)) => {
                return (self.profile.is_some() || self.token_store.is_some()).then_some((
                    if self.profile.is_some() {
                        "--profile"
                    } else {
                        "--token-store"
                    },
                    "bench",
                ));
            }
            Some(Command::Admin(_)) => "admin",
            Some(Command::Serve(_)) => "serve",
            Some(Command::Migrate(_)) => "migrate",
            Some(Command::Seed(_)) => "seed",
            Some(Command::Help { .. }) => "help",
            Some(Command::Completions { .. }) => "completions",
            Some(Command::Man { .. }) => "man",
        };
        let flag = if self.server.is_some() {
            "--server"
        } else if self.profile.is_some() {
            "--profile"
        } else if self.token_store.is_some() {
            "--token-store"
        } else if self.json && name != "admin" {
            "--json"
        } else {
            return None;
        };
        Some((flag, name))
    }
}

#[derive(Subcommand)]
enum Command {
    #[command(flatten)]
    Client(cli::Command),
    /// Run the Synapse API server.
    Serve(ServeFlags),
    /// Administer accounts and export the audit trail, on the database directly (no server
    /// needs to run). Every change is audited with your operating-system account.
    Admin(admin::AdminArgs),
    /// Report (--check) or apply the database's pending schema migrations.
    Migrate(admin::migrate::MigrateArgs),
    /// Add synthetic doctors, patients, consultations and reports (for benchmarks).
    Seed(SeedArgs),
    /// Help on a command (`synapse help reports list`) or a topic: exit-codes, environment.
    Help {
        /// A command path, or a topic.
        topic: Vec<String>,
    },
    /// Load-test a server over HTTP: per endpoint requests/s, latency percentiles and errors,
    /// measured beside the bare round trip of /health.
    Bench(bench::BenchArgs),
    /// Print the shell completion script for bash, zsh, fish, elvish or powershell.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Write the manual pages (synapse.1 and one for each command) to a directory.
    Man {
        /// The directory to write them to (created if missing).
        #[arg(short = 'o', long = "output", value_name = "DIR", default_value = ".")]
        output: PathBuf,
    },
}

/// The flags of `synapse seed`.
#[derive(Args)]
struct SeedArgs {
    /// How many patients to add.
    #[arg(long)]
    patients: usize,
    /// How many synthetic doctor accounts to spread them over.
    #[arg(long, default_value_t = 1)]
    doctors: usize,
    /// Database URL [default: synapse.db in the data directory].
    #[arg(long)]
    database: Option<String>,
    /// Random seed; the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Add the synthetic accounts without asking, even to a database with real users.
    #[arg(long, short = 'y')]
    yes: bool,
}

/// The command line with every command's example (from `cli::help::EXAMPLES`) in its help.
fn command() -> clap::Command {
    use clap::CommandFactory;
    with_examples(Cli::command(), "")
}

fn with_examples(mut command: clap::Command, path: &str) -> clap::Command {
    let names: Vec<String> = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_string())
        .collect();
    for name in names {
        let inner = if path.is_empty() {
            name.clone()
        } else {
            format!("{path} {name}")
        };
        command = command.mut_subcommand(&name, |sub| with_examples(sub, &inner));
    }
    match cli::help::example(path) {
        Some(example) => {
            let text = match command.get_after_help() {
                Some(before) => format!("{before}\n\n{example}"),
                None => example.to_string(),
            };
            command.after_help(text)
        }
        None => command,
    }
}

fn main() -> std::process::ExitCode {
    use clap::FromArgMatches;
    let cli = match Cli::from_arg_matches(&command().get_matches()) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    if let Some((flag, name)) = cli.misplaced() {
        eprintln!(
            "synapse: {flag} does not apply to `synapse {name}`: it is for the workstation and \
             the commands that talk to a server (see `synapse {name} --help`)"
        );
        return Exit::Usage.into();
    }
    let env = Environment::from_os(std::env::vars_os());
    // The workstation does one thing at a time for one person: a single-threaded runtime keeps
    // it small (fewer threads, fewer allocator arenas). Servers and load tools use every core.
    let mut builder = if cli.command.is_none() {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("synapse: cannot start: {error}");
            return std::process::ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli, &env)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("synapse: {error:#}");
            std::process::ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli, env: &Environment) -> anyhow::Result<std::process::ExitCode> {
    // A config file that cannot be read or parsed is the user's to fix: a usage error.
    let file = match config::load_file(cli.config.as_deref(), env) {
        Ok(file) => file,
        Err(error) => {
            eprintln!("synapse: {error:#}");
            return Ok(Exit::Usage.into());
        }
    };
    match cli.command {
        None => workstation(&file, cli.server, cli.token_store, env).await?,
        Some(Command::Client(command)) => {
            // Like the workstation: to the log file, at SYNAPSE_LOG's level; stderr stays the
            // user's. A command that cannot log still runs.
            let level = env.get("SYNAPSE_LOG").unwrap_or("info");
            if let Err(error) =
                config::create_data_dir(env).and_then(|dir| logging::init_cli(&dir, level))
            {
                eprintln!("synapse: warning: no log file ({error:#})");
            }
            let globals = cli::Globals {
                connection: cli::Connection {
                    server: cli.server,
                    profile: cli.profile,
                    token_store: cli.token_store,
                },
                output: synapse::console::output::OutputArgs {
                    json: cli.json,
                    ..Default::default()
                },
            };
            return Ok(cli::run(command, globals, &file.client, env).await);
        }
        Some(Command::Bench(args)) => {
            let server = args.server.clone().or(cli.server);
            let json = args.json || cli.json;
            return Ok(bench::run(args, &file.client, server, env, json).await);
        }
        Some(Command::Serve(flags)) => serve(&file, &flags, env).await?,
        Some(Command::Admin(args)) => {
            let outer = OutputArgs {
                json: cli.json,
                ..OutputArgs::default()
            };
            return Ok(administer(&file, args, env, &outer).await);
        }
        Some(Command::Seed(args)) => return seed(&file, args, env).await,
        Some(Command::Migrate(args)) => return Ok(admin::migrate::run(args, &file, env).await),
        Some(Command::Help { topic }) => return Ok(help(&topic)),
        Some(Command::Completions { shell }) => {
            clap_complete::generate(shell, &mut command(), "synapse", &mut std::io::stdout());
        }
        Some(Command::Man { output }) => return Ok(man(&output)),
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// `synapse help [COMMAND…|TOPIC]`: a topic's text, else the named command's help.
fn help(words: &[String]) -> std::process::ExitCode {
    if let [word] = words
        && let Some(text) = cli::help::topic(word)
    {
        print!("{text}");
        return Exit::Ok.into();
    }
    let mut command = command();
    for word in words {
        match command.find_subcommand(word) {
            Some(sub) => command = sub.clone(),
            None => {
                let topics = cli::help::TOPICS
                    .iter()
                    .map(|(name, _)| *name)
                    .collect::<Vec<_>>()
                    .join(", ");
                eprintln!(
                    "synapse: no command or help topic {word:?}: run `synapse --help` for the \
                     commands; the topics are {topics}"
                );
                return Exit::Usage.into();
            }
        }
    }
    let printed = if words.is_empty() {
        let topics = cli::help::TOPICS
            .iter()
            .map(|(name, about)| format!("  {name:<12} {about}"))
            .collect::<Vec<_>>()
            .join("\n");
        command
            .after_help(format!("Help topics (synapse help TOPIC):\n{topics}"))
            .print_long_help()
    } else {
        command
            .bin_name(format!("synapse {}", words.join(" ")))
            .print_long_help()
    };
    match printed {
        Ok(()) => Exit::Ok.into(),
        Err(_) => Exit::Failed.into(),
    }
}

/// `synapse man -o DIR`: synapse.1 and a page for each command (synapse-reports-list.1, …).
fn man(dir: &std::path::Path) -> std::process::ExitCode {
    let written =
        std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(command(), dir));
    match written {
        Ok(()) => {
            println!("{}", dir.display());
            Exit::Ok.into()
        }
        Err(error) => {
            eprintln!(
                "synapse: cannot write the manual pages to {}: {error}",
                dir.display()
            );
            Exit::Failed.into()
        }
    }
}

/// The workstation: against the configured server, or an embedded one with demo data.
async fn workstation(
    file: &ConfigFile,
    server: Option<String>,
    token_store: Option<String>,
    env: &Environment,
) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "the workstation needs a terminal; for scripts use `synapse patients …`, `synapse reports …` or `synapse serve`"
        );
    }
    // The terminal belongs to the screen; without a log the workstation could not be supported.
    let level = env.get("SYNAPSE_LOG").unwrap_or("info");
    if let Err(error) =
        config::create_data_dir(env).and_then(|dir| logging::init_workstation(&dir, level))
    {
        eprintln!("synapse: no log file ({error:#}); carrying on without one");
    }
    let client_settings = client::settings::resolve(&file.client, server, env)?;
    let token_store = credentials::settings::resolve(&file.client, token_store, env)?;
    let tui_settings = tui::settings::resolve(&file.tui, env)?;
    let (server_url, session_key, demo_accounts) = match &client_settings.server_url {
        Some(url) => (url.clone(), url.clone(), Vec::new()),
        None => {
            let (url, database) = embedded_server(file, env).await?;
            let accounts = demo::DEMO_ACCOUNTS
                .iter()
                .map(|(email, _, role)| format!("{email} ({})", role.as_str()))
                .collect();
            (url, format!("embedded:{database}"), accounts)
        }
    };
    let client = client::ApiClient::new(&client_settings.client_config(&server_url))?;
    let token_store = credentials::TokenStore::open(token_store).await;
    tui::run(tui::Launch {
        client,
        token_store,
        session_key,
        settings: tui_settings,
        demo_accounts,
    })
    .await
}

/// Starts the API in this process on a free loopback port, over the configured database (by
/// default the SQLite file in the data directory) with demo data loaded on first creation.
/// Returns its URL and database.
async fn embedded_server(file: &ConfigFile, env: &Environment) -> anyhow::Result<(String, String)> {
    let flags = ServeFlags {
        listen: Some("127.0.0.1:0".to_string()),
        database: None,
        demo: true,
        ..ServeFlags::default()
    };
    let settings = server::settings::resolve(file, &flags, env)?;
    server::settings::install_data_keys(file, env, &settings.database_url, true)?;
    let store = open_store(&settings.database_url, Some(settings.audit_reserve_mb)).await?;
    demo::load_demo(store.as_ref()).await?;
    let state = AppState::new(store, settings.server.clone())?;
    let listener = tokio::net::TcpListener::bind(settings.listen).await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        // Runs until the process exits with the workstation.
        let _ = server::serve(listener, state, std::future::pending()).await;
    });
    Ok((url, settings.database_url))
}

/// `synapse seed`: synthetic data into the database every command resolves alike.
async fn seed(
    file: &ConfigFile,
    args: SeedArgs,
    env: &Environment,
) -> anyhow::Result<std::process::ExitCode> {
    use std::io::IsTerminal;
    let url = config::database_url(args.database, file, env)?;
    server::settings::install_data_keys(file, env, &url, false)?;
    let store = open_bulk_store(&url).await?;
    if !args.yes {
        let operator = ConsoleOperator {
            os_user: admin::os_user(env),
            run_id: uuid::Uuid::now_v7(),
        };
        let real = demo::real_accounts(store.as_ref(), operator).await?;
        if real > 0 {
            let question = format!(
                "The database has {real} account(s) that are neither demo nor synthetic ones: \
                 add synthetic doctors (password {}) to it? [y/N] ",
                demo::DEMO_PASSWORD
            );
            if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
                eprintln!(
                    "synapse: the database has {real} real account(s); pass --yes to add \
                     synthetic doctors and patients to it anyway"
                );
                return Ok(Exit::Usage.into());
            }
            let answer =
                synapse::console::prompt::read_line(&question).map_err(|e| anyhow::anyhow!(e))?;
            if !matches!(answer.trim(), "y" | "Y" | "yes" | "Yes") {
                eprintln!("synapse: nothing was added");
                return Ok(Exit::Usage.into());
            }
        }
    }
    // A bar only for a person watching: pipes and CI logs get the summary line alone.
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(args.patients as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} patients, {per_sec}, {eta} left",
        ) {
            bar.set_style(style);
        }
        Some(bar)
    } else {
        None
    };
    let progress = |added: usize| {
        if let Some(bar) = &bar {
            bar.inc(added as u64);
        }
    };
    let summary = demo::seed_with_progress(
        store.as_ref(),
        args.patients,
        args.doctors,
        args.seed,
        &progress,
    )
    .await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let summary = summary?;
    println!(
        "Added {} patients in {:.1} s ({:.1} s of it building indexes) for {} (password {}).",
        summary.patients,
        summary.seconds,
        summary.finishing_seconds,
        summary.doctors.join(", "),
        demo::DEMO_PASSWORD
    );
    Ok(Exit::Ok.into())
}

/// Opens the store at `url`. A server passes its `audit_reserve_mb`, which on SQLite keeps that
/// much of the disk for the audit rows of reads when it fills; every other command passes
/// `None` and leaves the reserve of a server that may be running alone.
async fn open_store(url: &str, audit_reserve_mb: Option<u64>) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        let store = SqliteStore::open(url).await.with_context(|| {
            format!(
                "cannot open the database {url} (the server's user must be able to read and \
                     write the file and create files in its directory)"
            )
        })?;
        if let Some(megabytes) = audit_reserve_mb {
            store.keep_audit_reserve(megabytes).await;
        }
        Ok(Arc::new(store))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        // The URL may carry a password: name only the engine in the error.
        let store = synapse::store::postgres::PgStore::open(url)
            .await
            .context("cannot open the PostgreSQL database (check the URL, that the server runs, and that the user may create tables)")?;
        Ok(Arc::new(store))
    } else {
        anyhow::bail!(
            "unsupported database URL {url:?}: use sqlite:///path/to/synapse.db or postgres://user@host/database"
        )
    }
}

/// `synapse admin`: one command on the database `serve` would open, which must exist already.
async fn administer(
    file: &ConfigFile,
    args: admin::AdminArgs,
    env: &Environment,
    outer: &OutputArgs,
) -> std::process::ExitCode {
    let url = match config::database_url(args.database, file, env) {
        Ok(url) => url,
        Err(error) => {
            eprintln!("synapse: {error:#}");
            return Exit::Unreachable.into();
        }
    };
    let command = match admin::run_on_files(&url, args.command).await {
        Ok(code) => return code,
        Err(command) => command,
    };
    // Commands that read or write patients need the data keys; account commands do not, so
    // keys are installed when given, and a command that needs them says so.
    let keys = match server::settings::data_keys(file, env, &url, false) {
        Ok(keys) => keys,
        Err(error) => {
            eprintln!("synapse: {error:#}");
            return Exit::Usage.into();
        }
    };
    let key_file = env
        .get(synapse::store::cipher::KEY_FILE_VAR)
        .map(std::path::PathBuf::from)
        .or_else(|| file.server.key_file.clone());
    let command = match admin::prepare_keys(command, keys, key_file) {
        Ok(command) => command,
        Err(code) => return code,
    };
    let opened = if url.starts_with("sqlite:") {
        SqliteStore::open_existing(&url)
            .await
            .map(|store| Arc::new(store) as Arc<dyn Store>)
    } else {
        open_store(&url, None).await
    };
    let store = match opened {
        Ok(store) => store,
        Err(error) => {
            eprintln!("synapse: {error:#}");
            return Exit::Unreachable.into();
        }
    };
    let operator = ConsoleOperator {
        os_user: admin::os_user(env),
        run_id: uuid::Uuid::now_v7(),
    };
    admin::run(store.as_ref(), command, operator, outer).await
}

/// The store for `synapse seed`: tuned for loading on SQLite.
async fn open_bulk_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        let store = SqliteStore::open_for_bulk_load(url)
            .await
            .with_context(|| format!("cannot open the database {url}"))?;
        return Ok(Arc::new(store));
    }
    open_store(url, None).await
}

async fn serve(file: &ConfigFile, flags: &ServeFlags, env: &Environment) -> anyhow::Result<()> {
    let settings = server::settings::resolve(file, flags, env)?;
    logging::init_server(&settings.log_level, settings.log_format);
    if let Some(limit) = server::listener::raise_open_file_limit() {
        tracing::debug!(limit, "open-file limit");
    }
    // A certificate that cannot be used stops the server before anything else starts.
    let tls = match &settings.tls {
        Some(files) => Some(Arc::new(server::tls::Certificates::load(files.clone())?)),
        None => None,
    };
    server::settings::install_data_keys(file, env, &settings.database_url, settings.demo)?;
    let store = open_store(&settings.database_url, Some(settings.audit_reserve_mb)).await?;
    // Without writes nothing works (a login writes), so refuse now rather than answer 500s.
    store.writable().await.map_err(|error| {
        anyhow::anyhow!(
            "{error}. The server must be able to write its database: run it as the user who \
             owns the files, or give its user write access to the files and their directory \
             (on PostgreSQL, INSERT and UPDATE on the database's tables)"
        )
    })?;
    if settings.demo && demo::load_demo(store.as_ref()).await? {
        tracing::info!("demo data loaded");
    }
    if store.active_admins().await? == 0 {
        tracing::warn!(
            "no active administrator account, so nobody can manage accounts: create the first one with: {}",
            admin::first_admin_command(&settings.database_url)
        );
    }
    let state = AppState::new(store, settings.server.clone())?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}: is another server running there? Choose another with --listen",
                settings.listen
            )
        })?;
    let address = listener.local_addr()?;
    let engine = if settings.database_url.starts_with("sqlite:") {
        "sqlite"
    } else {
        "postgres"
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        %address,
        scheme,
        engine,
        demo = settings.demo,
        "Synapse API started"
    );
    // The banner is for a person at a terminal; JSON logs are for a collector, which wants
    // every line to be an object (the start line above carries the address).
    let banner = settings.log_format == logging::LogFormat::Text;
    if banner {
        eprintln!(
            "Synapse API on {scheme}://{address}/api/v1 (health: {scheme}://{address}/health)"
        );
    }
    if let Some(certificates) = &tls {
        server::tls::reload_on_hangup(certificates.clone())?;
    }
    if banner && settings.demo {
        eprintln!(
            "Demo accounts: {} — password {}",
            demo::DEMO_ACCOUNTS.map(|a| a.0).join(", "),
            demo::DEMO_PASSWORD
        );
    }
    let served = server::serve_with(listener, state, tls, shutdown_signal()).await;
    match &served {
        Ok(()) => tracing::info!("Synapse API stopped"),
        Err(error) => tracing::error!(%error, "Synapse API stopped on an error"),
    }
    served
}

/// Resolves on Ctrl-C or SIGTERM, so the server drains requests and exits cleanly.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    let signal = tokio::select! {
        _ = ctrl_c => "interrupt",
        _ = terminate => "terminate",
    };
    tracing::info!(
        signal,
        "shutting down: no new connections; open requests are finished first"
    );
}
