//! Field encryption at rest: the data keys that seal contacts, clinical notes and report text
//! (AES-256-GCM), and the separate index key of the blind indexes search compares (HMAC-SHA256).
//!
//! Keys never come from the database: a key file (`key_file`, `SYNAPSE_KEY_FILE`) or the
//! environment (`SYNAPSE_DATA_KEYS`), both in the same form, one key a line:
//!
//! ```text
//! # synapse data keys
//! k1 = <base64 of 32 bytes>
//! k2 = <base64 of 32 bytes>
//! index = <base64 of 32 bytes>
//! ```
//!
//! The last data key is the current one, which seals new values; the earlier ones still open
//! what they sealed until `synapse admin rotate-key` has sealed it again. A sealed value is
//! `enc:v1:<key id>:<base64(nonce || ciphertext || tag)>`, so every value names its key. A value
//! without that prefix was stored before encryption existed and is read as it is (the start
//! after the upgrade seals such rows, `store::refold`).
//!
//! The keyring is the process's: it is installed once at start (`install`) before the store is
//! opened, and every write path and row mapping of both engines reaches it here.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use aes_gcm::aead::{Aead, AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use super::{StoreError, StoreResult};

/// The prefix of every sealed value, with the format's version.
pub const PREFIX: &str = "enc:v1:";

/// The id of the blind-index key in a key file.
pub const INDEX_KEY_ID: &str = "index";

/// The environment variable holding the keys themselves, in the key file's form.
pub const KEYS_VAR: &str = "SYNAPSE_DATA_KEYS";

/// The environment variable naming the key file.
pub const KEY_FILE_VAR: &str = "SYNAPSE_KEY_FILE";

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const KEY_LEN: usize = 32;

/// Sealed values up to this many bytes (contacts, most allergies and complaints) are decoded
/// and opened on the stack, so opening one allocates only its text: a page of the patient list
/// opens two per row.
const OPEN_ON_STACK: usize = 512;

/// The keys of a process: data keys by id, the current one, and the blind-index key.
#[derive(Clone)]
pub struct Keyring {
    /// The data keys, in the order of `ids`. A few at most, so found by a scan of `ids`,
    /// which costs less than hashing the id.
    keys: Vec<Aes256Gcm>,
    /// The order the key file lists the data keys in; the last is current.
    ids: Vec<String>,
    index: Hmac<Sha256>,
    /// Where the keys came from, so a value under a key added since can be opened after the
    /// file is read again; and the file's modification time when it was read.
    source: Option<PathBuf>,
    modified: Option<std::time::SystemTime>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the keys themselves.
        f.debug_struct("Keyring")
            .field("ids", &self.ids)
            .field("source", &self.source)
            .finish()
    }
}

