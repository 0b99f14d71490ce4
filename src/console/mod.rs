//! What the command-line commands (`cli`, `admin`, `bench`) share about the console: the exit
//! codes a script can rely on, aligned plain-text tables and key–value blocks, and prompts.

pub mod output;
pub mod prompt;
pub mod table;

use std::process::ExitCode;

/// The exit codes of the command-line commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Failed = 1,
    Usage = 2,
    NotLoggedIn = 3,
    NotFound = 4,
    Unreachable = 5,
    /// `synapse admin audit verify`: the audit trail was altered.
    Tampered = 6,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}
