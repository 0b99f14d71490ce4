//! Users, sessions, refresh tokens and lockout on SQLite.

use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use super::statement::Statement;
use super::{SqliteStore, audit_actor, insert_audit, rows};
use crate::model::auth::{Role, User};
use crate::model::time::{format_timestamp, now};
use crate::store::*;

pub(super) const USER_COLUMNS: &str =
    "id, email, full_name, role, password_hash, failed_logins, locked_until, disabled, created_at";

pub(super) fn user_record(row: &SqliteRow) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        user: User {
            id: rows::uuid(row, "id")?,
            email: rows::text(row, "email")?,
            full_name: rows::text(row, "full_name")?,
            role: rows::parsed(row, "role", Role::parse)?,
            created_at: rows::time(row, "created_at")?,
        },
        password_hash: rows::text(row, "password_hash")?,
        failed_logins: rows::int(row, "failed_logins")?.max(0) as u32,
        locked_until: rows::opt_time(row, "locked_until")?,
        disabled: rows::int(row, "disabled")? != 0,
    })
}

pub(super) async fn user_by_email(
    store: &SqliteStore,
    email: &str,
) -> StoreResult<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(email)
        .fetch_optional(&store.pool)
        .await?
        .map(|r| user_record(&r))
        .transpose()
}

pub(super) async fn user_by_id(store: &SqliteStore, id: Uuid) -> StoreResult<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_string())
        .fetch_optional(&store.pool)
        .await?
        .map(|r| user_record(&r))
        .transpose()
}

