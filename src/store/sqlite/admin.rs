//! User administration and the audit query on SQLite.

use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use super::statement::Statement;
use super::{SqliteStore, audit_actor, audit_log, auth, rows};
use crate::model::admin::{AdminUser, AuditEvent, NewUser};
use crate::model::envelope::FieldError;
use crate::model::page::Page;
use crate::model::time::{format_timestamp, now};
use crate::store::values::*;
use crate::store::*;

fn admin_user(row: &SqliteRow) -> StoreResult<AdminUser> {
    let record = auth::user_record(row)?;
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

pub(super) async fn create_user(
    store: &SqliteStore,
    actor: Option<&Actor>,
    user: &NewUser,
    password_hash: &str,
) -> StoreResult<AdminUser> {
    let id = Uuid::now_v7();
    let stamp = format_timestamp(now());
    let mut tx = store.write_tx().await?;
    let taken: Option<i64> = sqlx::query_scalar("SELECT 1 FROM users WHERE email = $1")
        .bind(&user.email)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(StoreError::Invalid(vec![FieldError::new(
            "email",
            "is already used by another account",
        )]));
    }
    let sql = format!(
        "INSERT INTO users (id, email, full_name, role, password_hash, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {}",
        auth::USER_COLUMNS
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_string())
        .bind(&user.email)
        .bind(&user.full_name)
        .bind(user.role.as_str())
        .bind(password_hash)
        .bind(&stamp)
        .fetch_one(&mut *tx)
        .await?;
    if let Some(actor) = actor {
        audit_actor(
            &mut tx,
            actor,
            "admin.user_create",
            ("user", Some(id.to_string())),
            None,
            "success",
        )
        .await?;
    }
    tx.commit().await?;
    admin_user(&row)
}

pub(super) async fn list_users(
    store: &SqliteStore,
    actor: &Actor,
    limit: u32,
    offset: u64,
) -> StoreResult<Page<AdminUser>> {
    let sql = format!(
        "SELECT {} FROM users ORDER BY email LIMIT $1 OFFSET $2",
        auth::USER_COLUMNS
    );
    let found = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(i64::from(limit))
        .bind(offset as i64)
        .fetch_all(&store.pool)
        .await?;
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&store.pool)
        .await?;
    let items = found
        .iter()
        .map(admin_user)
        .collect::<StoreResult<Vec<_>>>()?;
    store
        .audit_read(actor, "admin.user_list", ("user", None), None, "success")
        .await?;
    Ok(Page {
        pagination: offset_pagination(total, limit, offset, items.len()),
        items,
    })
}

async fn update_user(
    store: &SqliteStore,
    actor: &Actor,
    user_id: Uuid,
    action: &str,
    statement: &'static str,
    revoke_sessions: bool,
) -> StoreResult<AdminUser> {
    let stamp = format_timestamp(now());
    let mut tx = store.write_tx().await?;
    let updated = sqlx::query(statement)
        .bind(user_id.to_string())
        .bind(&stamp)
        .execute(&mut *tx)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    if revoke_sessions {
        sqlx::query(
            "UPDATE sessions SET revoked_at = $2, revoke_reason = 'account disabled'
             WHERE user_id = $1 AND revoked_at IS NULL",
        )
        .bind(user_id.to_string())
        .bind(&stamp)
        .execute(&mut *tx)
        .await?;
    }
    audit_actor(
        &mut tx,
        actor,
        action,
        ("user", Some(user_id.to_string())),
        None,
        "success",
    )
    .await?;
    let sql = format!("SELECT {} FROM users WHERE id = $1", auth::USER_COLUMNS);
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(user_id.to_string())
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    admin_user(&row)
}

pub(super) async fn unlock_user(
    store: &SqliteStore,
    actor: &Actor,
    user_id: Uuid,
) -> StoreResult<AdminUser> {
    update_user(
        store,
        actor,
        user_id,
        "admin.user_unlock",
        "UPDATE users SET failed_logins = 0, locked_until = NULL, updated_at = $2 WHERE id = $1",
        false,
    )
    .await
}

