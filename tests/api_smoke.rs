//! A first pass through the real server: log in, register a patient, run a consultation to a
//! generated report, and sign it.

mod common;

use common::TestServer;
use serde_json::json;
use synapse::model::auth::Role;

#[tokio::test]
async fn a_consultation_produces_a_report_that_can_be_signed() {
    let server = TestServer::start().await;
    let doctor = server.login_new("doc@clinic.test", Role::Doctor).await;
    let patient = server.patient(&doctor, "Anna Smith").await;
    let report = server
        .consultation_report(
            &doctor,
            &patient,
            "History: low mood for 3 weeks\nAssessment: moderate depression\nPlan: review in 2 weeks",
        )
        .await;
    assert_eq!(report["status"], "completed", "{report:#}");
    assert!(
        report["content"]["history"]
            .as_str()
            .unwrap()
            .contains("low mood")
    );
    let id = report["id"].as_str().unwrap();
    let signed = server
        .post(
            &format!("/api/v1/reports/{id}/sign"),
            &doctor,
            json!({"password": common::PASSWORD, "version": report["version"]}),
        )
        .await;
    signed.expect(200);
    assert_eq!(signed.data()["status"], "signed");
    assert_eq!(signed.data()["signed_by"]["id"], doctor.user_id.as_str());
}
