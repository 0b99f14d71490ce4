//! The FHIR R4 API (`/fhir/r4`) over a real server, on SQLite or (with
//! `SYNAPSE_TEST_ENGINE=postgres`) PostgreSQL. Every resource kind it serves is checked by an
//! implementation of FHIR that is not ours: the models of the `fhir.resources` Python package
//! (`tests/fhir/validate.py`, installed by `.ci/run`). Also: ownership (another doctor's
//! patient is not found, their searches are empty), the audit rows, OperationOutcome errors,
//! and search pages followed by their `next` links to the end.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{PASSWORD, Session, TestServer};
use serde_json::{Value, json};
use synapse::model::auth::Role;

const NOTES: &str = "History: low mood for 3 weeks\n\
Assessment: moderate depressive episode\n\
Plan: review in 2 weeks";

/// A FHIR answer: status, content type and the JSON body.
async fn fhir(server: &TestServer, token: Option<&str>, path: &str) -> (u16, String, Value) {
    let url = if path.starts_with("http") {
        path.to_string()
    } else {
        format!("{}/fhir/r4{path}", server.base)
    };
    let mut request = server.http.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, content_type, body)
}

/// `fhir` for a doctor, expecting `status`, checked by the independent validator.
async fn read(server: &TestServer, session: &Session, path: &str, status: u16) -> Value {
    let (got, content_type, body) = fhir(server, Some(&session.access_token), path).await;
    assert_eq!(got, status, "{path}: {body:#}");
    assert_eq!(content_type, "application/fhir+json", "{path}");
    validate(&body);
    body
}

/// Runs `tests/fhir/validate.py` on the resource; fails the test when it finds a problem.
/// Without Python or the package the check is skipped, except under `CI=true`, where that
/// fails too.
fn validate(resource: &Value) {
    if let Err(problem) = validation(resource) {
        panic!("the FHIR validator refused the resource:\n{problem}\n{resource:#}");
    }
}

/// What the validator says of the resource: `Ok` when valid (or when it cannot run outside
/// CI), else its complaint.
fn validation(resource: &Value) -> Result<(), String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fhir/validate.py");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if !ci => {
            eprintln!("python3 not found ({e}): the FHIR validation is skipped");
            return Ok(());
        }
        Err(e) => panic!("python3 is needed to validate FHIR resources: {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(resource.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    match out.status.code() {
        Some(0) => Ok(()),
        Some(2) if !ci => {
            eprintln!("{said}: the FHIR validation is skipped");
            Ok(())
        }
        Some(2) => panic!("the FHIR validator cannot run: {said}"),
        _ => Err(said),
    }
}

/// The validator is not a rubber stamp: what R4 forbids, it refuses.
#[test]
fn the_validator_refuses_what_fhir_forbids() {
    let valid = json!({"resourceType": "Patient", "id": "a", "birthDate": "1980-02-03"});
    validation(&valid).unwrap();
    let python = Command::new("python3")
        .args(["-c", "import fhir.resources.R4B"])
        .status()
        .is_ok_and(|s| s.success());
    if !python {
        return; // Outside CI without the package; under CI `validation` already failed above.
    }
    for bad in [
        json!({"resourceType": "Patient", "id": "a", "colour": "blue"}),
        json!({"resourceType": "DiagnosticReport", "id": "a", "status": "final"}),
        json!({"resourceType": "Encounter", "id": "a", "status": "finished", "class": [{"code": "AMB"}]}),
        json!({"resourceType": "Bundle", "type": "searchset", "entry": [
            {"resource": {"resourceType": "Patient", "birthDate": "someday"}}
        ]}),
    ] {
        assert!(validation(&bad).is_err(), "accepted {bad}");
    }
}

fn kinds(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| e["resource"]["resourceType"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn of_kind<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| &e["resource"])
                .filter(|r| r["resourceType"] == kind)
                .collect()
        })
        .unwrap_or_default()
}

async fn mrn(server: &TestServer, session: &Session, patient: &str) -> String {
    let chart = server
        .get(&format!("/api/v1/patients/{patient}"), session)
        .await;
    chart.expect(200);
    chart.data()["mrn"].as_str().unwrap().to_string()
}

