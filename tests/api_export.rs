//! `GET /reports/{id}/export` and `GET /patients/{id}/export` over a real server, on SQLite or
//! (with `SYNAPSE_TEST_ENGINE=postgres`) PostgreSQL: the types and file names, the PDF read back
//! with poppler, the audit row of the disclosure, another doctor's 404, a bad format's 422.
//! (The ownership matrix in api_ownership.rs covers every role on both routes.)

mod common;

use common::{PASSWORD, Session, TestServer};
use serde_json::json;
use synapse::model::auth::Role;

const NOTES: &str = "History: low mood for 3 weeks\n\
Assessment: moderate depressive episode\n\
Plan: review in 2 weeks";

/// The raw answer of an export: status, content type, disposition, bytes.
async fn export(
    server: &TestServer,
    session: &Session,
    path: &str,
) -> (u16, String, String, Vec<u8>) {
    let response = server
        .http
        .get(format!("{}{path}", server.base))
        .bearer_auth(&session.access_token)
        .send()
        .await
        .expect("request sent");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (content_type, disposition) = (header("content-type"), header("content-disposition"));
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("body").to_vec();
    (status, content_type, disposition, bytes)
}

async fn mrn(server: &TestServer, session: &Session, patient: &str) -> String {
    let chart = server
        .get(&format!("/api/v1/patients/{patient}"), session)
        .await;
    chart.expect(200);
    chart.data()["mrn"].as_str().unwrap().to_string()
}

fn pdf_pages(pdf: &[u8]) -> (usize, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.pdf");
    std::fs::write(&path, pdf).unwrap();
    let info = std::process::Command::new("pdfinfo")
        .arg(&path)
        .output()
        .expect("pdfinfo (poppler-utils) must be installed");
    let info = String::from_utf8_lossy(&info.stdout).to_string();
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap_or_else(|| panic!("{info}"))
        .trim()
        .parse()
        .unwrap();
    let texts = (1..=pages)
        .map(|n| {
            let n = n.to_string();
            let out = std::process::Command::new("pdftotext")
                .args(["-f", &n, "-l", &n])
                .arg(&path)
                .arg("-")
                .output()
                .expect("pdftotext (poppler-utils) must be installed");
            String::from_utf8(out.stdout).unwrap()
        })
        .collect();
    (pages, texts)
}

