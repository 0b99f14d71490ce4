//! Users, sessions, refresh tokens and lockout, on either engine. All of it lives in the
//! database, so every server instance on one PostgreSQL database sees the same lockouts,
//! logouts and token rotations.
//!
//! Concurrent changes of one row queue on it: the lockout `UPDATE … RETURNING` locks the user
//! row, and a refresh first reads its token with the dialect's row lock, so a second
//! presentation of the same token (on any instance) waits for the first, then finds it used.
//! SQLite has one writer at a time.

use chrono::{DateTime, SubsecRound, Utc};
use uuid::Uuid;

use super::engine::{Engine, audit_actor, insert_audit};
use super::sql::{self, Conn, Row, Statement, WriteTx};
use super::{
    Actor, AuditEntry, LockoutPolicy, LoginFailure, NewRefreshToken, OpenSession, RefreshOutcome,
    RequestContext, SessionPolicy, SessionState, SessionUse, StoreError, StoreResult, UserRecord,
};
use crate::model::auth::{Role, User};
use crate::model::time::now;

/// The columns [`user_record`] reads, of the `users` table.
pub(super) const USER_COLUMNS: &str =
    "id, email, full_name, role, password_hash, failed_logins, locked_until, disabled, created_at";

/// [`USER_COLUMNS`] of the table alias `u`, for joins.
const USER_COLUMNS_OF_U: &str = "u.id, u.email, u.full_name, u.role, u.password_hash, \
     u.failed_logins, u.locked_until, u.disabled, u.created_at";

pub(super) fn user_record(row: &dyn Row) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        user: User {
            id: sql::uuid(row, "id")?,
            email: sql::text(row, "email")?,
            full_name: sql::text(row, "full_name")?,
            role: sql::parsed(row, "role", Role::parse)?,
            created_at: sql::time(row, "created_at")?,
        },
        password_hash: sql::text(row, "password_hash")?,
        failed_logins: sql::int(row, "failed_logins")?.clamp(0, i64::from(u32::MAX)) as u32,
        locked_until: sql::opt_time(row, "locked_until")?,
        disabled: sql::boolean(row, "disabled")?,
    })
}

/// A time cut to milliseconds, as SQLite's text keeps it: a time that did not come from
/// [`now`] (a token's expiry, an audit filter's bound) is stored and compared alike on both
/// engines.
pub(super) fn millis(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(3)
}

async fn user_where(
    engine: &impl Engine,
    column: &str,
    value: sql::Value,
) -> StoreResult<Option<UserRecord>> {
    let select = Statement::new(format!(
        "SELECT {USER_COLUMNS} FROM users WHERE {column} = $1"
    ))
    .arg(value);
    engine
        .read(move |conn| Box::pin(async move { conn.first(&select, user_record).await }))
        .await
}

pub async fn user_by_email(engine: &impl Engine, email: &str) -> StoreResult<Option<UserRecord>> {
    user_where(engine, "email", email.into()).await
}

pub async fn user_by_id(engine: &impl Engine, id: Uuid) -> StoreResult<Option<UserRecord>> {
    user_where(engine, "id", id.into()).await
}

/// The audit row of an event about `user_id` before anyone is authenticated.
fn entry<'a>(
    user_id: Uuid,
    resource: (&'a str, Uuid),
    action: &'a str,
    outcome: &'a str,
) -> AuditEntry<'a> {
    AuditEntry {
        user_id: Some(user_id),
        action,
        resource_type: Some(resource.0),
        resource_id: Some(resource.1.to_string()),
        patient_id: None,
        outcome,
    }
}

/// The scope of an account's back-off from every address, beside the per-address scopes.
const EVERYWHERE: &str = "*";

/// The scope of the request's own address; a request without one (not over TCP) shares one.
fn address_scope(ctx: &RequestContext) -> &str {
    ctx.ip.as_deref().unwrap_or("unknown")
}

/// Until when logins to `email` from the request's address are refused: the later of the lock
/// of this address and the account's back-off from everywhere. Keyed on the email, whether or
/// not it has an account, so that the answer never tells which emails have one.
pub async fn login_lock(
    engine: &impl Engine,
    ctx: &RequestContext,
    email: &str,
) -> StoreResult<Option<DateTime<Utc>>> {
    let select = Statement::new(
        "SELECT locked_until FROM login_locks
         WHERE email = $1 AND scope IN ($2, $3) AND locked_until IS NOT NULL AND locked_until > $4",
    )
    .arg(email)
    .arg(address_scope(ctx))
    .arg(EVERYWHERE)
    .arg(now());
    let locks = engine
        .read(move |conn| {
            Box::pin(async move {
                conn.rows(&select, |row| sql::opt_time(row, "locked_until"))
                    .await
            })
        })
        .await?;
    Ok(locks.into_iter().flatten().max())
}

