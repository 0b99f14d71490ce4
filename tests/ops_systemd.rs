//! deploy/synapse.service, the unit the operations guide installs, passes
//! `systemd-analyze verify` (with ExecStart pointed at this build's binary, since the unit
//! names the installed path) and keeps the hardening the guide promises. Without
//! systemd-analyze the check is skipped, except under CI=true, where it must run.

mod common;

use std::process::Command;

use common::served::BIN;

const UNIT: &str = include_str!("../deploy/synapse.service");

fn systemd_analyze() -> Option<&'static str> {
    let found = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if found {
        return Some("systemd-analyze");
    }
    if std::env::var("CI").is_ok_and(|ci| ci.eq_ignore_ascii_case("true")) {
        panic!("CI=true and systemd-analyze is missing: install the Debian package systemd");
    }
    None
}

#[test]
fn the_unit_passes_systemd_analyze_verify() {
    let Some(tool) = systemd_analyze() else {
        eprintln!("skipped: systemd-analyze is not installed (Debian package systemd)");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let unit = dir.path().join("synapse.service");
    assert!(UNIT.contains("ExecStart=/usr/local/bin/synapse serve"));
    std::fs::write(&unit, UNIT.replace("/usr/local/bin/synapse", BIN)).expect("write the unit");
    let output = Command::new(tool)
        .arg("verify")
        .arg(&unit)
        .current_dir(dir.path())
        .output()
        .expect("run systemd-analyze verify");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.trim().is_empty(),
        "systemd-analyze verify: {}\n{stderr}",
        output.status
    );
}

#[test]
fn the_unit_keeps_its_hardening() {
    for setting in [
        "User=synapse",
        "StateDirectory=synapse",
        "StateDirectoryMode=0700",
        "UMask=0077",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=\n",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "MemoryDenyWriteExecute=yes",
        "SystemCallFilter=@system-service",
        "EnvironmentFile=/etc/synapse/synapse.env",
    ] {
        assert!(
            UNIT.contains(setting),
            "deploy/synapse.service sets {setting:?}"
        );
    }
}
