//! The help topics beside the commands' own help: `synapse help exit-codes` and
//! `synapse help environment`. Plain text, kept here so the README, the man page and the
//! binary say the same thing.

/// The topics `synapse help TOPIC` knows, with a line each for the list.
pub const TOPICS: [(&str, &str); 2] = [
    ("exit-codes", "what each exit status of a command means"),
    ("environment", "every SYNAPSE_* variable and what it sets"),
];

/// Each command's examples, by its path (`""` is `synapse` itself), shown after its help.
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "",
        "Examples:\n  synapse                                   # the workstation (an embedded demo server without one)\n  synapse --server https://synapse.clinic.example\n  synapse login --server https://synapse.clinic.example --email doc@demo.com",
    ),
    (
        "login",
        "Example:\n  synapse login --server https://synapse.clinic.example --email doc@demo.com\n  printf '%s\\n' \"$PASSWORD\" | synapse login --email doc@demo.com --password-stdin",
    ),
    ("logout", "Example:\n  synapse logout --profile lab"),
    ("whoami", "Example:\n  synapse whoami --format json"),
    ("auth", "Example:\n  synapse auth status"),
    ("auth status", "Example:\n  synapse auth status --json"),
    (
        "auth token",
        "Example:\n  export SYNAPSE_TOKEN=$(synapse auth token)",
    ),
    (
        "auth mfa",
        "Examples:\n  synapse auth mfa enroll\n  synapse auth mfa confirm --code 123456",
    ),
    (
        "auth mfa enroll",
        "Example:\n  synapse auth mfa enroll              # scan the QR code, then type the app's code",
    ),
    (
        "auth mfa confirm",
        "Example:\n  synapse auth mfa confirm --code 123456",
    ),
    (
        "admin keygen",
        "Example:\n  synapse admin keygen --out /etc/synapse/data-keys",
    ),
    (
        "admin rotate-key",
        "Example:\n  synapse admin --database sqlite:///var/lib/synapse/synapse.db rotate-key",
    ),
    (
        "admin reset-mfa",
        "Example:\n  synapse admin reset-mfa --email doc@clinic.example",
    ),
    (
        "patients",
        "Example:\n  synapse patients list --all --format csv > patients.csv",
    ),
    (
        "patients list",
        "Examples:\n  synapse patients list --search smith\n  synapse patients list --all --format ndjson --fields mrn,full_name",
    ),
    (
        "patients search",
        "Example:\n  synapse patients search smi --fields mrn,full_name,date_of_birth",
    ),
    (
        "patients show",
        "Example:\n  synapse patients show MRN-000001 --json",
    ),
    (
        "patients export",
        "Example:\n  synapse patients export MRN-000001 --format md -o record.md",
    ),
    (
        "reports",
        "Example:\n  synapse reports list --status completed",
    ),
    (
        "reports list",
        "Examples:\n  synapse reports list --patient MRN-000001 --from 2026-01-01\n  synapse reports list --all --format csv --fields id,status,patient.mrn,created_at",
    ),
    (
        "reports show",
        "Example:\n  synapse reports show 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
    ),
    (
        "reports sign",
        "Example:\n  synapse reports sign 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b --version 3",
    ),
    (
        "reports stats",
        "Example:\n  synapse reports stats --fields total,unsigned",
    ),
    (
        "reports export",
        "Example:\n  synapse reports export 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b -o report.pdf",
    ),
    (
        "serve",
        "Example:\n  SYNAPSE_JWT_SECRET=$(openssl rand -hex 32) synapse serve --listen 0.0.0.0:8080 \\\n    --database postgres://synapse@db/synapse\n  synapse serve --demo\n\nEnvironment:\n  SYNAPSE_LISTEN (--listen), SYNAPSE_DATABASE_URL (--database), SYNAPSE_TLS_CERT (--tls-cert),\n  SYNAPSE_TLS_KEY (--tls-key), SYNAPSE_JWT_SECRET, SYNAPSE_LOG, SYNAPSE_LOG_FORMAT and the\n  limits and timeouts: every one in `synapse help environment`.",
    ),
    (
        "admin",
        "Example:\n  synapse admin --database sqlite:///var/lib/synapse/synapse.db list-users",
    ),
    (
        "admin create-user",
        "Example:\n  synapse admin create-user --email adm@clinic.example --full-name 'Alex Morgan' --role admin",
    ),
    (
        "admin list-users",
        "Example:\n  synapse admin list-users --format csv --fields email,role,disabled",
    ),
    (
        "admin unlock",
        "Example:\n  synapse admin unlock --email doc@clinic.example",
    ),
    (
        "admin disable",
        "Example:\n  synapse admin disable --email doc@clinic.example",
    ),
    (
        "admin enable",
        "Example:\n  synapse admin enable --email doc@clinic.example",
    ),
    (
        "admin reset-password",
        "Example:\n  synapse admin reset-password --email doc@clinic.example",
    ),
    (
        "admin revoke-sessions",
        "Example:\n  synapse admin revoke-sessions --email doc@clinic.example",
    ),
    ("admin audit", "Example:\n  synapse admin audit verify"),
    (
        "admin audit export",
        "Example:\n  synapse admin audit export --from 2026-01-01 --to 2026-01-31 --format csv > january.csv",
    ),
    (
        "admin audit verify",
        "Example:\n  synapse admin audit verify --expect-head 1234:9f86d081884c7d65",
    ),
    (
        "admin backup",
        "Example:\n  synapse admin backup --to /var/backups/synapse/2026-01-31",
    ),
    (
        "admin restore",
        "Example:\n  synapse admin restore --from /var/backups/synapse/2026-01-31",
    ),
    (
        "migrate",
        "Example:\n  synapse migrate --check --database postgres://synapse@db/synapse",
    ),
    (
        "seed",
        "Example:\n  synapse seed --patients 100000 --doctors 10\n  SYNAPSE_DATABASE_URL=postgres://postgres@127.0.0.1/bench synapse seed --patients 1000 --yes",
    ),
    (
        "help",
        "Examples:\n  synapse help reports list\n  synapse help exit-codes",
    ),
    (
        "bench",
        "Example:\n  synapse bench --server http://127.0.0.1:8080 --duration 10s --scenario list --json",
    ),
    (
        "completions",
        "Examples:\n  synapse completions bash > ~/.local/share/bash-completion/completions/synapse\n  synapse completions zsh > \"${fpath[1]}/_synapse\"",
    ),
    (
        "man",
        "Example:\n  synapse man -o ~/.local/share/man/man1 && man synapse-reports-list",
    ),
];