/// Counts a failed password for `email` from the request's address, and locks that address
/// out of the account at `policy.threshold`, and the account from everywhere at
/// `policy.account_threshold`. The same statements run whether or not the email has an
/// account (`user_id`), so neither the answer nor its time tells them apart.
pub async fn record_login_failure(
    engine: &impl Engine,
    ctx: &RequestContext,
    email: &str,
    user_id: Option<Uuid>,
    policy: LockoutPolicy,
) -> StoreResult<LoginFailure> {
    let at = now();
    let stale = at - policy.duration;
    let mut tx = engine.write_tx().await?;
    let mut counted = Vec::with_capacity(2);
    for (scope, threshold) in [
        (address_scope(ctx), policy.threshold),
        (EVERYWHERE, policy.account_threshold),
    ] {
        // The upsert locks the row, so failures arriving at once on several instances count
        // one after another. An expired lock, or a count quiet for a lockout's length, starts
        // again; all SET expressions see the old row.
        let count = Statement::new(
            "INSERT INTO login_locks (email, scope, failures, locked_until, updated_at)
             VALUES ($1, $2, 1, NULL, $3)
             ON CONFLICT (email, scope) DO UPDATE SET
                 failures = CASE
                     WHEN (login_locks.locked_until IS NOT NULL AND login_locks.locked_until <= $3)
                          OR login_locks.updated_at < $4 THEN 1
                     ELSE login_locks.failures + 1 END,
                 locked_until = CASE
                     WHEN login_locks.locked_until IS NOT NULL AND login_locks.locked_until <= $3 THEN NULL
                     ELSE login_locks.locked_until END,
                 updated_at = $3
             RETURNING failures, locked_until",
        )
        .arg(email)
        .arg(scope)
        .arg(at)
        .arg(stale);
        let (failed, mut locked_until) = tx
            .first(&count, |row| {
                Ok((
                    sql::int(row, "failures")?,
                    sql::opt_time(row, "locked_until")?,
                ))
            })
            .await?
            .ok_or(StoreError::Database(sqlx::Error::RowNotFound))?;
        let mut newly_locked = false;
        if failed >= i64::from(threshold) && locked_until.is_none() {
            let until = at + policy.duration;
            let lock = Statement::new(
                "UPDATE login_locks SET locked_until = $3 WHERE email = $1 AND scope = $2",
            )
            .arg(email)
            .arg(scope)
            .arg(until);
            tx.execute(&lock).await?;
            locked_until = Some(until);
            newly_locked = true;
        }
        counted.push((failed, locked_until, newly_locked));
    }
    let (address_failures, address_lock, address_newly) = counted[0];
    let (account_failures, account_lock, account_newly) = counted[1];
    // The administrators' screens show on the account the count from everywhere and the
    // latest lock of any scope (an address's or everywhere's): what unlocking would clear.
    let mirror = Statement::new(
        "UPDATE users SET failed_logins = $2,
             locked_until = (SELECT MAX(locked_until) FROM login_locks
                             WHERE email = $1 AND locked_until > $3),
             updated_at = $3
         WHERE email = $1",
    )
    .arg(email)
    .arg(account_failures)
    .arg(at);
    tx.execute(&mirror).await?;
    let failure = AuditEntry {
        user_id,
        action: "auth.login",
        resource_type: Some("user"),
        resource_id: user_id.map(|id| id.to_string()),
        patient_id: None,
        outcome: "failure",
    };
    insert_audit(&mut tx, ctx, &failure).await?;
    if let Some(user_id) = user_id {
        for (newly, action) in [
            (address_newly, "auth.lockout"),
            (account_newly, "auth.lockout_account"),
        ] {
            if newly {
                insert_audit(
                    &mut tx,
                    ctx,
                    &entry(user_id, ("user", user_id), action, "locked"),
                )
                .await?;
            }
        }
    }
    // Addresses that stopped trying are forgotten, so a spray of emails or addresses cannot
    // grow the table without bound.
    let prune = Statement::new(
        "DELETE FROM login_locks
         WHERE updated_at < $1 AND (locked_until IS NULL OR locked_until <= $2)",
    )
    .arg(stale)
    .arg(at);
    tx.execute(&prune).await?;
    tx.commit().await?;
    Ok(LoginFailure {
        failed_logins: address_failures.clamp(0, i64::from(u32::MAX)) as u32,
        locked_until: address_lock.into_iter().chain(account_lock).max(),
    })
}