pub(super) async fn disable_user(
    store: &SqliteStore,
    actor: &Actor,
    user_id: Uuid,
) -> StoreResult<AdminUser> {
    update_user(
        store,
        actor,
        user_id,
        "admin.user_disable",
        "UPDATE users SET disabled = 1, updated_at = $2 WHERE id = $1",
        true,
    )
    .await
}

fn audit_event(row: &(impl rows::Columns + ?Sized)) -> StoreResult<AuditEvent> {
    Ok(AuditEvent {
        id: rows::uuid(row, "id")?,
        at: rows::time(row, "at")?,
        user_id: rows::opt_uuid(row, "user_id")?,
        action: rows::text(row, "action")?,
        resource_type: rows::opt_text(row, "resource_type")?,
        resource_id: rows::opt_text(row, "resource_id")?,
        patient_id: rows::opt_uuid(row, "patient_id")?,
        outcome: rows::text(row, "outcome")?,
        request_id: rows::text(row, "request_id")?,
        ip: rows::opt_text(row, "ip")?,
    })
}

/// The columns of an audit row, named: the two files' tables are read as one by position
/// (`UNION ALL`), so neither may depend on the other's column order.
const AUDIT_COLUMNS: &str =
    "id, at, user_id, action, resource_type, resource_id, patient_id, outcome, request_id, ip";

/// `FROM <schema>.audit_events WHERE …` with the query's filters.
fn push_audit_rows(sql: &mut Statement, schema: &str, query: &AuditQuery) {
    sql.push(format!(" FROM {schema}.audit_events WHERE 1 = 1"));
    if let Some(user_id) = query.user_id {
        sql.push(" AND user_id = ").push_bind(user_id.to_string());
    }
    if let Some(patient_id) = query.patient_id {
        sql.push(" AND patient_id = ")
            .push_bind(patient_id.to_string());
    }
    if let Some(action) = &query.action {
        sql.push(" AND action = ").push_bind(action.clone());
    }
    if let Some(since) = query.since {
        sql.push(" AND at >= ").push_bind(format_timestamp(since));
    }
    if let Some(until) = query.until {
        sql.push(" AND at < ").push_bind(format_timestamp(until));
    }
}

/// The audit trail is two tables: the rows of writes in the data file, the rest in the audit
/// log file (`audit_log`). The query reads both as one, newest first.
pub(super) async fn query_audit(
    store: &SqliteStore,
    actor: &Actor,
    query: &AuditQuery,
) -> StoreResult<Page<AuditEvent>> {
    // SQLite merges the two index scans in `at` order and stops at the page.
    let mut select = Statement::new(format!("SELECT * FROM (SELECT {AUDIT_COLUMNS}"));
    push_audit_rows(&mut select, "main", query);
    select.push(format!(" UNION ALL SELECT {AUDIT_COLUMNS}"));
    push_audit_rows(&mut select, audit_log::SCHEMA, query);
    select
        .push(") ORDER BY at DESC, id DESC LIMIT ")
        .push_bind(i64::from(query.limit))
        .push(" OFFSET ")
        .push_bind(i64::try_from(query.offset).unwrap_or(i64::MAX));
    let mut count = Statement::new("SELECT (SELECT COUNT(*)");
    push_audit_rows(&mut count, "main", query);
    count.push(") + (SELECT COUNT(*)");
    push_audit_rows(&mut count, audit_log::SCHEMA, query);
    count.push(")");
    let (items, total) = store
        .readers
        .read(move |conn| Ok((select.rows(conn, |r| audit_event(r))?, count.scalar(conn)?)))
        .await?;
    store
        .audit_read(actor, "admin.audit_query", ("audit", None), None, "success")
        .await?;
    Ok(Page {
        pagination: offset_pagination(total, query.limit, query.offset, items.len()),
        items,
    })
}
