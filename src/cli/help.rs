//! The help topics beside the commands' own help: `synapse help exit-codes` and
//! `synapse help environment`. Plain text, kept here so the README, the man page and the
//! binary say the same thing.

/// The topics `synapse help TOPIC` knows, with a line each for the list.
pub const TOPICS: [(&str, &str); 2] = [
    ("exit-codes", "what each exit status of a command means"),
    ("environment", "every SYNAPSE_* variable and what it sets"),
];

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
