//! The client's settings: which server to talk to and how (timeouts, an extra CA), from the
//! global `--server` flag, `SYNAPSE_*` variables and the `[client]` table of the config file,
//! by config's layering rule. Shared by the workstation, the CLI and `synapse bench`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;

use super::ClientConfig;
use crate::config::{ClientFile, Environment, layered};

/// What the client side needs, resolved: the server (if any is configured) and the HTTP
/// settings.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Without one the workstation starts an embedded server; the CLI asks for one.
    pub server_url: Option<String>,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub ca_certificate: Option<PathBuf>,
}

impl ClientSettings {
    /// The client configuration for `server_url`.
    pub fn client_config(&self, server_url: &str) -> ClientConfig {
        let mut config = ClientConfig::new(server_url);
        config.connect_timeout = self.connect_timeout;
        config.request_timeout = self.request_timeout;
        config.extra_ca_pem = self.ca_certificate.clone();
        config
    }
}

/// Resolves the client settings: `--server`, else `SYNAPSE_SERVER`, else `server` in the
/// `[client]` table; the timeouts and the CA from the environment, else the file, else the
/// defaults (3 s to connect, 15 s per request).
pub fn resolve(
    file: &ClientFile,
    server_flag: Option<String>,
    env: &Environment,
) -> anyhow::Result<ClientSettings> {
    let server_url = layered(
        server_flag,
        env.string("SYNAPSE_SERVER"),
        file.server.clone(),
    )
    .map(|url| url.trim_end_matches('/').to_string());
    if let Some(url) = &server_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        bail!("the server address {url:?} must start with http:// or https://");
    }
    let seconds =
        |value: Option<u64>, default: u64| Duration::from_secs(value.unwrap_or(default).max(1));
    Ok(ClientSettings {
        server_url,
        connect_timeout: seconds(
            layered(
                None,
                env.number("SYNAPSE_CONNECT_TIMEOUT_S")?,
                file.connect_timeout_s,
            ),
            3,
        ),
        request_timeout: seconds(
            layered(
                None,
                env.number("SYNAPSE_REQUEST_TIMEOUT_S")?,
                file.request_timeout_s,
            ),
            15,
        ),
        ca_certificate: layered(
            None,
            env.string("SYNAPSE_CA_CERTIFICATE").map(PathBuf::from),
            file.ca_certificate.clone(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> ClientFile {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn the_server_is_the_flag_then_the_environment_then_the_file() {
        let file = file("server = \"http://file:1/\"\nrequest_timeout_s = 30\n");
        let env: Environment = [
            ("SYNAPSE_SERVER", "https://env:2"),
            ("SYNAPSE_CONNECT_TIMEOUT_S", "9"),
        ]
        .into_iter()
        .collect();
        let flag = Some("http://flag:3".to_string());
        let settings = resolve(&file, flag, &env).unwrap();
        assert_eq!(settings.server_url.as_deref(), Some("http://flag:3"));
        assert_eq!(settings.connect_timeout, Duration::from_secs(9));
        assert_eq!(settings.request_timeout, Duration::from_secs(30));
        let settings = resolve(&file, None, &env).unwrap();
        assert_eq!(settings.server_url.as_deref(), Some("https://env:2"));
        let settings = resolve(&file, None, &Environment::default()).unwrap();
        assert_eq!(settings.server_url.as_deref(), Some("http://file:1"));
        assert_eq!(settings.connect_timeout, Duration::from_secs(3));
        let config = settings.client_config("http://file:1");
        assert_eq!(config.request_timeout, Duration::from_secs(30));
    }

    #[test]
    fn a_server_without_a_scheme_and_a_bad_timeout_are_refused() {
        let error = resolve(
            &ClientFile::default(),
            Some("clinic.example".into()),
            &Environment::default(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("http://"), "{error}");
        let env: Environment = [("SYNAPSE_REQUEST_TIMEOUT_S", "ten")].into_iter().collect();
        let error = resolve(&ClientFile::default(), None, &env).unwrap_err();
        assert!(
            error.to_string().contains("SYNAPSE_REQUEST_TIMEOUT_S"),
            "{error}"
        );
    }
}
