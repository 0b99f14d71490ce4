//! Reading what a command asks for on the console: a line, and a password (from standard
//! input's first line when the command says `--password-stdin`, else prompted for without
//! echo on a terminal). The error is a message for a person; the caller gives it its exit code.

use std::io::{BufRead, IsTerminal, Write};

/// Writes `prompt` to standard error and reads one line of standard input, without its end.
pub fn read_line(prompt: &str) -> Result<String, String> {
    let mut stderr = std::io::stderr();
    let _ = write!(stderr, "{prompt}");
    let _ = stderr.flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Whether standard input is a terminal a person can answer a prompt on.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal()
}

/// The password: from standard input's first line with `password_stdin`, else prompted for
/// (with `prompt`) without echo on a terminal.
pub fn read_password(password_stdin: bool, prompt: &str) -> Result<String, String> {
    if password_stdin {
        read_line("")
    } else if interactive() {
        rpassword::prompt_password(prompt).map_err(|e| format!("cannot read the password: {e}"))
    } else {
        Err("pass --password-stdin to read the password from standard input".to_string())
    }
}

/// A new password: from standard input's first line with `password_stdin`, else prompted for
/// twice on a terminal, so a typing mistake is not what gets set.
pub fn read_new_password(password_stdin: bool) -> Result<String, String> {
    let password = read_password(password_stdin, "New password: ")?;
    if !password_stdin {
        let again = read_password(false, "The same password again: ")?;
        if again != password {
            return Err("the two passwords differ; nothing was changed, run it again".to_string());
        }
    }
    Ok(password)
}
