//! Users, sessions, refresh tokens and lockout on PostgreSQL. All of it is in the database, so
//! every server instance on it sees the same lockouts, logouts and token rotations.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use super::{PgStore, audit_actor, insert_audit, rows};
use crate::model::auth::{Role, User};
use crate::model::time::now;
use crate::store::*;

pub(super) const USER_COLUMNS: &str =
    "id, email, full_name, role, password_hash, failed_logins, locked_until, disabled, created_at";

pub(super) fn user_record(row: &PgRow) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        user: User {
            id: rows::get(row, "id")?,
            email: rows::get(row, "email")?,
            full_name: rows::get(row, "full_name")?,
            role: rows::parsed(row, "role", Role::parse)?,
            created_at: rows::get(row, "created_at")?,
        },
        password_hash: rows::get(row, "password_hash")?,
        failed_logins: rows::get::<i32>(row, "failed_logins")?.max(0) as u32,
        locked_until: rows::get(row, "locked_until")?,
        disabled: rows::get(row, "disabled")?,
    })
}

pub(super) async fn user_by_email(store: &PgStore, email: &str) -> StoreResult<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(email)
        .fetch_optional(&store.pool)
        .await?
        .map(|r| user_record(&r))
        .transpose()
}

pub(super) async fn user_by_id(store: &PgStore, id: Uuid) -> StoreResult<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&store.pool)
        .await?
        .map(|r| user_record(&r))
        .transpose()
}

pub(super) async fn record_login_failure(
    store: &PgStore,
    ctx: &RequestContext,
    user_id: Uuid,
    policy: LockoutPolicy,
) -> StoreResult<LoginFailure> {
    let at = now();
    let mut tx = store.write_tx().await?;
    // The UPDATE locks the user row, so failures arriving at once on several instances count
    // one after another. An expired lock starts the count again; SET sees the old row.
    let (failed, mut locked_until): (i32, Option<DateTime<Utc>>) = sqlx::query_as(
        "UPDATE users SET
             failed_logins = CASE WHEN locked_until IS NOT NULL AND locked_until <= $2 THEN 1 ELSE failed_logins + 1 END,
             locked_until = CASE WHEN locked_until IS NOT NULL AND locked_until <= $2 THEN NULL ELSE locked_until END,
             updated_at = $2
         WHERE id = $1
         RETURNING failed_logins, locked_until",
    )
    .bind(user_id)
    .bind(at)
    .fetch_one(&mut *tx)
    .await?;
    let entry = |action, outcome| AuditEntry {
        user_id: Some(user_id),
        action,
        resource_type: Some("user"),
        resource_id: Some(user_id.to_string()),
        patient_id: None,
        outcome,
    };
    insert_audit(
        &mut tx,
        &ctx.request_id,
        ctx.ip.as_deref(),
        &entry("auth.login", "failure"),
    )
    .await?;
    if i64::from(failed) >= i64::from(policy.threshold) && locked_until.is_none() {
        let until = at + policy.duration;
        sqlx::query("UPDATE users SET locked_until = $2 WHERE id = $1")
            .bind(user_id)
            .bind(until)
            .execute(&mut *tx)
            .await?;
        insert_audit(
            &mut tx,
            &ctx.request_id,
            ctx.ip.as_deref(),
            &entry("auth.lockout", "locked"),
        )
        .await?;
        locked_until = Some(until);
    }
    tx.commit().await?;
    Ok(LoginFailure {
        failed_logins: failed.max(0) as u32,
        locked_until,
    })
}