#[tokio::test]
async fn a_report_exports_as_markdown_and_pdf_named_by_mrn_and_audited() {
    let server = TestServer::start().await;
    let doctor = server
        .login_new("export-doc@example.org", Role::Doctor)
        .await;
    let patient = server.patient(&doctor, "Nguyễn Thị Hằng").await;
    let mrn = mrn(&server, &doctor, &patient).await;
    let report = server.consultation_report(&doctor, &patient, NOTES).await;
    let id = report["id"].as_str().unwrap().to_string();
    let today = chrono::Utc::now().date_naive().to_string();

    let (status, content_type, disposition, bytes) = export(
        &server,
        &doctor,
        &format!("/api/v1/reports/{id}/export?format=md"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "text/markdown; charset=utf-8");
    assert_eq!(
        disposition,
        format!("attachment; filename=\"{mrn}-report-{today}.md\"")
    );
    assert!(!disposition.contains("Nguy"), "{disposition}");
    let md = String::from_utf8(bytes).unwrap();
    assert!(md.contains("Nguyễn Thị Hằng"), "{md}");
    assert!(md.contains("DRAFT — NOT SIGNED"), "{md}");

    let (status, content_type, disposition, bytes) = export(
        &server,
        &doctor,
        &format!("/api/v1/reports/{id}/export?format=pdf"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/pdf");
    assert_eq!(
        disposition,
        format!("attachment; filename=\"{mrn}-report-{today}.pdf\"")
    );
    let (pages, texts) = pdf_pages(&bytes);
    for (n, text) in texts.iter().enumerate() {
        assert!(text.contains("Nguyễn Thị Hằng"), "page {}: {text}", n + 1);
        assert!(text.contains(&mrn), "page {}: {text}", n + 1);
        assert!(
            text.contains("DRAFT — NOT SIGNED"),
            "page {}: {text}",
            n + 1
        );
        assert!(
            text.contains(&format!("Page {} of {pages}", n + 1)),
            "{text}"
        );
    }

    // One disclosure row per export, naming the report and the format, and nothing else.
    for format in ["md", "pdf"] {
        let rows = server
            .sql_rows(
                "SELECT resource_type, resource_id, CAST(patient_id AS TEXT), outcome
                 FROM audit_events WHERE action = $1",
                &[&format!("report.export.{format}")],
            )
            .await;
        assert_eq!(
            rows,
            vec![vec![
                Some("report".to_string()),
                Some(id.clone()),
                Some(patient.clone()),
                Some("success".to_string())
            ]],
            "{format}"
        );
    }
}

#[tokio::test]
async fn a_record_exports_with_its_reports_and_a_signed_one_names_its_signer() {
    let server = TestServer::start().await;
    let doctor = server
        .login_new("record-doc@example.org", Role::Doctor)
        .await;
    let patient = server.patient(&doctor, "Jürgen Müller").await;
    let mrn = mrn(&server, &doctor, &patient).await;
    let first = server.consultation_report(&doctor, &patient, NOTES).await;
    let first_id = first["id"].as_str().unwrap().to_string();
    let signed = server
        .post(
            &format!("/api/v1/reports/{first_id}/sign"),
            &doctor,
            json!({"password": PASSWORD, "version": first["version"]}),
        )
        .await;
    signed.expect(200);
    server
        .post(
            &format!("/api/v1/reports/{first_id}/addenda"),
            &doctor,
            json!({"text": "Called back: sleeping better."}),
        )
        .await
        .expect(200);
    server.consultation_report(&doctor, &patient, NOTES).await;
    let today = chrono::Utc::now().date_naive().to_string();

    let (status, content_type, disposition, bytes) = export(
        &server,
        &doctor,
        &format!("/api/v1/patients/{patient}/export?format=pdf"),
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(content_type, "application/pdf");
    assert_eq!(
        disposition,
        format!("attachment; filename=\"{mrn}-record-{today}.pdf\"")
    );
    let (pages, texts) = pdf_pages(&bytes);
    assert!(
        pages >= 3,
        "the chart, then each report on its own page: {pages}"
    );
    for text in &texts {
        assert!(text.contains("Jürgen Müller"), "{text}");
        assert!(text.contains(&mrn), "{text}");
    }
    let all = texts.join("\n");
    assert!(all.contains("Report 1 of 2"), "{all}");
    assert!(all.contains("Report 2 of 2"), "{all}");
    assert!(all.contains("Test record-doc@example.org at"), "{all}");
    assert!(all.contains("Called back: sleeping better."), "{all}");
    assert!(
        all.contains("DRAFT — NOT SIGNED"),
        "the second report is a draft: {all}"
    );

    let audited = server
        .sql_count(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'patient.export.pdf'
             AND resource_id = $1 AND outcome = 'success'",
            &[&patient],
        )
        .await;
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn a_bad_format_is_refused_and_another_doctor_is_told_not_found() {
    let server = TestServer::start().await;
    let doctor = server
        .login_new("owner-doc@example.org", Role::Doctor)
        .await;
    let other = server
        .login_new("other-doc@example.org", Role::Doctor)
        .await;
    let patient = server.patient(&doctor, "Ana Núñez").await;
    let report = server.consultation_report(&doctor, &patient, NOTES).await;
    let id = report["id"].as_str().unwrap().to_string();

    for path in [
        format!("/api/v1/reports/{id}/export?format=docx"),
        format!("/api/v1/reports/{id}/export"),
        format!("/api/v1/patients/{patient}/export?format=html"),
    ] {
        let reply = server.get(&path, &doctor).await;
        reply.expect_error(422, "VALIDATION_ERROR");
        assert!(
            reply.body.to_string().contains("format"),
            "{path}: {:#}",
            reply.body
        );
    }
    for path in [
        format!("/api/v1/reports/{id}/export?format=pdf"),
        format!("/api/v1/patients/{patient}/export?format=md"),
    ] {
        server
            .get(&path, &other)
            .await
            .expect_error(404, "NOT_FOUND");
    }
    let denied = server
        .sql_count(
            "SELECT COUNT(*) FROM audit_events WHERE action IN ('report.export.pdf', 'patient.export.md')
             AND outcome = 'denied'",
            &[],
        )
        .await;
    assert_eq!(denied, 2);
}
