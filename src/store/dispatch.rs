//! The one `impl Store`: every engine that implements `Engine` is a `Store`, each method handed
//! to the resource module that implements it once for both engines (`auth`, `admin`,
//! `settings`, `patients`, `consultations`, `reports`, `events`), and loading to the engine's
//! own bulk path.

use async_trait::async_trait;
use uuid::Uuid;

use super::engine::Engine;
use super::*;
use crate::model::admin::{AdminUser, AuditEvent, NewUser};
use crate::model::consultation::{Consultation, ConsultationHistory, StartConsultation};
use crate::model::page::Page;
use crate::model::patient::{DoctorSummary, NewPatient, Patient, PatientSummary, PatientUpdate};
use crate::model::report::{Report, ReportContent, ReportPage, ReportStats};

#[async_trait]
impl<E: Engine> Store for E {
    async fn ping(&self) -> StoreResult<()> {
        super::settings::ping(self).await
    }
    async fn writable(&self) -> StoreResult<()> {
        super::settings::writable(self).await
    }
    async fn reseal(&self, passes: u32) -> StoreResult<(super::reseal::Pass, bool)> {
        super::reseal::until_done(self, passes).await
    }
    fn status(&self) -> crate::telemetry::StoreStatus {
        let (pool_open, pool_idle) = self.write_pool();
        crate::telemetry::StoreStatus {
            pool_open,
            pool_idle,
            audit_queued: self.audit_queue().queued(),
        }
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
        super::auth::user_by_email(self, email).await
    }
    async fn user_by_id(&self, id: Uuid) -> StoreResult<Option<UserRecord>> {
        super::auth::user_by_id(self, id).await
    }
    async fn create_user(
        &self,
        by: Option<&Administrator>,
        user: &NewUser,
        password_hash: &str,
    ) -> StoreResult<AdminUser> {
        super::admin::create_user(self, by, user, password_hash).await
    }
    async fn record_login_failure(
        &self,
        ctx: &RequestContext,
        email: &str,
        user_id: Option<Uuid>,
        policy: LockoutPolicy,
    ) -> StoreResult<LoginFailure> {
        super::auth::record_login_failure(self, ctx, email, user_id, policy).await
    }
    async fn login_lock(
        &self,
        ctx: &RequestContext,
        email: &str,
    ) -> StoreResult<Option<chrono::DateTime<chrono::Utc>>> {
        super::auth::login_lock(self, ctx, email).await
    }
    async fn open_session(
        &self,
        ctx: &RequestContext,
        user_id: Uuid,
        refresh: &NewRefreshToken,
        client: Option<&str>,
    ) -> StoreResult<Uuid> {
        super::auth::open_session(self, ctx, user_id, refresh, client).await
    }
    async fn rotate_refresh_token(
        &self,
        ctx: &RequestContext,
        presented_hash: &str,
        next: &NewRefreshToken,
        policy: SessionPolicy,
    ) -> StoreResult<RefreshOutcome> {
        super::auth::rotate_refresh_token(self, ctx, presented_hash, next, policy).await
    }
    async fn session_state(
        &self,
        session_id: Uuid,
        user_id: Uuid,
        policy: SessionPolicy,
        usage: SessionUse,
    ) -> StoreResult<SessionState> {
        super::auth::session_state(self, session_id, user_id, policy, usage).await
    }
    async fn open_sessions(
        &self,
        user_id: Uuid,
        policy: SessionPolicy,
    ) -> StoreResult<Vec<OpenSession>> {
        super::auth::open_sessions(self, user_id, policy).await
    }
    async fn session_of_refresh_token(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<(Uuid, Uuid)>> {
        super::auth::session_of_refresh_token(self, token_hash).await
    }
    async fn revoke_session(
        &self,
        actor: &Actor,
        session_id: Uuid,
        reason: &str,
    ) -> StoreResult<bool> {
        super::auth::revoke_session(self, actor, session_id, reason).await
    }
    async fn change_password(
        &self,
        actor: &Actor,
        keep_session: Uuid,
        password_hash: &str,
    ) -> StoreResult<()> {
        super::auth::change_password(self, actor, keep_session, password_hash).await
    }
    async fn audit(&self, ctx: &RequestContext, entry: AuditEntry<'_>) -> StoreResult<()> {
        self.audit_queue()
            .record(super::audit_queue::audit_row(ctx, &entry))
            .await
    }

    async fn mfa_record(&self, user_id: Uuid) -> StoreResult<Option<mfa::MfaRecord>> {
        super::mfa::mfa_record(self, user_id).await
    }
    async fn begin_mfa(&self, actor: &Actor, sealed_secret: &str) -> StoreResult<bool> {
        super::mfa::begin_mfa(self, actor, sealed_secret).await
    }
    async fn enable_mfa(
        &self,
        actor: &Actor,
        step: i64,
        recovery_hashes: &[String],
    ) -> StoreResult<bool> {
        super::mfa::enable_mfa(self, actor, step, recovery_hashes).await
    }
    async fn accept_mfa_step(&self, user_id: Uuid, step: i64) -> StoreResult<bool> {
        super::mfa::accept_mfa_step(self, user_id, step).await
    }
    async fn use_recovery_code(
        &self,
        ctx: &RequestContext,
        user_id: Uuid,
        code_hash: &str,
    ) -> StoreResult<bool> {
        super::mfa::use_recovery_code(self, ctx, user_id, code_hash).await
    }
    async fn reset_mfa(&self, by: &Administrator, user_id: Uuid) -> StoreResult<bool> {
        super::mfa::reset_mfa(self, by, user_id).await
    }

    async fn list_users(
        &self,
        by: &Administrator,
        limit: u32,
        offset: u64,
    ) -> StoreResult<Page<AdminUser>> {
        super::admin::list_users(self, by, limit, offset).await
    }
    async fn active_admins(&self) -> StoreResult<u64> {
        super::admin::active_admins(self).await
    }
    async fn unlock_user(&self, by: &Administrator, user_id: Uuid) -> StoreResult<AdminUser> {
        super::admin::unlock_user(self, by, user_id).await
    }
    async fn disable_user(&self, by: &Administrator, user_id: Uuid) -> StoreResult<AdminUser> {
        super::admin::disable_user(self, by, user_id).await
    }
    async fn enable_user(&self, by: &Administrator, user_id: Uuid) -> StoreResult<AdminUser> {
        super::admin::enable_user(self, by, user_id).await
    }
    async fn reset_password(
        &self,
        by: &Administrator,
        user_id: Uuid,
        password_hash: &str,
    ) -> StoreResult<AdminUser> {
        super::admin::reset_password(self, by, user_id, password_hash).await
    }
    async fn revoke_sessions(&self, by: &Administrator, user_id: Uuid) -> StoreResult<u64> {
        super::admin::revoke_sessions(self, by, user_id).await
    }
    async fn query_audit(
        &self,
        actor: &Actor,
        query: &AuditQuery,
    ) -> StoreResult<Page<AuditEvent>> {
        super::admin::query_audit(self, actor, query).await
    }
    async fn export_audit(
        &self,
        by: &Administrator,
        query: &AuditQuery,
        after: Option<AuditPosition>,
    ) -> StoreResult<Vec<AuditEvent>> {
        super::admin::export_audit(self, by, query, after).await
    }
    fn audit_chain_names(&self) -> Vec<&'static str> {
        self.dialect()
            .audit_chains()
            .iter()
            .map(|(name, _, _)| *name)
            .collect()
    }
    async fn audit_chain_links(
        &self,
        chain: usize,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<audit_chain::ChainLink>> {
        super::audit_chain::links(self, chain, after, limit).await
    }
    async fn audit_unchained(
        &self,
        chain: usize,
        limit: u32,
    ) -> StoreResult<Vec<audit_queue::AuditRow>> {
        super::audit_chain::unchained(self, chain, limit).await
    }
    async fn audit_chain_heads(&self) -> StoreResult<Vec<(&'static str, audit_chain::ChainHead)>> {
        super::audit_chain::heads(self).await
    }

    async fn list_patients(
        &self,
        actor: &Actor,
        query: &PatientListQuery,
    ) -> StoreResult<Page<PatientSummary>> {
        patients::list(self, actor, query).await
    }
    async fn search_patients(
        &self,
        actor: &Actor,
        term: &str,
        limit: u32,
    ) -> StoreResult<Vec<PatientSummary>> {
        patients::search(self, actor, term, limit).await
    }
    async fn get_patient(&self, actor: &Actor, id: Uuid) -> StoreResult<Patient> {
        patients::get(self, actor, id).await
    }
    async fn create_patient(
        &self,
        actor: &Actor,
        doctor_id: Uuid,
        patient: &NewPatient,
    ) -> StoreResult<Patient> {
        patients::create(self, actor, doctor_id, patient).await
    }
    async fn update_patient(
        &self,
        actor: &Actor,
        id: Uuid,
        update: &PatientUpdate,
    ) -> StoreResult<Patient> {
        patients::update(self, actor, id, update).await
    }
    async fn active_doctors(&self, actor: &Actor) -> StoreResult<Vec<DoctorSummary>> {
        patients::active_doctors(self, actor).await
    }

    async fn start_consultation(
        &self,
        actor: &Actor,
        start: &StartConsultation,
    ) -> StoreResult<Consultation> {
        super::consultations::start(self, actor, start).await
    }
    async fn active_consultations(&self, actor: &Actor) -> StoreResult<Vec<Consultation>> {
        super::consultations::active(self, actor).await
    }
    async fn get_consultation(&self, actor: &Actor, id: Uuid) -> StoreResult<Consultation> {
        super::consultations::get(self, actor, id).await
    }
    async fn update_notes(
        &self,
        actor: &Actor,
        id: Uuid,
        notes: &str,
    ) -> StoreResult<Consultation> {
        super::consultations::update_notes(self, actor, id, notes).await
    }
    async fn stop_consultation(
        &self,
        actor: &Actor,
        id: Uuid,
        notes: Option<&str>,
    ) -> StoreResult<Consultation> {
        super::consultations::stop(self, actor, id, notes).await
    }
    async fn cancel_consultation(
        &self,
        actor: &Actor,
        id: Uuid,
        reason: &str,
    ) -> StoreResult<Consultation> {
        super::consultations::cancel(self, actor, id, reason).await
    }
    async fn consultation_history(
        &self,
        actor: &Actor,
        patient_id: Uuid,
        limit: u32,
        offset: u64,
    ) -> StoreResult<ConsultationHistory> {
        super::consultations::history(self, actor, patient_id, limit, offset).await
    }

    async fn list_reports(
        &self,
        actor: &Actor,
        query: &ReportListQuery,
    ) -> StoreResult<ReportPage> {
        super::reports::list(self, actor, query).await
    }
    async fn report_stats(
        &self,
        actor: &Actor,
        patient_id: Option<Uuid>,
        days: u32,
    ) -> StoreResult<ReportStats> {
        super::reports::stats(self, actor, patient_id, days).await
    }
    async fn get_report(&self, actor: &Actor, id: Uuid) -> StoreResult<Report> {
        super::reports::get(self, actor, id).await
    }
    async fn export_report(
        &self,
        actor: &Actor,
        id: Uuid,
        format: crate::model::export::ExportFormat,
    ) -> StoreResult<crate::model::export::ExportedReport> {
        super::exports::report(self, actor, id, format).await
    }
    async fn export_record(
        &self,
        actor: &Actor,
        patient_id: Uuid,
        format: crate::model::export::ExportFormat,
    ) -> StoreResult<crate::model::export::PatientRecord> {
        super::exports::record(self, actor, patient_id, format).await
    }
    async fn patient_everything(
        &self,
        actor: &Actor,
        patient_id: Uuid,
    ) -> StoreResult<crate::model::export::PatientRecord> {
        super::exports::everything(self, actor, patient_id).await
    }
    async fn edit_report(
        &self,
        actor: &Actor,
        id: Uuid,
        content: &ReportContent,
        version: u32,
    ) -> StoreResult<Report> {
        super::reports::edit(self, actor, id, content, version).await
    }
    async fn sign_report(&self, actor: &Actor, id: Uuid, version: u32) -> StoreResult<Report> {
        super::reports::sign(self, actor, id, version).await
    }
    async fn add_addendum(&self, actor: &Actor, id: Uuid, text: &str) -> StoreResult<Report> {
        super::reports::add_addendum(self, actor, id, text).await
    }

    async fn queued_reports(&self) -> StoreResult<Vec<Uuid>> {
        super::reports::queued(self).await
    }
    async fn claim_generation(&self, report_id: Uuid) -> StoreResult<Option<GenerationJob>> {
        super::reports::claim_generation(self, report_id).await
    }
    async fn finish_generation(
        &self,
        report_id: Uuid,
        result: Result<(&ReportContent, f64, &str), &str>,
    ) -> StoreResult<()> {
        super::reports::finish_generation(self, report_id, result).await
    }

    async fn events_after(&self, after: i64, limit: u32) -> StoreResult<Vec<events::OwnedEvent>> {
        events::after(self, after, limit).await
    }
    async fn subscribe_events(
        &self,
        actor: &Actor,
        last_event_id: Option<i64>,
    ) -> StoreResult<events::EventReplay> {
        events::subscribe(self, actor, last_event_id).await
    }
    async fn catch_up_events(&self, actor: &Actor, after: i64) -> StoreResult<events::EventReplay> {
        events::catch_up(self, actor, after).await
    }
    async fn prune_events(&self, keep: u64, read_up_to: i64) -> StoreResult<u64> {
        events::prune(self, keep, read_up_to).await
    }
    fn event_signal(&self) -> tokio::sync::watch::Receiver<u64> {
        Engine::event_signal(self)
    }

    async fn insert_synthetic(
        &self,
        doctor_ids: &[Uuid],
        patients: &[synth::SynthPatient],
    ) -> StoreResult<()> {
        self.bulk_insert(doctor_ids, patients).await
    }
    async fn prepare_bulk_load(&self) -> StoreResult<bool> {
        self.bulk_prepare().await
    }
    async fn finish_bulk_load(&self) -> StoreResult<usize> {
        self.bulk_finish().await
    }
    async fn next_mrn_seq(&self) -> StoreResult<i64> {
        super::settings::next_mrn_seq(self).await
    }
    async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        super::settings::setting(self, key).await
    }
    async fn set_setting(&self, key: &str, value: &str) -> StoreResult<()> {
        super::settings::set_setting(self, key, value).await
    }
    async fn claim_setting(&self, key: &str, value: &str) -> StoreResult<bool> {
        super::settings::claim_setting(self, key, value).await
    }
}