async fn insert_refresh_token(
    conn: &mut PgConnection,
    session_id: Uuid,
    token: &NewRefreshToken,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&token.token_hash)
    .bind(session_id)
    .bind(at)
    .bind(super::millis(token.expires_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn open_session(
    store: &PgStore,
    ctx: &RequestContext,
    user_id: Uuid,
    refresh: &NewRefreshToken,
) -> StoreResult<Uuid> {
    let at = now();
    let session_id = Uuid::now_v7();
    let mut tx = store.write_tx().await?;
    sqlx::query(
        "UPDATE users SET failed_logins = 0, locked_until = NULL, updated_at = $2 WHERE id = $1",
    )
    .bind(user_id)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO sessions (id, user_id, created_at) VALUES ($1, $2, $3)")
        .bind(session_id)
        .bind(user_id)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    insert_refresh_token(&mut tx, session_id, refresh, at).await?;
    insert_audit(
        &mut tx,
        &ctx.request_id,
        ctx.ip.as_deref(),
        &AuditEntry {
            user_id: Some(user_id),
            action: "auth.login",
            resource_type: Some("session"),
            resource_id: Some(session_id.to_string()),
            patient_id: None,
            outcome: "success",
        },
    )
    .await?;
    tx.commit().await?;
    Ok(session_id)
}

pub(super) async fn rotate_refresh_token(
    store: &PgStore,
    ctx: &RequestContext,
    presented_hash: &str,
    next: &NewRefreshToken,
) -> StoreResult<RefreshOutcome> {
    let at = now();
    let mut tx = store.write_tx().await?;
    // The token row is locked: a second presentation of the same token (on any instance) waits
    // for this one, then finds it used and is treated as reuse.
    let sql = format!(
        "SELECT rt.session_id, rt.expires_at, rt.used_at, s.revoked_at, {}
         FROM refresh_tokens rt
         JOIN sessions s ON s.id = rt.session_id
         JOIN users u ON u.id = s.user_id
         WHERE rt.token_hash = $1
         FOR UPDATE OF rt",
        USER_COLUMNS
            .split(", ")
            .map(|c| format!("u.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(presented_hash)
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(RefreshOutcome::Unknown);
    };
    let session_id: Uuid = rows::get(&row, "session_id")?;
    let record = user_record(&row)?;
    let audit = |action, outcome| AuditEntry {
        user_id: Some(record.user.id),
        action,
        resource_type: Some("session"),
        resource_id: Some(session_id.to_string()),
        patient_id: None,
        outcome,
    };
    // A disabled account says so (API.md), even though disabling also revoked its sessions.
    let outcome = if record.disabled {
        RefreshOutcome::Disabled
    } else if rows::get::<Option<DateTime<Utc>>>(&row, "revoked_at")?.is_some() {
        RefreshOutcome::Revoked
    } else if rows::get::<Option<DateTime<Utc>>>(&row, "used_at")?.is_some() {
        // Someone replayed a spent token: whoever holds the session, it can no longer be trusted.
        sqlx::query(
            "UPDATE sessions SET revoked_at = $2, revoke_reason = 'refresh token reuse' WHERE id = $1",
        )
        .bind(session_id)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        RefreshOutcome::Reused
    } else if rows::get::<DateTime<Utc>>(&row, "expires_at")? <= at {
        RefreshOutcome::Expired
    } else {
        sqlx::query("UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1")
            .bind(presented_hash)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        insert_refresh_token(&mut tx, session_id, next, at).await?;
        RefreshOutcome::Rotated {
            user: record.user.clone(),
            session_id,
        }
    };
    let (action, result) = match &outcome {
        RefreshOutcome::Rotated { .. } => ("auth.refresh", "success"),
        RefreshOutcome::Reused => ("auth.refresh_reuse", "revoked"),
        _ => ("auth.refresh", "failure"),
    };
    insert_audit(
        &mut tx,
        &ctx.request_id,
        ctx.ip.as_deref(),
        &audit(action, result),
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}

pub(super) async fn session_state(
    store: &PgStore,
    session_id: Uuid,
    user_id: Uuid,
) -> StoreResult<SessionState> {
    let row: Option<(Option<DateTime<Utc>>, bool)> = sqlx::query_as(
        "SELECT s.revoked_at, u.disabled FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = $1 AND s.user_id = $2",
    )
    .bind(session_id)
    .bind(user_id)
    .fetch_optional(&store.pool)
    .await?;
    Ok(match row {
        None => SessionState::Revoked,
        // Checked before the revocation that disabling also did: the caller learns why.
        Some((_, true)) => SessionState::Disabled,
        Some((Some(_), false)) => SessionState::Revoked,
        Some((None, false)) => SessionState::Active,
    })
}

pub(super) async fn session_of_refresh_token(
    store: &PgStore,
    token_hash: &str,
) -> StoreResult<Option<(Uuid, Uuid)>> {
    Ok(sqlx::query_as(
        "SELECT s.id, s.user_id FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
         WHERE rt.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(&store.pool)
    .await?)
}

pub(super) async fn revoke_session(
    store: &PgStore,
    actor: &Actor,
    session_id: Uuid,
    reason: &str,
) -> StoreResult<()> {
    let mut tx = store.write_tx().await?;
    sqlx::query(
        "UPDATE sessions SET revoked_at = $3, revoke_reason = $4
         WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
    )
    .bind(session_id)
    .bind(actor.user_id)
    .bind(now())
    .bind(reason)
    .execute(&mut *tx)
    .await?;
    audit_actor(
        &mut tx,
        actor,
        "auth.logout",
        ("session", Some(session_id.to_string())),
        None,
        "success",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn change_password(
    store: &PgStore,
    actor: &Actor,
    keep_session: Uuid,
    password_hash: &str,
) -> StoreResult<()> {
    let at = now();
    let mut tx = store.write_tx().await?;
    sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
        .bind(actor.user_id)
        .bind(password_hash)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE sessions SET revoked_at = $3, revoke_reason = 'password changed'
         WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL",
    )
    .bind(actor.user_id)
    .bind(keep_session)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    audit_actor(
        &mut tx,
        actor,
        "auth.change_password",
        ("user", Some(actor.user_id.to_string())),
        None,
        "success",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