async fn insert_refresh_token(
    conn: &mut impl Conn,
    session_id: Uuid,
    token: &NewRefreshToken,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let insert = Statement::new(
        "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .arg(token.token_hash.as_str())
    .arg(session_id)
    .arg(at)
    .arg(millis(token.expires_at));
    conn.execute(&insert).await?;
    Ok(())
}

pub async fn open_session(
    engine: &impl Engine,
    ctx: &RequestContext,
    user_id: Uuid,
    refresh: &NewRefreshToken,
    client: Option<&str>,
) -> StoreResult<Uuid> {
    let at = now();
    let session_id = Uuid::now_v7();
    let mut tx = engine.write_tx().await?;
    let reset = Statement::new(
        "UPDATE users SET failed_logins = 0, locked_until = NULL, updated_at = $2 WHERE id = $1",
    )
    .arg(user_id)
    .arg(at);
    tx.execute(&reset).await?;
    // The owner is in: this address's count ends, and so does the count from everywhere (a
    // lock from everywhere refused this login before it got here).
    let forget = Statement::new(
        "DELETE FROM login_locks WHERE email = (SELECT email FROM users WHERE id = $1)
         AND (scope = $2 OR scope = $3)",
    )
    .arg(user_id)
    .arg(address_scope(ctx))
    .arg(EVERYWHERE);
    tx.execute(&forget).await?;
    let session = Statement::new(
        "INSERT INTO sessions (id, user_id, created_at, last_used_at, ip, client)
         VALUES ($1, $2, $3, $3, $4, $5)",
    )
    .arg(session_id)
    .arg(user_id)
    .arg(at)
    .arg(ctx.ip.clone())
    .arg(client.map(str::to_string));
    tx.execute(&session).await?;
    insert_refresh_token(&mut tx, session_id, refresh, at).await?;
    insert_audit(
        &mut tx,
        ctx,
        &entry(user_id, ("session", session_id), "auth.login", "success"),
    )
    .await?;
    tx.commit().await?;
    Ok(session_id)
}

/// What a presented refresh token is, with its session and account.
struct PresentedToken {
    session_id: Uuid,
    expires_at: DateTime<Utc>,
    used: bool,
    revoked: bool,
    /// Ended by the idle timeout or the lifetime.
    expired: bool,
    session_created_at: DateTime<Utc>,
    last_used_at: DateTime<Utc>,
    record: UserRecord,
}

fn presented_token(row: &dyn Row) -> StoreResult<PresentedToken> {
    Ok(PresentedToken {
        session_id: sql::uuid(row, "session_id")?,
        expires_at: sql::time(row, "expires_at")?,
        used: sql::opt_time(row, "used_at")?.is_some(),
        revoked: sql::opt_time(row, "revoked_at")?.is_some(),
        expired: ended_by_policy(sql::opt_text(row, "revoke_reason")?.as_deref()),
        session_created_at: sql::time(row, "session_created_at")?,
        last_used_at: last_used(row, "session_created_at")?,
        record: user_record(row)?,
    })
}

pub async fn rotate_refresh_token(
    engine: &impl Engine,
    ctx: &RequestContext,
    presented_hash: &str,
    next: &NewRefreshToken,
    policy: SessionPolicy,
) -> StoreResult<RefreshOutcome> {
    let at = now();
    let mut tx = engine.write_tx().await?;
    // The token row is locked: a second presentation of the same token waits for this one,
    // then finds it used and is treated as reuse.
    let select = Statement::new(format!(
        "SELECT rt.session_id, rt.expires_at, rt.used_at, s.revoked_at, s.revoke_reason,
                s.created_at AS session_created_at, s.last_used_at, {USER_COLUMNS_OF_U}
         FROM refresh_tokens rt
         JOIN sessions s ON s.id = rt.session_id
         JOIN users u ON u.id = s.user_id
         WHERE rt.token_hash = $1{}",
        tx.dialect().lock_rows_of("rt")
    ))
    .arg(presented_hash);
    let Some(token) = tx.first(&select, presented_token).await? else {
        return Ok(RefreshOutcome::Unknown);
    };
    let session_id = token.session_id;
    // A disabled account says so (API.md), even though disabling also revoked its sessions.
    let outcome = if token.record.disabled {
        RefreshOutcome::Disabled
    } else if token.expired {
        RefreshOutcome::TimedOut
    } else if token.revoked {
        RefreshOutcome::Revoked
    } else if token.used {
        // Someone replayed a spent token: whoever holds the session, it can no longer be trusted.
        let revoke = Statement::new(
            "UPDATE sessions SET revoked_at = $2, revoke_reason = 'refresh token reuse' WHERE id = $1",
        )
        .arg(session_id)
        .arg(at);
        tx.execute(&revoke).await?;
        RefreshOutcome::Reused
    } else if token.expires_at <= at {
        RefreshOutcome::Expired
    } else if let Some(reason) = policy.ended(at, token.session_created_at, token.last_used_at) {
        end_session(&mut tx, session_id, at, reason).await?;
        RefreshOutcome::TimedOut
    } else {
        let spend = Statement::new("UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1")
            .arg(presented_hash)
            .arg(at);
        tx.execute(&spend).await?;
        insert_refresh_token(&mut tx, session_id, next, at).await?;
        RefreshOutcome::Rotated {
            user: token.record.user.clone(),
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
        ctx,
        &entry(
            token.record.user.id,
            ("session", session_id),
            action,
            result,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(outcome)
}

/// A session's last use, or its creation where no use was recorded.
fn last_used(row: &dyn Row, created_column: &str) -> StoreResult<DateTime<Utc>> {
    match sql::opt_time(row, "last_used_at")? {
        Some(at) => Ok(at),
        None => sql::time(row, created_column),
    }
}

impl SessionPolicy {
    /// Why a session opened at `created` and last used at `last_used` is over at `at`.
    fn ended(
        &self,
        at: DateTime<Utc>,
        created: DateTime<Utc>,
        last_used: DateTime<Utc>,
    ) -> Option<&'static str> {
        if at - created >= self.lifetime {
            Some(POLICY_REASONS[0])
        } else if at - last_used >= self.idle {
            Some(POLICY_REASONS[1])
        } else {
            None
        }
    }

    /// How stale a session's last use may be before a request writes it again: a write per
    /// request would put every read behind the writer, while the idle timeout only needs
    /// about a thirtieth of its length in precision (a minute of thirty).
    fn touch_after(&self) -> chrono::Duration {
        (self.idle / 30).max(chrono::Duration::seconds(1))
    }
}

/// The reasons [`SessionPolicy::ended`] gives.
const POLICY_REASONS: [&str; 2] = ["lifetime reached", "idle timeout"];

/// Whether a session was ended by the policy rather than by somebody: it then answers as
/// expired, however often it is presented again.
fn ended_by_policy(reason: Option<&str>) -> bool {
    reason.is_some_and(|r| POLICY_REASONS.contains(&r))
}

/// Ends a session that the policy says is over.
async fn end_session(
    conn: &mut impl Conn,
    session_id: Uuid,
    at: DateTime<Utc>,
    reason: &str,
) -> StoreResult<()> {
    let revoke = Statement::new(
        "UPDATE sessions SET revoked_at = $2, revoke_reason = $3
         WHERE id = $1 AND revoked_at IS NULL",
    )
    .arg(session_id)
    .arg(at)
    .arg(reason);
    conn.execute(&revoke).await?;
    Ok(())
}

pub async fn session_state(
    engine: &impl Engine,
    session_id: Uuid,
    user_id: Uuid,
    policy: SessionPolicy,
    usage: SessionUse,
) -> StoreResult<SessionState> {
    let select = Statement::new(
        "SELECT s.revoked_at IS NOT NULL AS revoked, s.revoke_reason, s.created_at,
                s.last_used_at, u.disabled, u.role,
                EXISTS (SELECT 1 FROM user_mfa m
                        WHERE m.user_id = u.id AND m.enabled_at IS NOT NULL) AS mfa
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = $1 AND s.user_id = $2",
    )
    .arg(session_id)
    .arg(user_id);
    let found = engine
        .read(move |conn| {
            Box::pin(async move {
                conn.first(&select, |row| {
                    Ok((
                        sql::boolean(row, "revoked")?
                            .then(|| sql::opt_text(row, "revoke_reason"))
                            .transpose()?,
                        sql::boolean(row, "disabled")?,
                        sql::parsed(row, "role", Role::parse)?,
                        sql::time(row, "created_at")?,
                        last_used(row, "created_at")?,
                        sql::boolean(row, "mfa")?,
                    ))
                })
                .await
            })
        })
        .await?;
    let Some((revoked, disabled, role, created, last_used, mfa)) = found else {
        return Ok(SessionState::Revoked);
    };
    // Checked before the revocation that disabling also did: the caller learns why.
    if disabled {
        return Ok(SessionState::Disabled);
    }
    if let Some(reason) = revoked {
        return Ok(if ended_by_policy(reason.as_deref()) {
            SessionState::Expired
        } else {
            SessionState::Revoked
        });
    }
    let at = now();
    if let Some(reason) = policy.ended(at, created, last_used) {
        let mut tx = engine.write_tx().await?;
        end_session(&mut tx, session_id, at, reason).await?;
        tx.commit().await?;
        return Ok(SessionState::Expired);
    }
    if usage == SessionUse::Request && at - last_used >= policy.touch_after() {
        let touch = Statement::new("UPDATE sessions SET last_used_at = $2 WHERE id = $1")
            .arg(session_id)
            .arg(at);
        let touched = async {
            let mut tx = engine.write_tx().await?;
            tx.execute(&touch).await?;
            tx.commit().await
        };
        match touched.await {
            Ok(()) => {}
            // On a full disk reads go on (docs/RELIABILITY.md): the session keeps its last
            // recorded use, so it may end by the idle timeout sooner, never later.
            Err(full) if full.is_disk_full() => {}
            Err(error) => return Err(error),
        }
    }
    Ok(SessionState::Active { role, mfa })
}

pub async fn open_sessions(
    engine: &impl Engine,
    user_id: Uuid,
    policy: SessionPolicy,
) -> StoreResult<Vec<OpenSession>> {
    let select = Statement::new(
        "SELECT id, created_at, last_used_at, ip, client FROM sessions
         WHERE user_id = $1 AND revoked_at IS NULL
         ORDER BY created_at DESC, id DESC",
    )
    .arg(user_id);
    let sessions = engine
        .read(move |conn| {
            Box::pin(async move {
                conn.rows(&select, |row| {
                    Ok(OpenSession {
                        id: sql::uuid(row, "id")?,
                        created_at: sql::time(row, "created_at")?,
                        last_used_at: last_used(row, "created_at")?,
                        ip: sql::opt_text(row, "ip")?,
                        client: sql::opt_text(row, "client")?,
                    })
                })
                .await
            })
        })
        .await?;
    // Sessions over by the policy but not yet ended (nobody used them since) are not open.
    let at = now();
    Ok(sessions
        .into_iter()
        .filter(|s| policy.ended(at, s.created_at, s.last_used_at).is_none())
        .collect())
}

pub async fn session_of_refresh_token(
    engine: &impl Engine,
    token_hash: &str,
) -> StoreResult<Option<(Uuid, Uuid)>> {
    let select = Statement::new(
        "SELECT s.id, s.user_id FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
         WHERE rt.token_hash = $1",
    )
    .arg(token_hash);
    engine
        .read(move |conn| {
            Box::pin(async move {
                conn.first(&select, |row| {
                    Ok((sql::uuid(row, "id")?, sql::uuid(row, "user_id")?))
                })
                .await
            })
        })
        .await
}

pub async fn revoke_session(
    engine: &impl Engine,
    actor: &Actor,
    session_id: Uuid,
    reason: &str,
) -> StoreResult<bool> {
    let mut tx = engine.write_tx().await?;
    let revoke = Statement::new(
        "UPDATE sessions SET revoked_at = $3, revoke_reason = $4
         WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
    )
    .arg(session_id)
    .arg(actor.user_id)
    .arg(now())
    .arg(reason);
    let ended = tx.execute(&revoke).await? > 0;
    audit_actor(
        &mut tx,
        actor,
        "auth.logout",
        ("session", Some(session_id.to_string())),
        None,
        if ended { "success" } else { "denied" },
    )
    .await?;
    tx.commit().await?;
    Ok(ended)
}

pub async fn change_password(
    engine: &impl Engine,
    actor: &Actor,
    keep_session: Uuid,
    password_hash: &str,
) -> StoreResult<()> {
    let at = now();
    let mut tx = engine.write_tx().await?;
    let update =
        Statement::new("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
            .arg(actor.user_id)
            .arg(password_hash)
            .arg(at);
    tx.execute(&update).await?;
    let revoke_others = Statement::new(
        "UPDATE sessions SET revoked_at = $3, revoke_reason = 'password changed'
         WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL",
    )
    .arg(actor.user_id)
    .arg(keep_session)
    .arg(at);
    tx.execute(&revoke_others).await?;
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
