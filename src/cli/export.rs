//! `synapse reports export ID` and `synapse patients export MRN|ID`: the file the server
//! renders (Markdown or PDF), or for a patient the FHIR R4 `$everything` Bundle (`--format
//! fhir`), written to `-o FILE` or, without it, to the server's file name (the MRN, what it
//! is and the date) in the current directory. An existing file is never overwritten without
//! `--force`.

use std::io::Write;
use std::path::{Path, PathBuf};

use uuid::Uuid;

use super::{Failure, patient_id};
use crate::client::ApiClient;
use crate::client::exports::ExportFile;
use crate::console::Exit;
use crate::model::export::ExportFormat;

/// What `--format` names: a file the server renders, or the record as FHIR JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Rendered(ExportFormat),
    /// The FHIR API's `Patient/{id}/$everything` Bundle (patients only).
    Fhir,
}

fn format(text: &str) -> Result<OutputFormat, String> {
    if text == "fhir" {
        return Ok(OutputFormat::Fhir);
    }
    ExportFormat::parse(text)
        .map(OutputFormat::Rendered)
        .ok_or_else(|| {
            format!("{text:?} is not a format: use md or pdf (or fhir, for a patient's record)")
        })
}

/// Where to write and whether to replace a file already there.
#[derive(Debug, clap::Args)]
pub struct Output {
    /// md (Markdown), pdf, or (patients export) fhir: the FHIR R4 Bundle of the record.
    #[arg(long, value_parser = format, default_value = "pdf")]
    pub format: OutputFormat,
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
    let OutputFormat::Rendered(format) = args.output.format else {
        return Err(Failure {
            exit: Exit::Usage,
            message: "--format fhir exports a patient's record (synapse patients export MRN --format fhir); export a report as md or pdf".to_string(),
        });
    };
    let file = client.export_report(args.id, format).await?;
    save(&file, &args.output)
}

pub async fn patient(client: &ApiClient, args: PatientExport) -> Result<(), Failure> {
    let id = patient_id(client, &args.patient).await?;
    let file = match args.output.format {
        OutputFormat::Rendered(format) => client.export_patient_record(id, format).await?,
        OutputFormat::Fhir => client.fhir_everything(id).await?,
    };
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
    // Private: an export is a patient's record.
    let mut options = crate::private_file::options();
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