pub(super) async fn record_login_failure(
    store: &SqliteStore,
    ctx: &RequestContext,
    user_id: Uuid,
    policy: LockoutPolicy,
) -> StoreResult<LoginFailure> {
    let at = now();
    let stamp = format_timestamp(at);
    let mut tx = store.write_tx().await?;
    // An expired lock starts the count again; all SET expressions see the old row.
    let (failed, locked_until): (i64, Option<String>) = sqlx::query_as(
        "UPDATE users SET
             failed_logins = CASE WHEN locked_until IS NOT NULL AND locked_until <= $2 THEN 1 ELSE failed_logins + 1 END,
             locked_until = CASE WHEN locked_until IS NOT NULL AND locked_until <= $2 THEN NULL ELSE locked_until END,
             updated_at = $2
         WHERE id = $1
         RETURNING failed_logins, locked_until",
    )
    .bind(user_id.to_string())
    .bind(&stamp)
    .fetch_one(&mut *tx)
    .await?;
    let mut locked_until = locked_until.and_then(|t| crate::model::time::parse_timestamp(&t));
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
    if failed >= i64::from(policy.threshold) && locked_until.is_none() {
        let until = at + policy.duration;
        sqlx::query("UPDATE users SET locked_until = $2 WHERE id = $1")
            .bind(user_id.to_string())
            .bind(format_timestamp(until))
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
    conn: &mut sqlx::SqliteConnection,
    session_id: Uuid,
    token: &NewRefreshToken,
    stamp: &str,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&token.token_hash)
    .bind(session_id.to_string())
    .bind(stamp)
    .bind(format_timestamp(token.expires_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn open_session(
    store: &SqliteStore,
    ctx: &RequestContext,
    user_id: Uuid,
    refresh: &NewRefreshToken,
) -> StoreResult<Uuid> {
    let stamp = format_timestamp(now());
    let session_id = Uuid::now_v7();
    let mut tx = store.write_tx().await?;
    sqlx::query(
        "UPDATE users SET failed_logins = 0, locked_until = NULL, updated_at = $2 WHERE id = $1",
    )
    .bind(user_id.to_string())
    .bind(&stamp)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO sessions (id, user_id, created_at) VALUES ($1, $2, $3)")
        .bind(session_id.to_string())
        .bind(user_id.to_string())
        .bind(&stamp)
        .execute(&mut *tx)
        .await?;
    insert_refresh_token(&mut tx, session_id, refresh, &stamp).await?;
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
    store: &SqliteStore,
    ctx: &RequestContext,
    presented_hash: &str,
    next: &NewRefreshToken,
) -> StoreResult<RefreshOutcome> {
    let at = now();
    let stamp = format_timestamp(at);
    let mut tx = store.write_tx().await?;
    let sql = format!(
        "SELECT rt.session_id, rt.expires_at, rt.used_at, s.revoked_at, {}
         FROM refresh_tokens rt
         JOIN sessions s ON s.id = rt.session_id
         JOIN users u ON u.id = s.user_id
         WHERE rt.token_hash = $1",
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
    let session_id = rows::uuid(&row, "session_id")?;
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
    } else if rows::opt_time(&row, "revoked_at")?.is_some() {
        RefreshOutcome::Revoked
    } else if rows::opt_time(&row, "used_at")?.is_some() {
        // Someone replayed a spent token: whoever holds the session, it can no longer be trusted.
        sqlx::query(
            "UPDATE sessions SET revoked_at = $2, revoke_reason = 'refresh token reuse' WHERE id = $1",
        )
        .bind(session_id.to_string())
        .bind(&stamp)
        .execute(&mut *tx)
        .await?;
        RefreshOutcome::Reused
    } else if rows::time(&row, "expires_at")? <= at {
        RefreshOutcome::Expired
    } else {
        sqlx::query("UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1")
            .bind(presented_hash)
            .bind(&stamp)
            .execute(&mut *tx)
            .await?;
        insert_refresh_token(&mut tx, session_id, next, &stamp).await?;
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
    store: &SqliteStore,
    session_id: Uuid,
    user_id: Uuid,
) -> StoreResult<SessionState> {
    let mut select = Statement::new(
        "SELECT s.revoked_at, u.disabled FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = ",
    );
    select
        .push_bind(session_id.to_string())
        .push(" AND s.user_id = ")
        .push_bind(user_id.to_string());
    let row = store
        .readers
        .read(move |conn| {
            select.first(conn, |row| {
                Ok((
                    rows::opt_text(row, "revoked_at")?,
                    rows::int(row, "disabled")?,
                ))
            })
        })
        .await?;
    Ok(match row {
        None => SessionState::Revoked,
        // Checked before the revocation that disabling also did: the caller learns why.
        Some((_, disabled)) if disabled != 0 => SessionState::Disabled,
        Some((Some(_), _)) => SessionState::Revoked,
        Some((None, _)) => SessionState::Active,
    })
}

pub(super) async fn session_of_refresh_token(
    store: &SqliteStore,
    token_hash: &str,
) -> StoreResult<Option<(Uuid, Uuid)>> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT s.id, s.user_id FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
         WHERE rt.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(&store.pool)
    .await?;
    Ok(row.and_then(|(s, u)| Some((Uuid::parse_str(&s).ok()?, Uuid::parse_str(&u).ok()?))))
}

pub(super) async fn revoke_session(
    store: &SqliteStore,
    actor: &Actor,
    session_id: Uuid,
    reason: &str,
) -> StoreResult<()> {
    let mut tx = store.write_tx().await?;
    sqlx::query(
        "UPDATE sessions SET revoked_at = $3, revoke_reason = $4
         WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
    )
    .bind(session_id.to_string())
    .bind(actor.user_id.to_string())
    .bind(format_timestamp(now()))
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
    store: &SqliteStore,
    actor: &Actor,
    keep_session: Uuid,
    password_hash: &str,
) -> StoreResult<()> {
    let stamp = format_timestamp(now());
    let mut tx = store.write_tx().await?;
    sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
        .bind(actor.user_id.to_string())
        .bind(password_hash)
        .bind(&stamp)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE sessions SET revoked_at = $3, revoke_reason = 'password changed'
         WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL",
    )
    .bind(actor.user_id.to_string())
    .bind(keep_session.to_string())
    .bind(&stamp)
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
