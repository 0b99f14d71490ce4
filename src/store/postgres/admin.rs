//! User administration and the audit query on PostgreSQL.

use sqlx::postgres::PgRow;
use uuid::Uuid;

use super::statement::Statement;
use super::{PgStore, audit_actor, audit_read, auth, millis, rows};
use crate::model::admin::{AdminUser, AuditEvent, NewUser};
use crate::model::envelope::FieldError;
use crate::model::page::Page;
use crate::model::time::now;
use crate::store::values::*;
use crate::store::*;

fn admin_user(row: &PgRow) -> StoreResult<AdminUser> {
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
    store: &PgStore,
    actor: Option<&Actor>,
    user: &NewUser,
    password_hash: &str,
) -> StoreResult<AdminUser> {
    let id = Uuid::now_v7();
    let at = now();
    let mut tx = store.write_tx().await?;
    // ON CONFLICT rather than a check first: two admins adding one email at once get one
    // account and one "already used", never a unique-violation error.
    let sql = format!(
        "INSERT INTO users (id, email, full_name, role, password_hash, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (email) DO NOTHING RETURNING {}",
        auth::USER_COLUMNS
    );
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(&user.email)
        .bind(&user.full_name)
        .bind(user.role.as_str())
        .bind(password_hash)
        .bind(at)
        .fetch_optional(&mut *tx)
        .await?
    else {
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
    admin_user(&row)
}

pub(super) async fn list_users(
    store: &PgStore,
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
    audit_read(store, actor, "admin.user_list", ("user", None), None).await?;
    Ok(Page {
        pagination: offset_pagination(total, limit, offset, items.len()),
        items,
    })
}

async fn update_user(
    store: &PgStore,
    actor: &Actor,
    user_id: Uuid,
    action: &str,
    statement: &'static str,
    revoke_sessions: bool,
) -> StoreResult<AdminUser> {
    let at = now();
    let mut tx = store.write_tx().await?;
    let updated = sqlx::query(statement)
        .bind(user_id)
        .bind(at)
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
        .bind(user_id)
        .bind(at)
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
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    admin_user(&row)
}

pub(super) async fn unlock_user(
    store: &PgStore,
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
    store: &PgStore,
    actor: &Actor,
    user_id: Uuid,
) -> StoreResult<AdminUser> {
    update_user(
        store,
        actor,
        user_id,
        "admin.user_disable",
        "UPDATE users SET disabled = true, updated_at = $2 WHERE id = $1",
        true,
    )
    .await
}

fn audit_event(row: &PgRow) -> StoreResult<AuditEvent> {
    Ok(AuditEvent {
        id: rows::get(row, "id")?,
        at: rows::get(row, "at")?,
        user_id: rows::get(row, "user_id")?,
        action: rows::get(row, "action")?,
        resource_type: rows::get(row, "resource_type")?,
        resource_id: rows::get(row, "resource_id")?,
        patient_id: rows::get(row, "patient_id")?,
        outcome: rows::get(row, "outcome")?,
        request_id: rows::get(row, "request_id")?,
        ip: rows::get(row, "ip")?,
    })
}

fn push_audit_filters(sql: &mut Statement, query: &AuditQuery) {
    sql.push(" WHERE TRUE");
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

pub(super) async fn query_audit(
    store: &PgStore,
    actor: &Actor,
    query: &AuditQuery,
) -> StoreResult<Page<AuditEvent>> {
    let mut select = Statement::new(
        "SELECT id, at, user_id, action, resource_type, resource_id, patient_id, outcome, \
         request_id, ip FROM audit_events",
    );
    push_audit_filters(&mut select, query);
    select
        .push(" ORDER BY at DESC, id DESC LIMIT ")
        .bind(i64::from(query.limit))
        .push(" OFFSET ")
        .bind(query.offset as i64);
    let found = select.query().fetch_all(&store.pool).await?;
    let mut count = Statement::new("SELECT COUNT(*) AS total FROM audit_events");
    push_audit_filters(&mut count, query);
    let total = rows::get::<i64>(&count.query().fetch_one(&store.pool).await?, "total")?;
    let items = found
        .iter()
        .map(audit_event)
        .collect::<StoreResult<Vec<_>>>()?;
    audit_read(store, actor, "admin.audit_query", ("audit", None), None).await?;
    Ok(Page {
        pagination: offset_pagination(total, query.limit, query.offset, items.len()),
        items,
    })
}
