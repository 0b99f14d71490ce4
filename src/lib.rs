//! Synapse: a keyboard-driven terminal workstation for doctors, and the clinical API it drives.
//! The library holds both sides; `main.rs` wires them into one binary. See docs/DESIGN.md for
//! the rooms and their one-way doors: `tui` → `client` → `model`; `cli` and `bench` →
//! `console`, `client`, `credentials`, `model`; `admin` (the operator's commands on the
//! database) → `console`, `store`, `model`; `server` → `store` → `model`; `server` and
//! `store` → `reportgen` → `model`; every room may read `config`, which reads none.

#![forbid(unsafe_code)]

pub mod admin;
pub mod bench;
pub mod cli;
pub mod client;
pub mod config;
pub mod console;
pub mod credentials;
pub mod export;
pub mod fhir;
pub mod logging;
pub mod model;
pub mod private_file;
pub mod reportgen;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod tui;
