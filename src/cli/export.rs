//! `synapse reports export ID` and `synapse patients export MRN|ID`: the file the server
//! renders (Markdown or PDF), written to `-o FILE` or, without it, to the server's file name
//! (the MRN, what it is and the date) in the current directory. An existing file is never
//! overwritten without `--force`.

use std::io::Write;
use std::path::{Path, PathBuf};

use uuid::Uuid;

use super::{Failure, patient_id};
use crate::client::ApiClient;
use crate::client::exports::ExportFile;
use crate::console::Exit;
use crate::model::export::ExportFormat;

fn format(text: &str) -> Result<ExportFormat, String> {
    ExportFormat::parse(text).ok_or_else(|| format!("{text:?} is not a format: use md or pdf"))
}

/// Where to write and whether to replace a file already there.
#[derive(Debug, clap::Args)]
pub struct Output {
    /// md (Markdown) or pdf.
    #[arg(long, value_parser = format, default_value = "pdf")]
    pub format: ExportFormat,
    /// The file to write; without it, the server's name for it (MRN and date) here.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace the file if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, clap::Args)]
pub struct ReportExport {
    /// The report's id.
    pub id: Uuid,
    #[command(flatten)]
    pub output: Output,
}

#[derive(Debug, clap::Args)]
pub struct PatientExport {
    /// The patient's id or MRN.
    pub patient: String,
    #[command(flatten)]
    pub output: Output,
}

pub async fn report(client: &ApiClient, args: ReportExport) -> Result<(), Failure> {
    let file = client.export_report(args.id, args.output.format).await?;
    save(&file, &args.output)
}

pub async fn patient(client: &ApiClient, args: PatientExport) -> Result<(), Failure> {
    let id = patient_id(client, &args.patient).await?;
    let file = client.export_patient_record(id, args.output.format).await?;
    save(&file, &args.output)
}

/// Writes the file (created new unless `--force`) and prints where.
fn save(file: &ExportFile, output: &Output) -> Result<(), Failure> {
    let path = output
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(&file.file_name));
    write(&path, &file.bytes, output.force)?;
    println!("{}", path.display());
    Ok(())
}

pub fn write(path: &Path, bytes: &[u8], force: bool) -> Result<(), Failure> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut out = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => Failure {
            exit: Exit::Usage,
            message: format!(
                "{} already exists: pass --force to replace it, or name another file with -o",
                path.display()
            ),
        },
        _ => Failure {
            exit: Exit::Failed,
            message: format!("cannot write {}: {e}", path.display()),
        },
    })?;
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| Failure {
            exit: Exit::Failed,
            message: format!("cannot write {}: {e}", path.display()),
        })
}
