//! The real `synapse` binary's help, completions and manual pages: every command's help has
//! an example; the server's and the seeder's help name no client flag (and the server's names
//! its variables); completion scripts and manual pages come out whole.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_synapse");

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn synapse(args: &[&str]) -> Out {
    let home = tempfile::tempdir().unwrap();
    let mut command = Command::new(BIN);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SYNAPSE_") {
            command.env_remove(&name);
        }
    }
    let output = command
        .args(args)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .output()
        .expect("run synapse");
    Out {
        code: output.status.code().expect("an exit code"),
        stdout: String::from_utf8_lossy(&output.stdout).to_string(),
        stderr: String::from_utf8_lossy(&output.stderr).to_string(),
    }
}

/// The subcommands a help text lists under "Commands:".
fn subcommands(help: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut inside = false;
    for line in help.lines() {
        if line.starts_with("Commands:") {
            inside = true;
            continue;
        }
        if inside {
            if !line.starts_with("  ") {
                if line.trim().is_empty() {
                    continue;
                }
                break;
            }
            // A name starts two spaces in; deeper lines continue the line above.
            if line.starts_with("   ") {
                continue;
            }
            if let Some(name) = line.split_whitespace().next() {
                names.push(name.to_string());
            }
        }
    }
    names
}

#[test]
fn every_commands_help_has_an_example() {
    let mut pending: Vec<Vec<String>> = vec![Vec::new()];
    let mut seen = 0;
    while let Some(path) = pending.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = synapse(&args);
        assert_eq!(out.code, 0, "synapse {}: {}", args.join(" "), out.stderr);
        assert!(
            out.stdout.contains("Example"),
            "`synapse {}` has no example:\n{}",
            args.join(" "),
            out.stdout
        );
        seen += 1;
        for name in subcommands(&out.stdout) {
            let mut inner = path.clone();
            inner.push(name);
            pending.push(inner);
        }
    }
    // The workstation, the scripting commands, serve, admin's, migrate, seed, help, bench,
    // completions and man: the walk found them all.
    assert!(seen >= 35, "only {seen} commands walked");
}

#[test]
fn server_side_commands_take_no_client_flags_and_serve_names_its_variables() {
    for command in ["serve", "seed", "migrate"] {
        let out = synapse(&[command, "--help"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        for flag in [
            "--server",
            "--token-store",
            "--profile",
            "--json",
            "--format",
        ] {
            assert!(
                !out.stdout.contains(flag),
                "`synapse {command} --help` offers {flag}:\n{}",
                out.stdout
            );
        }
    }
    let serve = synapse(&["serve", "--help"]).stdout;
    for variable in [
        "SYNAPSE_LISTEN",
        "SYNAPSE_DATABASE_URL",
        "SYNAPSE_JWT_SECRET",
    ] {
        assert!(serve.contains(variable), "{variable} missing:\n{serve}");
    }
    // Given anyway, before the command's name: a usage error naming the flag.
    let misplaced = synapse(&["--server", "http://127.0.0.1:9", "serve"]);
    assert_eq!(misplaced.code, 2, "{}", misplaced.stderr);
    assert!(
        misplaced.stderr.contains("--server"),
        "{}",
        misplaced.stderr
    );
    let after = synapse(&["serve", "--token-store", "memory"]);
    assert_eq!(after.code, 2, "{}", after.stderr);
    // The scripting commands take them, on the group or the command.
    let list = synapse(&["reports", "list", "--help"]).stdout;
    for flag in [
        "--server",
        "--token-store",
        "--profile",
        "--format",
        "--fields",
    ] {
        assert!(list.contains(flag), "{flag} missing:\n{list}");
    }
    // The export commands keep their own document --format.
    let export = synapse(&["reports", "export", "--help"]).stdout;
    assert!(export.contains("md (Markdown)"), "{export}");
    assert!(!export.contains("ndjson"), "{export}");
}

#[test]
fn completions_print_a_script_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = synapse(&["completions", shell]);
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        assert!(out.stdout.contains("synapse"), "{shell}: {}", out.stdout);
        assert!(out.stdout.contains("reports"), "{shell}: no subcommands");
    }
    let bash = synapse(&["completions", "bash"]).stdout;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("synapse.bash");
    std::fs::write(&script, &bash).unwrap();
    let checked = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .expect("bash runs");
    assert!(
        checked.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let unknown = synapse(&["completions", "tcsh"]);
    assert_eq!(unknown.code, 2);
}

#[test]
fn man_writes_a_page_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("man1");
    let out = synapse(&["man", "-o", out_dir.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for page in [
        "synapse.1",
        "synapse-serve.1",
        "synapse-reports-list.1",
        "synapse-admin-audit-export.1",
        "synapse-completions.1",
    ] {
        let text =
            std::fs::read_to_string(out_dir.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.starts_with(".ie") || text.contains(".TH"), "{page}");
        assert!(text.contains(".SH NAME"), "{page}");
        assert!(text.contains("Example"), "{page} has no example");
    }
    // Where groff is installed, it reads every page without a warning (`-k`: through preconv,
    // as `man` does, for the pages are UTF-8).
    let groff = Command::new("groff").arg("--version").output();
    if groff.is_ok_and(|o| o.status.success()) {
        for entry in std::fs::read_dir(&out_dir).unwrap() {
            let path = entry.unwrap().path();
            let checked = Command::new("groff")
                .args(["-k", "-man", "-Tutf8", "-ww", "-z"])
                .arg(&path)
                .output()
                .unwrap();
            assert!(
                checked.status.success() && checked.stderr.is_empty(),
                "{}: {}",
                path.display(),
                String::from_utf8_lossy(&checked.stderr)
            );
        }
    }
}