/// A patient with allergies and contacts, a signed report with an addendum and a draft.
async fn record(server: &TestServer, doctor: &Session) -> (String, String, String) {
    let patient = server.patient(doctor, "Ana María Ðoković").await;
    server
        .patch(
            &format!("/api/v1/patients/{patient}"),
            doctor,
            json!({
                "phone": "+44 20 7946 0958",
                "email": "ana@example.org",
                "address": "1 High Street, Leeds",
                "allergies": {"status": "known", "items": [
                    {"substance": "Penicillin", "reaction": "Rash", "severity": "severe"},
                    {"substance": "Latex", "severity": "very bad"},
                ]},
            }),
        )
        .await
        .expect(200);
    let signed = server.consultation_report(doctor, &patient, NOTES).await;
    let signed_id = signed["id"].as_str().unwrap().to_string();
    server
        .post(
            &format!("/api/v1/reports/{signed_id}/sign"),
            doctor,
            json!({"password": PASSWORD, "version": signed["version"]}),
        )
        .await
        .expect(200);
    server
        .post(
            &format!("/api/v1/reports/{signed_id}/addenda"),
            doctor,
            json!({"text": "Called back: sleeping <better> & eating."}),
        )
        .await
        .expect(200);
    let draft = server.consultation_report(doctor, &patient, NOTES).await;
    let draft_id = draft["id"].as_str().unwrap().to_string();
    (patient, signed_id, draft_id)
}