/// Why keys could not be read; the message names the setting and what to do.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 32
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl Keyring {
    /// Reads keys in the key file's form; `origin` names where they came from in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Keyring, KeyError> {
        let mut keys = Vec::new();
        let mut ids: Vec<String> = Vec::new();
        let mut index = None;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((id, value)) = line.split_once('=') else {
                return Err(KeyError(format!(
                    "{origin}, line {}: expected `<key id> = <base64 key>`",
                    n + 1
                )));
            };
            let (id, value) = (id.trim(), value.trim().trim_matches('"'));
            if !valid_id(id) {
                return Err(KeyError(format!(
                    "{origin}, line {}: a key id is 1 to 32 letters, digits, - or _",
                    n + 1
                )));
            }
            let bytes = BASE64.decode(value).ok().filter(|b| b.len() == KEY_LEN);
            let Some(bytes) = bytes else {
                return Err(KeyError(format!(
                    "{origin}, line {}: key {id} is not 32 bytes of base64 (make one with `synapse admin keygen`)",
                    n + 1
                )));
            };
            if id == INDEX_KEY_ID {
                index = Some(
                    <Hmac<Sha256> as Mac>::new_from_slice(&bytes)
                        .map_err(|_| KeyError(format!("{origin}: the index key is unusable")))?,
                );
                continue;
            }
            if ids.iter().any(|known| known == id) {
                return Err(KeyError(format!("{origin}: key {id} is listed twice")));
            }
            let cipher = Aes256Gcm::new_from_slice(&bytes)
                .map_err(|_| KeyError(format!("{origin}: key {id} is unusable")))?;
            keys.push(cipher);
            ids.push(id.to_string());
        }
        if ids.is_empty() {
            return Err(KeyError(format!(
                "{origin} holds no data key (make one with `synapse admin keygen`)"
            )));
        }
        let Some(index) = index else {
            return Err(KeyError(format!(
                "{origin} holds no `{INDEX_KEY_ID} = …` key for the search indexes (make a key file with `synapse admin keygen`)"
            )));
        };
        Ok(Keyring {
            keys,
            ids,
            index,
            source: None,
            modified: None,
        })
    }

    /// Reads a key file.
    pub fn from_file(path: &Path) -> Result<Keyring, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            KeyError(format!(
                "cannot read the key file {}: {e} (make one with `synapse admin keygen --out {}`)",
                path.display(),
                path.display()
            ))
        })?;
        let mut ring = Keyring::parse(&text, &format!("key file {}", path.display()))?;
        ring.source = Some(path.to_path_buf());
        ring.modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        Ok(ring)
    }

    /// The id of the key new values are sealed under.
    pub fn current_id(&self) -> &str {
        self.ids.last().map(String::as_str).unwrap_or_default()
    }

    /// Every data key id, oldest first.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// The data key of `id`, if this keyring has it.
    fn cipher(&self, id: &str) -> Option<&Aes256Gcm> {
        let at = self.ids.iter().position(|known| known == id)?;
        self.keys.get(at)
    }

    /// Whether this keyring has the data key `id`.
    fn has(&self, id: &str) -> bool {
        self.cipher(id).is_some()
    }

    /// Seals `plain` under the current key.
    pub fn seal(&self, plain: &str) -> String {
        let id = self.current_id();
        let Some(cipher) = self.cipher(id) else {
            // `parse` refuses a keyring without a data key, so the current one is always here.
            return String::new();
        };
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        // Encryption fails only for inputs of gigabytes, far beyond any field's limit.
        let sealed = cipher
            .encrypt(&Nonce::from(nonce), plain.as_bytes())
            .unwrap_or_default();
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{id}:{}", BASE64.encode(bytes))
    }

    /// Opens a stored value: a sealed one with its key, one stored before encryption as it is.
    pub fn open(&self, stored: &str) -> StoreResult<String> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_string());
        };
        let (id, body) = match rest.bytes().position(|b| b == b':') {
            Some(at) => (&rest[..at], &rest[at + 1..]),
            None => (rest, ""),
        };
        let problem = |problem: &'static str| StoreError::Key {
            key_id: id.to_string(),
            problem,
        };
        let Some(cipher) = self.cipher(id) else {
            return Err(problem("this server does not have that key"));
        };
        let damaged = || problem("the stored value is damaged");
        let mut on_stack = [0u8; OPEN_ON_STACK];
        let mut on_heap;
        let bytes: &mut [u8] = if body.len().div_ceil(4) * 3 <= OPEN_ON_STACK {
            let len = BASE64
                .decode_slice(body, &mut on_stack)
                .map_err(|_| damaged())?;
            &mut on_stack[..len]
        } else {
            on_heap = BASE64.decode(body).map_err(|_| damaged())?;
            &mut on_heap
        };
        if bytes.len() < NONCE_LEN + TAG_LEN {
            return Err(damaged());
        }
        let (nonce, rest) = bytes.split_at_mut(NONCE_LEN);
        let (sealed, tag) = rest.split_at_mut(rest.len() - TAG_LEN);
        let nonce: [u8; NONCE_LEN] = (&*nonce).try_into().map_err(|_| damaged())?;
        let tag: [u8; TAG_LEN] = (&*tag).try_into().map_err(|_| damaged())?;
        cipher
            .decrypt_in_place_detached(&Nonce::from(nonce), b"", sealed, &Tag::from(tag))
            .map_err(|_| {
                problem("the value does not open with the key of that id (a wrong key, or a damaged value)")
            })?;
        std::str::from_utf8(sealed)
            .map(str::to_owned)
            .map_err(|_| problem("the value opened to something that is not text"))
    }

    /// The blind index of a normalised value: HMAC-SHA256 under the index key, hex. The empty
    /// value (no phone, no email) stays empty, so it never matches a term.
    pub fn blind(&self, normalised: &str) -> String {
        if normalised.is_empty() {
            return String::new();
        }
        let mut mac = self.index.clone();
        mac.update(normalised.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// The id of the key a stored value is sealed under; `None` for a value stored in clear.
pub fn key_id_of(stored: &str) -> Option<&str> {
    let rest = stored.strip_prefix(PREFIX)?;
    Some(rest.split_once(':').map(|(id, _)| id).unwrap_or(rest))
}

static KEYRING: RwLock<Option<Arc<Keyring>>> = RwLock::new(None);

/// Makes `ring` the process's keyring (at start, and again when the key file is re-read).
pub fn install(ring: Keyring) {
    let mut slot = KEYRING.write().unwrap_or_else(|poison| poison.into_inner());
    *slot = Some(Arc::new(ring));
}

/// The process's keyring, if one is installed.
pub fn installed() -> Option<Arc<Keyring>> {
    KEYRING
        .read()
        .unwrap_or_else(|poison| poison.into_inner())
        .clone()
}

fn ring() -> StoreResult<Arc<Keyring>> {
    installed().ok_or(StoreError::NoKeys)
}

/// Seals a value with the process's keyring. A key file changed since it was read (a key
/// added by `synapse admin rotate-key`) is read again first, at most once every two seconds,
/// so a server that only writes takes up the new key too.
pub fn seal(plain: &str) -> StoreResult<String> {
    let keys = ring()?;
    let keys = match changed_on_disk(&keys) {
        true => reload(&keys).unwrap_or(keys),
        false => keys,
    };
    Ok(keys.seal(plain))
}

/// Whether the key file's modification time differs from when it was read, looked at most
/// once every two seconds.
fn changed_on_disk(keys: &Keyring) -> bool {
    use std::sync::Mutex;
    use std::time::{Duration, Instant};
    static LOOKED: Mutex<Option<Instant>> = Mutex::new(None);
    let Some(path) = &keys.source else {
        return false;
    };
    {
        let mut looked = LOOKED.lock().unwrap_or_else(|poison| poison.into_inner());
        if looked.is_some_and(|at| at.elapsed() < Duration::from_secs(2)) {
            return false;
        }
        *looked = Some(Instant::now());
    }
    std::fs::metadata(path).and_then(|m| m.modified()).ok() != keys.modified
}

/// Seals an optional value; `None` stays NULL.
pub fn seal_opt(plain: Option<&str>) -> StoreResult<Option<String>> {
    plain.map(seal).transpose()
}

/// Seals a value for a JSON column: the JSON text, sealed, as a JSON string, so the column
/// keeps its type on both engines.
pub fn seal_json<T: serde::Serialize>(value: &T) -> StoreResult<serde_json::Value> {
    let text = serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(serde_json::Value::String(seal(&text)?))
}

/// Opens a stored value with the process's keyring. A value under a key this process does not
/// have makes it read its key file again once (a key added by `synapse admin rotate-key` while
/// it runs), then fails naming the key.
pub fn open(stored: &str) -> StoreResult<String> {
    if !stored.starts_with(PREFIX) {
        return Ok(stored.to_string());
    }
    let keys = ring()?;
    match keys.open(stored) {
        Err(StoreError::Key { key_id, .. }) if !keys.has(&key_id) => match reload(&keys) {
            Some(fresh) => fresh.open(stored),
            None => keys.open(stored),
        },
        other => other,
    }
}

/// Opens a JSON column's value: a sealed string holds the JSON text; anything else was stored
/// before encryption and is the value itself.
pub fn open_json(stored: serde_json::Value) -> StoreResult<serde_json::Value> {
    match stored {
        serde_json::Value::String(text) if text.starts_with(PREFIX) => {
            serde_json::from_str(&open(&text)?).map_err(|e| StoreError::Corrupt(e.to_string()))
        }
        other => Ok(other),
    }
}

/// The blind index of a normalised value under the process's index key.
pub fn blind(normalised: &str) -> StoreResult<String> {
    Ok(ring()?.blind(normalised))
}

/// Reads the key file again, at most once a second, and installs it if it reads.
fn reload(current: &Keyring) -> Option<Arc<Keyring>> {
    use std::sync::Mutex;
    use std::time::{Duration, Instant};
    static LAST: Mutex<Option<Instant>> = Mutex::new(None);
    let path = current.source.as_ref()?;
    {
        let mut last = LAST.lock().unwrap_or_else(|poison| poison.into_inner());
        if last.is_some_and(|at| at.elapsed() < Duration::from_secs(1)) {
            return None;
        }
        *last = Some(Instant::now());
    }
    match Keyring::from_file(path) {
        Ok(fresh) => {
            tracing::info!(keys = ?fresh.ids, "the key file was read again");
            install(fresh);
            installed()
        }
        Err(error) => {
            tracing::warn!(%error, "the key file could not be read again");
            None
        }
    }
}

/// Installs one keyring for the whole test process, the first time it is asked for.
#[cfg(test)]
pub fn install_for_tests() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| install(Keyring::parse(&new_key_file(), "test keys").unwrap()));
}

