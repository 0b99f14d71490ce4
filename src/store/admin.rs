//! User administration and the audit query, on either engine.
//!
//! The audit trail may be more than one table: on SQLite the rows of writes are in the data
//! file and the rest in the audit log file, and the query reads them as one
//! ([`Dialect::audit_tables`]).

use uuid::Uuid;

use super::auth::{USER_COLUMNS, millis, user_record};
use super::engine::{Engine, audit_actor, audit_read};
use super::sql::{self, Conn, Dialect, Row, Statement, WriteTx};
use super::values::offset_pagination;
use super::{Actor, AuditQuery, StoreError, StoreResult};
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

pub async fn create_user(
    engine: &impl Engine,
    actor: Option<&Actor>,
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
    Ok(created)
}

pub async fn list_users(
    engine: &impl Engine,
    actor: &Actor,
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
    audit_read(engine, actor, "admin.user_list", ("user", None), None).await?;
    Ok(Page {
        pagination: offset_pagination(total, limit, offset, items.len()),
        items,
    })
}

/// Runs `update` (`$1` the user, `$2` the time) on a user, audited as `action`; `disabling`
/// also revokes the user's open sessions.
async fn update_user(
    engine: &impl Engine,
    actor: &Actor,
    user_id: Uuid,
    action: &str,
    update: &str,
    disabling: bool,
) -> StoreResult<AdminUser> {
    let at = now();
    let mut tx = engine.write_tx().await?;
    let update = Statement::new(format!("{update} WHERE id = $1 RETURNING {USER_COLUMNS}"))
        .arg(user_id)
        .arg(at);
    let Some(updated) = tx.first(&update, admin_user).await? else {
        return Err(StoreError::NotFound);
    };
    if disabling {
        let revoke = Statement::new(
            "UPDATE sessions SET revoked_at = $2, revoke_reason = 'account disabled'
             WHERE user_id = $1 AND revoked_at IS NULL",
        )
        .arg(user_id)
        .arg(at);
        tx.execute(&revoke).await?;
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
    tx.commit().await?;
    Ok(updated)
}

pub async fn unlock_user(
    engine: &impl Engine,
    actor: &Actor,
    user_id: Uuid,
) -> StoreResult<AdminUser> {
    update_user(
        engine,
        actor,
        user_id,
        "admin.user_unlock",
        "UPDATE users SET failed_logins = 0, locked_until = NULL, updated_at = $2",
        false,
    )
    .await
}

pub async fn disable_user(
    engine: &impl Engine,
    actor: &Actor,
    user_id: Uuid,
) -> StoreResult<AdminUser> {
    update_user(
        engine,
        actor,
        user_id,
        "admin.user_disable",
        "UPDATE users SET disabled = TRUE, updated_at = $2",
        true,
    )
    .await
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
        ip: sql::opt_text(row, "ip")?,
    })
}

/// The columns of an audit row, named: several tables are read as one by position
/// (`UNION ALL`), so none may depend on another's column order.
const AUDIT_COLUMNS: &str =
    "id, at, user_id, action, resource_type, resource_id, patient_id, outcome, request_id, ip";

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
    if let Some(since) = query.since {
        sql.push(" AND at >= ").bind(millis(since));
    }
    if let Some(until) = query.until {
        sql.push(" AND at < ").bind(millis(until));
    }
}

/// The statements of an audit page: the page, newest first, and the count of matching rows,
/// over every table of the dialect's audit trail.
pub fn audit_statements(dialect: Dialect, query: &AuditQuery) -> (Statement, Statement) {
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
        count.push("(SELECT COUNT(*)");
        push_audit_rows(&mut count, table, query);
        count.push(")");
    }
    select
        .push(") AS audit ORDER BY at DESC, id DESC LIMIT ")
        .bind(i64::from(query.limit))
        .push(" OFFSET ")
        .bind(i64::try_from(query.offset).unwrap_or(i64::MAX));
    count.push(" AS value");
    (select, count)
}

pub async fn query_audit(
    engine: &impl Engine,
    actor: &Actor,
    query: &AuditQuery,
) -> StoreResult<Page<AuditEvent>> {
    let (select, count) = audit_statements(engine.dialect(), query);
    let (items, total) = engine
        .read(move |conn| {
            Box::pin(async move {
                let items = conn.rows(&select, audit_event).await?;
                Ok((items, conn.scalar(&count).await?.unwrap_or(0)))
            })
        })
        .await?;
    audit_read(engine, actor, "admin.audit_query", ("audit", None), None).await?;
    Ok(Page {
        pagination: offset_pagination(total, query.limit, query.offset, items.len()),
        items,
    })
}