#[tokio::test]
async fn every_resource_kind_validates_against_an_independent_fhir_implementation() {
    let server = TestServer::start().await;
    let doctor = server.login_new("fhir-doc@example.org", Role::Doctor).await;
    let (patient, signed_id, draft_id) = record(&server, &doctor).await;
    let mrn = mrn(&server, &doctor, &patient).await;

    // The CapabilityStatement needs no token and names what is served.
    let (status, content_type, capability) = fhir(&server, None, "/metadata").await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/fhir+json");
    validate(&capability);
    assert_eq!(capability["fhirVersion"], "4.0.1");
    let served: Vec<&str> = capability["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    for kind in ["Patient", "Encounter", "DiagnosticReport"] {
        assert!(served.contains(&kind), "{served:?}");
    }

    let chart = read(&server, &doctor, &format!("/Patient/{patient}"), 200).await;
    assert_eq!(chart["resourceType"], "Patient");
    assert_eq!(chart["id"], patient.as_str());
    assert_eq!(chart["identifier"][0]["system"], "urn:synapse:mrn");
    assert_eq!(chart["identifier"][0]["value"], mrn.as_str());
    assert_eq!(chart["birthDate"], "1980-02-03");
    assert_eq!(chart["gender"], "female");
    assert_eq!(chart["name"][0]["family"], "Ðoković");

    let everything = read(
        &server,
        &doctor,
        &format!("/Patient/{patient}/$everything"),
        200,
    )
    .await;
    assert_eq!(everything["type"], "searchset");
    let found = kinds(&everything);
    for kind in [
        "Patient",
        "AllergyIntolerance",
        "Encounter",
        "DiagnosticReport",
        "Composition",
        "Provenance",
    ] {
        assert!(found.iter().any(|k| k == kind), "{kind} in {found:?}");
    }
    assert_eq!(of_kind(&everything, "AllergyIntolerance").len(), 2);
    assert_eq!(of_kind(&everything, "Encounter").len(), 2);
    assert_eq!(of_kind(&everything, "DiagnosticReport").len(), 2);
    assert_eq!(of_kind(&everything, "Provenance").len(), 1);
    let provenance = of_kind(&everything, "Provenance")[0];
    assert_eq!(
        provenance["target"][0]["reference"],
        format!("DiagnosticReport/{signed_id}")
    );
    let compositions = of_kind(&everything, "Composition");
    let signed_doc = compositions
        .iter()
        .find(|c| c["id"] == signed_id.as_str())
        .unwrap();
    assert_eq!(signed_doc["status"], "final");
    let sections = signed_doc["section"].to_string();
    assert!(
        sections.contains("sleeping &lt;better&gt; &amp; eating"),
        "{sections}"
    );
    for entry in everything["entry"].as_array().unwrap() {
        let url = entry["fullUrl"].as_str().unwrap();
        assert!(
            url.starts_with(&format!("{}/fhir/r4/", server.base)),
            "{url}"
        );
    }

    let encounters = read(
        &server,
        &doctor,
        &format!("/Encounter?patient=Patient/{patient}"),
        200,
    )
    .await;
    assert_eq!(encounters["total"], 2);
    let encounter_id = encounters["entry"][0]["resource"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let encounter = read(&server, &doctor, &format!("/Encounter/{encounter_id}"), 200).await;
    assert_eq!(encounter["status"], "finished");

    let finals = read(
        &server,
        &doctor,
        &format!("/DiagnosticReport?patient={patient}&status=final"),
        200,
    )
    .await;
    assert_eq!(finals["total"], 1, "{finals:#}");
    assert_eq!(finals["entry"][0]["resource"]["id"], signed_id.as_str());
    let drafts = read(
        &server,
        &doctor,
        &format!("/DiagnosticReport?patient={patient}&status=preliminary"),
        200,
    )
    .await;
    assert_eq!(drafts["entry"][0]["resource"]["id"], draft_id.as_str());
    let report = read(
        &server,
        &doctor,
        &format!("/DiagnosticReport/{signed_id}"),
        200,
    )
    .await;
    assert_eq!(report["status"], "final");
    for action in ["fhir.consultation.read", "fhir.report.read"] {
        let rows = server
            .sql_count(
                "SELECT COUNT(*) FROM audit_events WHERE action = $1 AND outcome = 'success'",
                &[action],
            )
            .await;
        assert_eq!(rows, 1, "{action}");
    }

    // Failures are OperationOutcomes with the right status, themselves valid.
    let missing = read(
        &server,
        &doctor,
        "/Patient/0192f0c1-7b4e-7c3a-9d2e-4f5a6b7c8d9e",
        404,
    )
    .await;
    assert_eq!(missing["resourceType"], "OperationOutcome");
    assert_eq!(missing["issue"][0]["code"], "not-found");
    let bad = read(&server, &doctor, "/Patient?colour=blue", 400).await;
    assert!(
        bad["issue"][0]["diagnostics"]
            .as_str()
            .unwrap()
            .contains("colour"),
        "{bad:#}"
    );
    let (status, content_type, anonymous) =
        fhir(&server, None, &format!("/Patient/{patient}")).await;
    assert_eq!(status, 401);
    assert_eq!(content_type, "application/fhir+json");
    assert_eq!(anonymous["issue"][0]["code"], "login");
    validate(&anonymous);
    let (status, _, unknown) = fhir(&server, Some(&doctor.access_token), "/Observation").await;
    assert_eq!(status, 404);
    validate(&unknown);

    // Each read is audited on the FHIR channel, naming the patient.
    for action in [
        "fhir.patient.read",
        "fhir.patient.everything",
        "fhir.consultation.history",
        "fhir.report.list",
    ] {
        let rows = server
            .sql_rows(
                "SELECT CAST(patient_id AS TEXT), outcome FROM audit_events WHERE action = $1",
                &[action],
            )
            .await;
        assert!(
            rows.contains(&vec![Some(patient.clone()), Some("success".to_string())])
                || (action == "fhir.report.list"
                    && rows.iter().all(|r| r[1].as_deref() == Some("success"))
                    && !rows.is_empty()),
            "{action}: {rows:?}"
        );
    }
}

#[tokio::test]
async fn another_doctors_patient_is_not_found_and_their_searches_are_empty() {
    let server = TestServer::start().await;
    let doctor = server.login_new("fhir-own@example.org", Role::Doctor).await;
    let stranger = server
        .login_new("fhir-other@example.org", Role::Doctor)
        .await;
    let (patient, signed_id, _) = record(&server, &doctor).await;
    let mrn = mrn(&server, &doctor, &patient).await;

    for path in [
        format!("/Patient/{patient}"),
        format!("/Patient/{patient}/$everything"),
        format!("/DiagnosticReport/{signed_id}"),
    ] {
        let outcome = read(&server, &stranger, &path, 404).await;
        assert_eq!(outcome["resourceType"], "OperationOutcome", "{path}");
        assert!(!outcome.to_string().contains("Ðoković"), "{outcome}");
    }
    for path in [
        format!("/Encounter?patient={patient}"),
        format!("/DiagnosticReport?patient={patient}"),
        format!("/Patient?identifier=urn:synapse:mrn|{mrn}"),
        "/Patient?name=Ana".to_string(),
    ] {
        let bundle = read(&server, &stranger, &path, 200).await;
        assert_eq!(bundle["total"], 0, "{path}: {bundle:#}");
        assert!(bundle.get("entry").is_none(), "{path}");
    }
    let denied = server
        .sql_count(
            "SELECT COUNT(*) FROM audit_events WHERE action = $1 AND outcome = 'denied' AND CAST(patient_id AS TEXT) = $2",
            &["fhir.patient.read", &patient],
        )
        .await;
    assert_eq!(denied, 1);

    // A receptionist is refused, as on the API's clinical routes.
    let desk = server
        .login_new("fhir-desk@example.org", Role::Receptionist)
        .await;
    let refused = read(&server, &desk, "/Patient", 403).await;
    assert_eq!(refused["issue"][0]["code"], "forbidden");
}

#[tokio::test]
async fn patient_searches_page_by_their_next_links_to_the_end() {
    let server = TestServer::start().await;
    let doctor = server
        .login_new("fhir-pages@example.org", Role::Doctor)
        .await;
    let mut ids = Vec::new();
    for n in 0..7 {
        ids.push(server.patient(&doctor, &format!("Paging Tester{n}")).await);
    }
    server.patient(&doctor, "Someone Else").await;

    let mut seen = Vec::new();
    let mut next = Some("/Patient?name=pag&_count=3".to_string());
    let mut pages = 0;
    while let Some(url) = next {
        let page = read(&server, &doctor, &url, 200).await;
        assert_eq!(page["total"], 7, "{page:#}");
        let links = page["link"].as_array().unwrap();
        assert_eq!(links[0]["relation"], "self");
        for entry in page["entry"].as_array().unwrap() {
            assert_eq!(entry["search"]["mode"], "match");
            seen.push(entry["resource"]["id"].as_str().unwrap().to_string());
        }
        next = links
            .iter()
            .find(|l| l["relation"] == "next")
            .map(|l| l["url"].as_str().unwrap().to_string());
        pages += 1;
        assert!(pages <= 3, "more pages than 7 rows need");
    }
    assert_eq!(pages, 3);
    // Each page read is one audited list read on the FHIR channel.
    let listed = server
        .sql_count(
            "SELECT COUNT(*) FROM audit_events WHERE action = $1 AND outcome = 'success'",
            &["fhir.patient.list"],
        )
        .await;
    assert_eq!(listed, 3);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 7, "{seen:?}");
    ids.sort();
    assert_eq!(sorted, ids);

    // The MRN exactly, the date of birth, and both at once.
    let mrn = mrn(&server, &doctor, &ids[0]).await;
    let by_mrn = read(&server, &doctor, &format!("/Patient?identifier={mrn}"), 200).await;
    assert_eq!(by_mrn["total"], 1);
    assert_eq!(by_mrn["entry"][0]["resource"]["id"], ids[0].as_str());
    let prefix = &mrn[..mrn.len() - 1];
    let by_prefix = read(
        &server,
        &doctor,
        &format!("/Patient?identifier={prefix}"),
        200,
    )
    .await;
    assert_eq!(by_prefix["total"], 0, "an identifier matches exactly");
    let born = read(
        &server,
        &doctor,
        "/Patient?birthdate=1980-02-03&_count=100",
        200,
    )
    .await;
    assert_eq!(born["total"], 8);
    let other_day = read(&server, &doctor, "/Patient?birthdate=eq1990-01-01", 200).await;
    assert_eq!(other_day["total"], 0);
    let both = read(
        &server,
        &doctor,
        &format!("/Patient?birthdate=1980-02-03&identifier=urn:synapse:mrn|{mrn}"),
        200,
    )
    .await;
    assert_eq!(both["total"], 1);
    let elsewhere = read(
        &server,
        &doctor,
        &format!("/Patient?identifier=urn:other:mrn|{mrn}"),
        200,
    )
    .await;
    assert_eq!(elsewhere["total"], 0);

    // Bad parameters are 400s that name the parameter.
    for (path, name) in [
        ("/Patient?birthdate=1980", "birthdate"),
        ("/Patient?birthdate=gt1980-02-03", "birthdate"),
        ("/Patient?_count=0", "_count"),
        ("/Patient?name=a&name=b", "name"),
        ("/Patient?_cursor=nonsense", "cursor"),
        ("/DiagnosticReport?status=registered", "status"),
        ("/DiagnosticReport?status=bogus", "status"),
        ("/Encounter", "patient"),
        ("/Encounter?patient=Patient/12", "patient"),
    ] {
        let outcome = read(&server, &doctor, path, 400).await;
        let said = outcome["issue"][0]["diagnostics"].as_str().unwrap();
        assert!(said.contains(name), "{path}: {said}");
        assert_eq!(outcome["issue"][0]["code"], "invalid", "{path}");
    }
}