/// A new random key, base64.
pub fn new_key() -> String {
    let mut key = [0u8; KEY_LEN];
    rand::rng().fill_bytes(&mut key);
    BASE64.encode(key)
}

/// The text of a new key file: one data key (`k1`) and the index key.
pub fn new_key_file() -> String {
    format!(
        "# Synapse data keys: keep this file secret and backed up apart from the database.\n\
         # Without it the contacts, notes and reports in the database cannot be read.\n\
         k1 = {}\n{INDEX_KEY_ID} = {}\n",
        new_key(),
        new_key()
    )
}

/// Writes a new key file at `path`, mode 0600, refusing to replace one.
pub fn write_new_key_file(path: &Path) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = crate::private_file::options().create_new(true).open(path)?;
    file.write_all(new_key_file().as_bytes())?;
    file.sync_all()
}

/// Reads the keys from where they were given, in the order they are looked for: the keys
/// themselves (`SYNAPSE_DATA_KEYS`), else a key file (`SYNAPSE_KEY_FILE`, else the configured
/// `key_file`). `None` when none is given.
pub fn load(keys: Option<&str>, key_file: Option<&Path>) -> Result<Option<Keyring>, KeyError> {
    if let Some(text) = keys {
        // In the variable, keys may also be separated by `;` rather than new lines.
        return Keyring::parse(&text.replace(';', "\n"), KEYS_VAR).map(Some);
    }
    key_file.map(Keyring::from_file).transpose()
}

