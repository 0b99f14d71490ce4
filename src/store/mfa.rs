//! The TOTP second factor of accounts, on either engine: the pending or confirmed enrolment
//! (the sealed secret, the last accepted time step) and the hashed single-use recovery codes.
//! The store never sees a secret in the clear or a code: the server seals and hashes them.

use uuid::Uuid;

use super::engine::{Engine, audit_actor, insert_audit};
use super::sql::{self, Conn, Statement, WriteTx};
use super::{Actor, Administrator, AuditEntry, RequestContext, StoreError, StoreResult};
use crate::model::time::now;

/// An account's enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaRecord {
    /// The secret as the server sealed it.
    pub sealed_secret: String,
    /// Confirmed with a first code: logins and signing need a code.
    pub enabled: bool,
    /// The last time step whose code was accepted (0: none).
    pub last_step: i64,
}

pub async fn mfa_record(engine: &impl Engine, user_id: Uuid) -> StoreResult<Option<MfaRecord>> {
    let select =
        Statement::new("SELECT secret, enabled_at, last_step FROM user_mfa WHERE user_id = $1")
            .arg(user_id);
    engine
        .read(move |conn| {
            Box::pin(async move {
                conn.first(&select, |row| {
                    Ok(MfaRecord {
                        sealed_secret: sql::text(row, "secret")?,
                        enabled: sql::opt_time(row, "enabled_at")?.is_some(),
                        last_step: sql::int(row, "last_step")?,
                    })
                })
                .await
            })
        })
        .await
}

/// Keeps a new pending enrolment for the actor, replacing an earlier pending one. Answers
/// false, changing nothing, when the account already has a confirmed second factor.
pub async fn begin_mfa(
    engine: &impl Engine,
    actor: &Actor,
    sealed_secret: &str,
) -> StoreResult<bool> {
    let mut tx = engine.write_tx().await?;
    let upsert = Statement::new(
        "INSERT INTO user_mfa (user_id, secret, enabled_at, last_step, created_at)
         VALUES ($1, $2, NULL, 0, $3)
         ON CONFLICT (user_id) DO UPDATE SET secret = $2, last_step = 0, created_at = $3
         WHERE user_mfa.enabled_at IS NULL",
    )
    .arg(actor.user_id)
    .arg(sealed_secret)
    .arg(now());
    let started = tx.execute(&upsert).await? > 0;
    audit_actor(
        &mut tx,
        actor,
        "auth.mfa_enroll",
        ("user", Some(actor.user_id.to_string())),
        None,
        if started { "success" } else { "denied" },
    )
    .await?;
    tx.commit().await?;
    Ok(started)
}

/// Turns the actor's pending enrolment on, its first code having matched time step `step`,
/// with the hashes of its recovery codes. Answers false when there was no pending enrolment.
pub async fn enable_mfa(
    engine: &impl Engine,
    actor: &Actor,
    step: i64,
    recovery_hashes: &[String],
) -> StoreResult<bool> {
    let at = now();
    let mut tx = engine.write_tx().await?;
    let enable = Statement::new(
        "UPDATE user_mfa SET enabled_at = $2, last_step = $3
         WHERE user_id = $1 AND enabled_at IS NULL",
    )
    .arg(actor.user_id)
    .arg(at)
    .arg(step);
    if tx.execute(&enable).await? == 0 {
        return Ok(false);
    }
    let forget =
        Statement::new("DELETE FROM mfa_recovery_codes WHERE user_id = $1").arg(actor.user_id);
    tx.execute(&forget).await?;
    for hash in recovery_hashes {
        let insert = Statement::new(
            "INSERT INTO mfa_recovery_codes (user_id, code_hash, used_at) VALUES ($1, $2, NULL)",
        )
        .arg(actor.user_id)
        .arg(hash.as_str());
        tx.execute(&insert).await?;
    }
    audit_actor(
        &mut tx,
        actor,
        "auth.mfa_enable",
        ("user", Some(actor.user_id.to_string())),
        None,
        "success",
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Records that a code of time step `step` was accepted for `user_id`: answers false when a
/// code of that step or a later one was accepted already (a replay), so each code works once
/// even when two requests bring it at the same moment.
pub async fn accept_mfa_step(engine: &impl Engine, user_id: Uuid, step: i64) -> StoreResult<bool> {
    let mut tx = engine.write_tx().await?;
    let advance = Statement::new(
        "UPDATE user_mfa SET last_step = $2
         WHERE user_id = $1 AND enabled_at IS NOT NULL AND last_step < $2",
    )
    .arg(user_id)
    .arg(step);
    let accepted = tx.execute(&advance).await? > 0;
    tx.commit().await?;
    Ok(accepted)
}

/// Spends one of the account's recovery codes (by its hash): answers false when it is not one
/// of them or was used already. Audited, since a recovery code in use may mean a lost phone.
pub async fn use_recovery_code(
    engine: &impl Engine,
    ctx: &RequestContext,
    user_id: Uuid,
    code_hash: &str,
) -> StoreResult<bool> {
    let mut tx = engine.write_tx().await?;
    let spend = Statement::new(
        "UPDATE mfa_recovery_codes SET used_at = $3
         WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
    )
    .arg(user_id)
    .arg(code_hash)
    .arg(now());
    let spent = tx.execute(&spend).await? > 0;
    if spent {
        let entry = AuditEntry {
            user_id: Some(user_id),
            action: "auth.mfa_recovery_code",
            resource_type: Some("user"),
            resource_id: Some(user_id.to_string()),
            patient_id: None,
            outcome: "success",
        };
        insert_audit(&mut tx, ctx, &entry).await?;
    }
    tx.commit().await?;
    Ok(spent)
}

/// Removes an account's second factor (enrolment and recovery codes), for an administrator;
/// the account enrols again at its next login if its role needs one. Answers whether it had
/// one; an unknown account is `NotFound`.
pub async fn reset_mfa(
    engine: &impl Engine,
    by: &Administrator,
    user_id: Uuid,
) -> StoreResult<bool> {
    let mut tx = engine.write_tx().await?;
    let exists = Statement::new("SELECT COUNT(*) AS value FROM users WHERE id = $1").arg(user_id);
    if tx.scalar(&exists).await?.unwrap_or(0) == 0 {
        return Err(StoreError::NotFound);
    }
    let codes = Statement::new("DELETE FROM mfa_recovery_codes WHERE user_id = $1").arg(user_id);
    tx.execute(&codes).await?;
    let enrolment = Statement::new("DELETE FROM user_mfa WHERE user_id = $1").arg(user_id);
    let had = tx.execute(&enrolment).await? > 0;
    let (by_user, ctx) = by.audit_origin();
    let entry = AuditEntry {
        user_id: by_user,
        action: "admin.mfa_reset",
        resource_type: Some("user"),
        resource_id: Some(user_id.to_string()),
        patient_id: None,
        outcome: "success",
    };
    insert_audit(&mut tx, &ctx, &entry).await?;
    tx.commit().await?;
    Ok(had)
}