/// The examples of the command at `path` (`"reports list"`), if it has some.
pub fn example(path: &str) -> Option<&'static str> {
    EXAMPLES
        .iter()
        .find(|(name, _)| *name == path)
        .map(|(_, text)| *text)
}

/// The text of a topic, if `name` is one.
pub fn topic(name: &str) -> Option<&'static str> {
    match name {
        "exit-codes" => Some(EXIT_CODES),
        "environment" => Some(ENVIRONMENT),
        _ => None,
    }
}

pub const EXIT_CODES: &str = "\
Exit codes of the scripting commands (login, logout, whoami, auth, patients, reports):

  0  success
  1  a failure not listed below (e.g. a report changed since the version you read, so it was
     not signed; the token store could not be written)
  2  usage: a bad flag, argument, config file or variable, or a value the server refused as
     invalid (HTTP 400 and 422); the message names the flag
  3  authentication: not logged in, the session ended, a wrong password, a locked or disabled
     account, SYNAPSE_TOKEN refused or expired, or a token store asked for that cannot be used
  4  not found: no such patient (id or MRN) or report
  5  the server is unreachable, timed out, or failed (HTTP 5xx, or not a Synapse server)

`synapse migrate --check` also exits 10 when migrations are pending.
";

pub const ENVIRONMENT: &str = "\
Every setting is its flag, else its variable, else the config file, else the default; an empty
variable counts as unset.

Scripting and the workstation:
  SYNAPSE_SERVER             the server (--server); else the profile's, else the config file's
  SYNAPSE_PROFILE            the profile to use (--profile); else the one the last login used
  SYNAPSE_PROFILES           the profiles file (default: profiles.toml in the config directory,
                             $XDG_CONFIG_HOME/synapse or ~/.config/synapse)
  SYNAPSE_TOKEN              an access token to use instead of a saved session, for cron, CI and
                             containers: `export SYNAPSE_TOKEN=$(synapse auth token)`. It lasts
                             the server's access-token lifetime (15 minutes by default) and is
                             never renewed or saved; get a new one for each run
  SYNAPSE_TOKEN_STORE        where a login is kept: auto, secret-service, keyutils, memory
                             (--token-store)
  SYNAPSE_CONNECT_TIMEOUT_S  seconds to wait for a connection (3)
  SYNAPSE_REQUEST_TIMEOUT_S  seconds to wait for a whole request (15)
  SYNAPSE_CA_CERTIFICATE     an extra CA certificate (PEM) to trust
  SYNAPSE_LOCK_MINUTES       minutes without a key before the workstation locks
  SYNAPSE_LOG                log filter (error, warn, info, debug, or a tracing filter)