/// The name of the key file `--demo` keeps beside its database.
pub const DEMO_KEY_FILE: &str = "data-keys";

/// The key file `--demo` keeps beside its database, created (0600) on first use.
pub fn demo_key_file(dir: &Path) -> Result<PathBuf, KeyError> {
    let path = dir.join(DEMO_KEY_FILE);
    if !path.exists() {
        std::fs::create_dir_all(dir)
            .and_then(|_| write_new_key_file(&path))
            .map_err(|e| {
                KeyError(format!(
                    "cannot write the demo key file {}: {e}",
                    path.display()
                ))
            })?;
    }
    Ok(path)
}

/// The message for a server or seed without keys: the settings, and the command that makes a
/// key file.
pub fn missing_keys_message() -> String {
    format!(
        "no data keys: the database's contacts, notes and reports are encrypted under keys kept \
         outside it. Make a key file with `synapse admin keygen --out /etc/synapse/keys` and name \
         it in the config (`key_file = \"/etc/synapse/keys\"` under [server]) or in \
         {KEY_FILE_VAR}, or give the keys themselves in {KEYS_VAR}"
    )
}

/// Appends a new data key to the key file, making it current; answers its id.
pub fn add_key(path: &Path) -> Result<String, KeyError> {
    use std::io::Write;
    let ring = Keyring::from_file(path)?;
    let mut n = ring.ids.len() + 1;
    let id = loop {
        let id = format!("k{n}");
        if !ring.has(&id) {
            break id;
        }
        n += 1;
    };
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| KeyError(format!("cannot write the key file {}: {e}", path.display())))?;
    writeln!(file, "{id} = {}", new_key())
        .and_then(|_| file.sync_all())
        .map_err(|e| KeyError(format!("cannot write the key file {}: {e}", path.display())))?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> Keyring {
        Keyring::parse(&new_key_file(), "test").unwrap()
    }

    #[test]
    fn a_sealed_value_names_its_key_and_opens() {
        let ring = ring();
        let sealed = ring.seal("+44 20 7946 0958");
        assert!(sealed.starts_with("enc:v1:k1:"));
        assert!(!sealed.contains("7946"));
        assert_eq!(key_id_of(&sealed), Some("k1"));
        assert_eq!(ring.open(&sealed).unwrap(), "+44 20 7946 0958");
        // The same text seals differently each time (a fresh nonce).
        assert_ne!(ring.seal("x"), ring.seal("x"));
    }

    #[test]
    fn values_of_every_length_open_on_the_stack_or_the_heap_alike() {
        let ring = ring();
        // Around the stack buffer's edge, and far past it (a long report section).
        for len in [
            0, 1, 15, 16, 17, 300, 470, 471, 472, 473, 490, 500, 5_000, 60_000,
        ] {
            let text: String = "é–ab".chars().cycle().take(len).collect();
            let sealed = ring.seal(&text);
            assert_eq!(ring.open(&sealed).unwrap(), text, "{len} characters");
        }
    }

    #[test]
    fn a_damaged_value_is_an_error_naming_its_key_never_a_panic() {
        let ring = ring();
        let sealed = ring.seal("+44 20 7946 0958");
        let body = sealed.trim_start_matches("enc:v1:k1:");
        let damaged = [
            "enc:v1:k1".to_string(),
            "enc:v1:k1:".to_string(),
            "enc:v1:k1:!!!!".to_string(),
            format!("enc:v1:k1:{}", &body[..20]),
            format!("enc:v1:k1:{}", &body[..body.len() - 4]),
            format!("enc:v1:k1:{}A", body),
            format!("enc:v1:k1:{}", "A".repeat(4_000)),
            sealed.replace(&body[4..8], "AAAA"),
        ];
        for stored in damaged {
            match ring.open(&stored) {
                Err(StoreError::Key { key_id, .. }) => assert_eq!(key_id, "k1", "{stored}"),
                other => panic!("{stored}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_value_stored_before_encryption_reads_as_it_is() {
        assert_eq!(ring().open("12 High Street").unwrap(), "12 High Street");
    }

    #[test]
    fn a_wrong_or_missing_key_is_an_error_naming_it() {
        let sealed = ring().seal("notes");
        let other = ring();
        match other.open(&sealed) {
            Err(StoreError::Key { key_id, .. }) => assert_eq!(key_id, "k1"),
            other => panic!("{other:?}"),
        }
        let unknown = sealed.replacen("enc:v1:k1:", "enc:v1:k9:", 1);
        match other.open(&unknown) {
            Err(StoreError::Key { key_id, problem }) => {
                assert_eq!(key_id, "k9");
                assert!(problem.contains("does not have"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_last_data_key_is_current_and_older_ones_still_open() {
        let old = new_key_file();
        let sealed = Keyring::parse(&old, "t").unwrap().seal("report");
        let both = Keyring::parse(&format!("{old}k2 = {}\n", new_key()), "t").unwrap();
        assert_eq!(both.current_id(), "k2");
        assert_eq!(both.open(&sealed).unwrap(), "report");
        assert!(both.seal("x").starts_with("enc:v1:k2:"));
    }

    #[test]
    fn blind_indexes_are_stable_keyed_and_empty_for_nothing() {
        let a = ring();
        let b = ring();
        assert_eq!(a.blind("5550123"), a.blind("5550123"));
        assert_ne!(a.blind("5550123"), b.blind("5550123"));
        assert_eq!(a.blind(""), "");
        assert_eq!(a.blind("0123").len(), 64);
    }

    #[test]
    fn key_files_name_what_is_wrong() {
        let no_index = format!("k1 = {}\n", new_key());
        let err = Keyring::parse(&no_index, "key file x").unwrap_err().0;
        assert!(err.contains("index"), "{err}");
        let short = "k1 = AAAA\nindex = AAAA\n";
        let err = Keyring::parse(short, "key file x").unwrap_err().0;
        assert!(err.contains("line 1") && err.contains("keygen"), "{err}");
        let err = Keyring::parse("", "key file x").unwrap_err().0;
        assert!(err.contains("no data key"), "{err}");
    }
}
