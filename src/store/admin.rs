//! User administration and the audit query, on either engine, for an administrator of the
//! API and an operator at the database's console alike (`Administrator`): each change is
//! audited in its own transaction with who made it.
//!
//! The audit trail may be more than one table: on SQLite the rows of writes are in the data
//! file and the rest in the audit log file, and the query reads them as one
//! ([`Dialect::audit_tables`]).

use uuid::Uuid;

use super::audit_queue::audit_row;
use super::auth::{USER_COLUMNS, millis, user_record};
use super::cursor::Cursor;
use super::engine::{Engine, audit_read, insert_audit};
use super::paging::{KeyKind, Keyset};
use super::sql::{self, Conn, Dialect, Row, Statement, WriteTx};
use super::values::offset_pagination;
use super::{
    Actor, Administrator, AuditEntry, AuditPosition, AuditQuery, PageStart, StoreError, StoreResult,
};
use crate::model::admin::{AdminUser, AuditEvent, NewUser};
use crate::model::envelope::FieldError;
use crate::model::page::Page;
use crate::model::time::now;

fn admin_user(row: &dyn Row) -> StoreResult<AdminUser> {
    let record = user_record(row)?;
    Ok(AdminUser {
        id: record.user.id,
        email: record.user.email,
        full_name: record.user.full_name,
        role: record.user.role,
        created_at: record.user.created_at,
        locked_until: record.locked_until.filter(|t| *t > now()),
        failed_logins: record.failed_logins,
        disabled: record.disabled,
    })
}

/// Audits a change by `by` in the change's transaction.
async fn audit_change(
    conn: &mut impl Conn,
    by: &Administrator,
    action: &str,
    user_id: Uuid,
) -> StoreResult<()> {
    let (by_user, ctx) = by.audit_origin();
    let entry = AuditEntry {
        user_id: by_user,
        action,
        resource_type: Some("user"),
        resource_id: Some(user_id.to_string()),
        patient_id: None,
        outcome: "success",
    };
    insert_audit(conn, &ctx, &entry).await
}

/// Audits a read by `by` once it happened, through the audit queue like every read.
async fn audit_admin_read(
    engine: &impl Engine,
    by: &Administrator,
    action: &str,
    resource: (&str, Option<String>),
) -> StoreResult<()> {
    if let Administrator::Api(actor) = by {
        return audit_read(engine, actor, action, resource, None).await;
    }
    let (user_id, ctx) = by.audit_origin();
    let entry = AuditEntry {
        user_id,
        action,
        resource_type: Some(resource.0),
        resource_id: resource.1,
        patient_id: None,
        outcome: "success",
    };
    engine.audit_queue().record(audit_row(&ctx, &entry)).await
}

pub async fn create_user(
    engine: &impl Engine,
    by: Option<&Administrator>,
    user: &NewUser,
    password_hash: &str,
) -> StoreResult<AdminUser> {
    let id = Uuid::now_v7();
    let mut tx = engine.write_tx().await?;
    // ON CONFLICT rather than a check first: two admins adding one email at once get one
    // account and one "already used", never a unique-violation error.
    let insert = Statement::new(format!(
        "INSERT INTO users (id, email, full_name, role, password_hash, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (email) DO NOTHING RETURNING {USER_COLUMNS}"
    ))
    .arg(id)
    .arg(user.email.as_str())
    .arg(user.full_name.as_str())
    .arg(user.role.as_str())
    .arg(password_hash)
    .arg(now());
    let Some(created) = tx.first(&insert, admin_user).await? else {
        return Err(StoreError::Invalid(vec![FieldError::new(
            "email",
            "is already used by another account",
        )]));
    };
    if let Some(by) = by {
        audit_change(&mut tx, by, "admin.user_create", id).await?;
    }
    tx.commit().await?;
    Ok(created)
}