Every command:
  SYNAPSE_CONFIG             the config file (--config; default ~/.config/synapse/config.toml)
  SYNAPSE_DATA_DIR           the data directory (default ~/.local/share/synapse)
  SYNAPSE_DATABASE_URL       the database of serve, seed, admin and migrate (--database)
  SYNAPSE_KEY_FILE           the data keys of serve, seed and admin (key_file; make one with
                             `synapse admin keygen --out PATH`)
  SYNAPSE_DATA_KEYS          the data keys themselves, in the key file's form (`id = base64`
                             lines, or separated by `;`); takes precedence over a key file

The server (synapse serve):
  SYNAPSE_LISTEN                           address to listen on (--listen)
  SYNAPSE_JWT_SECRET                       key that signs access tokens (32+ characters)
  SYNAPSE_JWT_PREVIOUS_SECRET              the key before it, still accepted while rotating
  SYNAPSE_ACCESS_TOKEN_TTL_S               access-token lifetime (900)
  SYNAPSE_REFRESH_TOKEN_TTL_S              refresh-token lifetime
  SYNAPSE_SESSION_LIFETIME_S               a session's longest life
  SYNAPSE_SESSION_IDLE_TIMEOUT_S           a session's idle timeout
  SYNAPSE_LOCKOUT_THRESHOLD                failed logins from one address before a pause
  SYNAPSE_LOCKOUT_ACCOUNT_THRESHOLD        failed logins from all addresses before a pause
  SYNAPSE_LOCKOUT_MINUTES                  how long a pause lasts
  SYNAPSE_HASHING_CONCURRENCY              password hashes computed at once
  SYNAPSE_LOGIN_ATTEMPTS_PER_MINUTE        login attempts per address per minute
  SYNAPSE_REQUESTS_PER_MINUTE_PER_USER     API calls per user per minute
  SYNAPSE_REQUESTS_PER_MINUTE_PER_ADDRESS  API calls per address per minute, without a token
  SYNAPSE_TRUSTED_PROXIES                  reverse proxies whose X-Forwarded-For is believed
  SYNAPSE_REQUIRE_MFA                      roles that must have a second factor (comma-separated)
  SYNAPSE_EVENT_HEARTBEAT_S                seconds between event-stream heartbeats
  SYNAPSE_EVENT_REPLAY                     events kept for streams that resume
  SYNAPSE_EVENT_STREAMS_PER_USER           event streams one user may have open
  SYNAPSE_TLS_CERT, SYNAPSE_TLS_KEY        serve HTTPS with this certificate and key
  SYNAPSE_HEADER_READ_TIMEOUT_S            seconds to send a request's head
  SYNAPSE_BODY_TIMEOUT_S                   seconds to send a request's body
  SYNAPSE_IDLE_TIMEOUT_S                   seconds a kept-alive connection may idle
  SYNAPSE_MAX_CONNECTIONS                  open connections at once
  SYNAPSE_MAX_CONNECTIONS_PER_ADDRESS      open connections at once from one address
  SYNAPSE_LOG_FORMAT                       log lines as text or json
  SYNAPSE_SHUTDOWN_GRACE_S                 seconds SIGTERM waits for started requests (10)
  SYNAPSE_AUDIT_RESERVE_MB                 disk kept so reads go on when it fills (32; SQLite)
  SYNAPSE_FHIR_MRN_SYSTEM                  the FHIR identifier system of the MRN

config.example.toml describes each setting at length.
";

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variable the code reads is listed: a new one must be added here too.
    #[test]
    fn the_environment_topic_lists_every_variable_the_code_reads() {
        let sources = [
            include_str!("../config.rs"),
            include_str!("../main.rs"),
            include_str!("../server/settings.rs"),
            include_str!("../client/settings.rs"),
            include_str!("../credentials/settings.rs"),
            include_str!("../tui/settings.rs"),
            include_str!("profiles.rs"),
            include_str!("mod.rs"),
        ];
        for source in sources {
            for (at, _) in source.match_indices("\"SYNAPSE_") {
                // `env!("SYNAPSE_…")` is the build's stamp, read when compiling, not a setting.
                if source[..at].ends_with("env!(") {
                    continue;
                }
                let piece = &source[at + "\"SYNAPSE_".len()..];
                let name: String = piece
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if name.is_empty() || !piece[name.len()..].starts_with('"') {
                    continue;
                }
                assert!(
                    ENVIRONMENT.contains(&format!("SYNAPSE_{name}")),
                    "SYNAPSE_{name} is missing from `synapse help environment`"
                );
            }
        }
        assert!(ENVIRONMENT.contains("SYNAPSE_TOKEN "));
    }
}
