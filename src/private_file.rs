//! Files only their owner can read or write (mode 0600 on Unix). Whatever holds patient data
//! or a secret is created through here: the SQLite files, backups, exported reports and
//! records, key files and the demo signing key, so none is left to the umask.

/// Options that open a file for writing and, when they create it, make it private. The caller
/// adds how it may be created (`create_new`, or `create` with `truncate`).
pub fn options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}