pub async fn list_users(
    engine: &impl Engine,
    by: &Administrator,
    limit: u32,
    offset: u64,
) -> StoreResult<Page<AdminUser>> {
    let select = Statement::new(format!(
        "SELECT {USER_COLUMNS} FROM users ORDER BY email LIMIT $1 OFFSET $2"
    ))
    .arg(i64::from(limit))
    .arg(i64::try_from(offset).unwrap_or(i64::MAX));
    let count = Statement::new("SELECT COUNT(*) AS value FROM users");
    let (items, total) = engine
        .read(move |conn| {
            Box::pin(async move {
                let items = conn.rows(&select, admin_user).await?;
                Ok((items, conn.scalar(&count).await?.unwrap_or(0)))
            })
        })
        .await?;
    audit_admin_read(engine, by, "admin.user_list", ("user", None)).await?;
    Ok(Page {
        pagination: offset_pagination(total, limit, offset, items.len()),
        items,
    })
}

pub async fn active_admins(engine: &impl Engine) -> StoreResult<u64> {
    let count = Statement::new(
        "SELECT COUNT(*) AS value FROM users WHERE role = 'admin' AND disabled = FALSE",
    );
    let admins = engine
        .read(move |conn| Box::pin(async move { conn.scalar(&count).await }))
        .await?;
    Ok(admins.unwrap_or(0).max(0) as u64)
}

/// The statement that revokes a user's (`$1`) open sessions at `$2`, for `reason`.
fn revoke_open_sessions(
    user_id: Uuid,
    at: chrono::DateTime<chrono::Utc>,
    reason: &str,
) -> Statement {
    Statement::new(
        "UPDATE sessions SET revoked_at = $2, revoke_reason = $3
         WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .arg(user_id)
    .arg(at)
    .arg(reason)
}

/// Runs `UPDATE users SET <set>` on a user (`$1` the user, `$2` the time, `$3` the optional
/// `value`), audited as `action`; with `revoke`, also revokes the user's open sessions for
/// that reason.
async fn update_user(
    engine: &impl Engine,
    by: &Administrator,
    user_id: Uuid,
    action: &str,
    set: &str,
    value: Option<&str>,
    revoke: Option<&str>,
) -> StoreResult<AdminUser> {
    let at = now();
    let mut tx = engine.write_tx().await?;
    let mut update = Statement::new(format!(
        "UPDATE users SET {set}, updated_at = $2 WHERE id = $1 RETURNING {USER_COLUMNS}"
    ))
    .arg(user_id)
    .arg(at);
    if let Some(value) = value {
        update = update.arg(value);
    }
    let Some(updated) = tx.first(&update, admin_user).await? else {
        return Err(StoreError::NotFound);
    };
    if let Some(reason) = revoke {
        tx.execute(&revoke_open_sessions(user_id, at, reason))
            .await?;
    }
    if set.contains("locked_until = NULL") {
        // Clearing the lock clears all of the account's locks: those of each address as well
        // as the back-off from everywhere shown on the account.
        let forget =
            Statement::new("DELETE FROM login_locks WHERE email = $1").arg(updated.email.as_str());
        tx.execute(&forget).await?;
    }
    audit_change(&mut tx, by, action, user_id).await?;
    tx.commit().await?;
    Ok(updated)
}

pub async fn unlock_user(
    engine: &impl Engine,
    by: &Administrator,
    user_id: Uuid,
) -> StoreResult<AdminUser> {
    update_user(
        engine,
        by,
        user_id,
        "admin.user_unlock",
        "failed_logins = 0, locked_until = NULL",
        None,
        None,
    )
    .await
}

pub async fn disable_user(
    engine: &impl Engine,
    by: &Administrator,
    user_id: Uuid,
) -> StoreResult<AdminUser> {
    update_user(
        engine,
        by,
        user_id,
        "admin.user_disable",
        "disabled = TRUE",
        None,
        Some("account disabled"),
    )
    .await
}

pub async fn enable_user(
    engine: &impl Engine,
    by: &Administrator,
    user_id: Uuid,
) -> StoreResult<AdminUser> {
    update_user(
        engine,
        by,
        user_id,
        "admin.user_enable",
        "disabled = FALSE",
        None,
        None,
    )
    .await
}

/// A new password ends every session (whoever held the old one is out) and the lockout (it
/// counted guesses of the old one).
pub async fn reset_password(
    engine: &impl Engine,
    by: &Administrator,
    user_id: Uuid,
    password_hash: &str,
) -> StoreResult<AdminUser> {
    update_user(
        engine,
        by,
        user_id,
        "admin.user_password_reset",
        "password_hash = $3, failed_logins = 0, locked_until = NULL",
        Some(password_hash),
        Some("password reset"),
    )
    .await
}

pub async fn revoke_sessions(
    engine: &impl Engine,
    by: &Administrator,
    user_id: Uuid,
) -> StoreResult<u64> {
    let at = now();
    let mut tx = engine.write_tx().await?;
    let user = Statement::new(format!(
        "SELECT {USER_COLUMNS} FROM users WHERE id = $1{}",
        tx.dialect().lock_rows()
    ))
    .arg(user_id);
    if tx.first(&user, admin_user).await?.is_none() {
        return Err(StoreError::NotFound);
    }
    let revoked = tx
        .execute(&revoke_open_sessions(
            user_id,
            at,
            "sessions revoked by an administrator",
        ))
        .await?;
    audit_change(&mut tx, by, "admin.user_sessions_revoke", user_id).await?;
    tx.commit().await?;
    Ok(revoked)
}

fn audit_event(row: &dyn Row) -> StoreResult<AuditEvent> {
    Ok(AuditEvent {
        id: sql::uuid(row, "id")?,
        at: sql::time(row, "at")?,
        user_id: sql::opt_uuid(row, "user_id")?,
        action: sql::text(row, "action")?,
        resource_type: sql::opt_text(row, "resource_type")?,
        resource_id: sql::opt_text(row, "resource_id")?,
        patient_id: sql::opt_uuid(row, "patient_id")?,
        outcome: sql::text(row, "outcome")?,
        request_id: sql::text(row, "request_id")?,
        client_request_id: sql::opt_text(row, "client_request_id")?,
        ip: sql::opt_text(row, "ip")?,
    })
}

/// The columns of an audit row, named: several tables are read as one by position
/// (`UNION ALL`), so none may depend on another's column order.
const AUDIT_COLUMNS: &str = "id, at, user_id, action, resource_type, resource_id, patient_id, outcome, request_id, ip, \
     client_request_id";

/// The order of the audit browser's pages: newest first, the row id breaking ties. A row
/// written while an administrator pages is newer than every row already shown, so it never
/// moves an older row from one page to the next.
const AUDIT_KEYSET: Keyset = Keyset {
    scope: "audit",
    column: "at",
    selected_as: "at",
    id_column: "id",
    ascending: false,
    kind: KeyKind::Time { never: false },
};

/// `FROM <table> WHERE …` with the query's filters.
fn push_audit_rows(sql: &mut Statement, table: &str, query: &AuditQuery) {
    sql.push(" FROM ").push(table).push(" WHERE 1 = 1");
    if let Some(user_id) = query.user_id {
        sql.push(" AND user_id = ").bind(user_id);
    }
    if let Some(patient_id) = query.patient_id {
        sql.push(" AND patient_id = ").bind(patient_id);
    }
    if let Some(action) = &query.action {
        sql.push(" AND action = ").bind(action.as_str());
    }
    if let Some(outcome) = &query.outcome {
        sql.push(" AND outcome = ").bind(outcome.as_str());
    }
    if let Some(since) = query.since {
        sql.push(" AND at >= ").bind(millis(since));
    }
    if let Some(until) = query.until {
        sql.push(" AND at < ").bind(millis(until));
    }
}

/// Where an audit page starts: after the cursor's row, or at the offset.
fn audit_start(query: &AuditQuery) -> StoreResult<(Option<Cursor>, u64)> {
    let start = match &query.cursor {
        Some(cursor) => PageStart::Cursor(cursor.clone()),
        None => PageStart::Offset(query.offset),
    };
    AUDIT_KEYSET.start(&start)
}

/// The statements of an audit page: the page, newest first (one row more than the page, which
/// tells whether more follow), and the count of matching rows, over every table of the
/// dialect's audit trail. A cursor's condition is in each table's part, where its `at` index
/// serves it.
pub fn audit_statements(
    dialect: Dialect,
    query: &AuditQuery,
) -> StoreResult<(Statement, Statement, u64)> {
    let (cursor, offset) = audit_start(query)?;
    // SQLite merges the index scans of the tables in `at` order and stops at the page.
    let mut select = Statement::new("SELECT * FROM (");
    let mut count = Statement::new("SELECT ");
    for (n, table) in dialect.audit_tables().iter().enumerate() {
        if n > 0 {
            select.push(" UNION ALL ");
            count.push(" + ");
        }
        select.push("SELECT ").push(AUDIT_COLUMNS);
        push_audit_rows(&mut select, table, query);
        if let Some(cursor) = &cursor {
            AUDIT_KEYSET.push_after(&mut select, cursor, dialect)?;
        }
        count.push("(SELECT COUNT(*)");
        push_audit_rows(&mut count, table, query);
        count.push(")");
    }
    select.push(") AS audit");
    AUDIT_KEYSET.push_order_and_limit(&mut select, query.limit, cursor.as_ref(), offset);
    count.push(" AS value");
    Ok((select, count, offset))
}

pub async fn query_audit(
    engine: &impl Engine,
    actor: &Actor,
    query: &AuditQuery,
) -> StoreResult<Page<AuditEvent>> {
    let (select, count, offset) = audit_statements(engine.dialect(), query)?;
    let limit = query.limit;
    let page = engine
        .read(move |conn| {
            Box::pin(async move {
                AUDIT_KEYSET
                    .read_page(conn, &select, &count, false, limit, offset, audit_event)
                    .await
            })
        })
        .await?;
    audit_read(engine, actor, "admin.audit_query", ("audit", None), None).await?;
    Ok(page)
}

/// The statement of an export page: up to `query.limit` rows matching `query`, oldest first
/// (`at`, then `id`), after `after`, over every table of the dialect's audit trail.
pub fn audit_export_statement(
    dialect: Dialect,
    query: &AuditQuery,
    after: Option<AuditPosition>,
) -> Statement {
    let mut select = Statement::new("SELECT * FROM (");
    for (n, table) in dialect.audit_tables().iter().enumerate() {
        if n > 0 {
            select.push(" UNION ALL ");
        }
        select.push("SELECT ").push(AUDIT_COLUMNS);
        push_audit_rows(&mut select, table, query);
        if let Some(after) = after {
            // `at >= …` is the index range (`audit_at` is on (at, id)); the rest drops the rows
            // of that instant already written.
            let at = millis(after.at);
            select
                .push(" AND at >= ")
                .bind(at)
                .push(" AND (at > ")
                .bind(at)
                .push(" OR id > ")
                .bind(after.id)
                .push(")");
        }
    }
    select
        .push(") AS audit ORDER BY at, id LIMIT ")
        .bind(i64::from(query.limit));
    select
}

pub async fn export_audit(
    engine: &impl Engine,
    by: &Administrator,
    query: &AuditQuery,
    after: Option<AuditPosition>,
) -> StoreResult<Vec<AuditEvent>> {
    if after.is_none() {
        // Before the first row is read: an export that fails half-way is on the trail too.
        audit_admin_read(engine, by, "admin.audit_export", ("audit", None)).await?;
    }
    let select = audit_export_statement(engine.dialect(), query, after);
    engine
        .read(move |conn| Box::pin(async move { conn.rows(&select, audit_event).await }))
        .await
}
