//! The audit chain: every audit row is linked to the one before it by a SHA-256 hash, so a row
//! changed, removed or slipped in after the fact shows when the chain is walked
//! (`synapse admin audit verify`), even by someone who dropped the append-only triggers.
//!
//! The links live in a table of their own beside the audit rows (`audit_chain`: position,
//! the row's id, its hash), written in the same transaction as the rows. Keeping them apart
//! means the audit rows are never updated, not even to chain the rows stored before the chain
//! existed (`chain_unchained`, at start).
//!
//! A link's hash is `SHA-256(DOMAIN || previous hash (32 bytes) || canonical form)`; the first
//! link's previous hash is `GENESIS` (32 zero bytes). The canonical form (`canonical`) is the
//! position as 8 bytes big-endian, then the eleven columns in this order: id, at, user_id,
//! action, resource_type, resource_id, patient_id, outcome, request_id, ip,
//! client_request_id; each a byte 0 for NULL, or a byte 1, its UTF-8 length as 4 bytes
//! big-endian and its UTF-8 text. Ids are lowercase hyphenated UUIDs, `at` is
//! `2026-11-26T06:33:23.123Z` (`format_timestamp`). Hashes are stored and shown as lowercase
//! hex.
//!
//! One chain is one line: appends are serialised. SQLite has one writer per file; PostgreSQL,
//! where several instances write at once, takes a transaction-level advisory lock
//! (`Dialect::chain_lock`) before reading the head, held to the commit.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::audit_queue::AuditRow;
use super::engine::Engine;
use super::sql::{self, Conn, Row, Statement};
use super::{StoreError, StoreResult};
use crate::model::time::format_timestamp;

/// Domain separation: no other SHA-256 in the product hashes input that starts like this.
const DOMAIN: &[u8] = b"synapse audit chain v1\0";

/// The previous hash of the first link.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The advisory lock key under which PostgreSQL appends to the chain (`Dialect::chain_lock`).
pub(crate) const CHAIN_LOCK: i64 = 0x5359_4E41_5053_4143;

/// Rows chained per statement when chaining the rows stored before the chain existed.
const BACKFILL_ROWS: u32 = 500;

/// Links per INSERT statement: 3 values each, well under either engine's bound-value limit.
const LINKS_PER_INSERT: usize = 300;

/// The last link of a chain: where the next append continues, and what the server logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    pub event_id: Option<Uuid>,
    pub hash: String,
}

impl ChainHead {
    /// The head of an empty chain.
    pub fn genesis() -> ChainHead {
        ChainHead {
            seq: 0,
            event_id: None,
            hash: GENESIS.to_string(),
        }
    }
}

/// One link as `verify` reads it: the link and the row it names, if that row still exists.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainLink {
    pub seq: i64,
    pub event_id: Uuid,
    pub hash: String,
    pub row: Option<AuditRow>,
}

/// The canonical form of `row` at position `seq` (see the module's doc).
pub fn canonical(seq: i64, row: &AuditRow) -> Vec<u8> {
    fn field(out: &mut Vec<u8>, value: Option<&str>) {
        match value {
            None => out.push(0),
            Some(text) => {
                out.push(1);
                // Audit columns are short (ids, actions, addresses): far below 4 GiB.
                out.extend_from_slice(&(text.len() as u32).to_be_bytes());
                out.extend_from_slice(text.as_bytes());
            }
        }
    }
    let uuid = |id: Option<Uuid>| id.map(|id| id.hyphenated().to_string());
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(&seq.to_be_bytes());
    field(&mut out, Some(&row.id.hyphenated().to_string()));
    field(&mut out, Some(&format_timestamp(row.at)));
    field(&mut out, uuid(row.user_id).as_deref());
    field(&mut out, Some(&row.action));
    field(&mut out, row.resource_type.as_deref());
    field(&mut out, row.resource_id.as_deref());
    field(&mut out, uuid(row.patient_id).as_deref());
    field(&mut out, Some(&row.outcome));
    field(&mut out, Some(&row.request_id));
    field(&mut out, row.ip.as_deref());
    field(&mut out, row.client_request_id.as_deref());
    out
}

/// The hash of the link of `row` at `seq`, after the link whose hash is `previous` (hex).
/// A `previous` that is not 64 hex digits (a tampered link) hashes as given, so it never
/// matches a genuine link.
pub fn link_hash(previous: &str, seq: i64, row: &AuditRow) -> String {
    let mut hasher = Sha256::new();
    hasher.update(DOMAIN);
    match hex::decode(previous) {
        Ok(bytes) if bytes.len() == 32 => hasher.update(&bytes),
        _ => hasher.update(previous.as_bytes()),
    }
    hasher.update(canonical(seq, row));
    hex::encode(hasher.finalize())
}

/// Appends the links of `rows` (already inserted, in this order) to the chain in `chain`,
/// inside the caller's transaction: takes the chain's lock where there is one, reads the
/// head, inserts the links. Answers the new head.
pub async fn append(
    conn: &mut impl Conn,
    chain: &str,
    rows: &[AuditRow],
) -> StoreResult<ChainHead> {
    let head = lock_head(conn, chain).await?;
    if rows.is_empty() {
        return Ok(head);
    }
    let (links, head) = next_links(head, rows);
    for chunk in links.chunks(LINKS_PER_INSERT) {
        let mut insert =
            Statement::new(format!("INSERT INTO {chain} (seq, event_id, hash) VALUES "));
        for (n, (seq, id, hash)) in chunk.iter().enumerate() {
            insert.push(if n == 0 { "(" } else { ", (" });
            insert.bind(*seq).push(", ").bind(*id).push(", ");
            insert.bind(hash.as_str()).push(")");
        }
        conn.execute(&insert).await?;
    }
    Ok(head)
}

/// One link: its position, the row it names, its hash.
pub type Link = (i64, Uuid, String);

/// The links of `rows`, in this order, after `head`, and the head they leave.
pub fn next_links(mut head: ChainHead, rows: &[AuditRow]) -> (Vec<Link>, ChainHead) {
    let mut links = Vec::with_capacity(rows.len());
    for row in rows {
        let seq = head.seq + 1;
        let hash = link_hash(&head.hash, seq, row);
        links.push((seq, row.id, hash.clone()));
        head = ChainHead {
            seq,
            event_id: Some(row.id),
            hash,
        };
    }
    (links, head)
}

/// Takes the chain's lock (PostgreSQL) and reads its head.
async fn lock_head(conn: &mut impl Conn, chain: &str) -> StoreResult<ChainHead> {
    if let Some(lock) = conn.dialect().chain_lock() {
        conn.execute(&Statement::new(lock).arg(CHAIN_LOCK)).await?;
    }
    head(conn, chain).await
}

/// The last link of the chain in `chain` (the genesis head when it is empty).
pub async fn head(conn: &mut impl Conn, chain: &str) -> StoreResult<ChainHead> {
    let select = Statement::new(format!(
        "SELECT seq, event_id, hash FROM {chain} ORDER BY seq DESC LIMIT 1"
    ));
    let found = conn
        .first(&select, |row| {
            Ok(ChainHead {
                seq: sql::int(row, "seq")?,
                event_id: Some(sql::uuid(row, "event_id")?),
                hash: sql::text(row, "hash")?,
            })
        })
        .await?;
    Ok(found.unwrap_or_else(ChainHead::genesis))
}

/// Where a migration marks that the rows stored before the chain existed are to be linked:
/// a statement selecting the mark, and one deleting it.
pub struct DueMark {
    pub select: &'static str,
    pub delete: &'static str,
}

/// The mark in a data file's or PostgreSQL's `settings`.
pub const DUE_IN_SETTINGS: DueMark = DueMark {
    select: "SELECT COUNT(*) AS value FROM settings WHERE key = 'audit_chain_due'",
    delete: "DELETE FROM settings WHERE key = 'audit_chain_due'",
};

/// The mark in the SQLite audit log file, which has no `settings`.
pub const DUE_IN_AUDIT_LOG: DueMark = DueMark {
    select: "SELECT COUNT(*) AS value FROM audit_chain_due",
    delete: "DELETE FROM audit_chain_due",
};

/// When the migration that made the chain marked it due (`due`), links the rows stored
/// before it, oldest first, and clears the mark, in the caller's transaction (which holds the
/// chain's lock from the first link on, so instances starting at once link them once). Only
/// then: a row found without a link later was slipped in, and `verify` must see it so rather
/// than a start linking it. Answers how many rows were linked.
pub async fn chain_if_due(
    conn: &mut impl Conn,
    due: &DueMark,
    events: &str,
    chain: &str,
) -> StoreResult<u64> {
    if let Some(lock) = conn.dialect().chain_lock() {
        conn.execute(&Statement::new(lock).arg(CHAIN_LOCK)).await?;
    }
    if conn.scalar(&Statement::new(due.select)).await?.unwrap_or(0) == 0 {
        return Ok(0);
    }
    let chained = chain_unchained(conn, events, chain).await?;
    conn.execute(&Statement::new(due.delete)).await?;
    Ok(chained)
}

/// Chains the rows of `events` that have no link in `chain`, oldest first, in the caller's
/// transaction. Answers how many.
async fn chain_unchained(conn: &mut impl Conn, events: &str, chain: &str) -> StoreResult<u64> {
    let mut chained = 0;
    loop {
        let rows = conn
            .rows(
                &unchained_statement(events, chain, BACKFILL_ROWS),
                audit_row_of,
            )
            .await?;
        if rows.is_empty() {
            return Ok(chained);
        }
        chained += rows.len() as u64;
        append(conn, chain, &rows).await?;
    }
}

/// The first `limit` rows of `events` with no link in `chain`, oldest first.
pub fn unchained_statement(events: &str, chain: &str, limit: u32) -> Statement {
    Statement::new(format!(
        "SELECT {COLUMNS} FROM {events} e WHERE NOT EXISTS \
         (SELECT 1 FROM {chain} c WHERE c.event_id = e.id) ORDER BY e.at, e.id LIMIT $1"
    ))
    .arg(limit)
}

/// Up to `limit` links of `chain` after position `after`, each with its row from `events`.
pub fn links_statement(events: &str, chain: &str, after: i64, limit: u32) -> Statement {
    Statement::new(format!(
        "SELECT c.seq AS seq, c.event_id AS event_id, c.hash AS hash, {COLUMNS} \
         FROM {chain} c LEFT JOIN {events} e ON e.id = c.event_id \
         WHERE c.seq > $1 ORDER BY c.seq LIMIT $2"
    ))
    .arg(after)
    .arg(limit)
}

/// The row's columns, under their own names, from the alias `e`.
const COLUMNS: &str = "e.id AS id, e.at AS at, e.user_id AS user_id, e.action AS action, \
     e.resource_type AS resource_type, e.resource_id AS resource_id, e.patient_id AS patient_id, \
     e.outcome AS outcome, e.request_id AS request_id, e.ip AS ip, \
     e.client_request_id AS client_request_id";

/// Reads a link and its row (none when the row is gone).
pub fn chain_link(row: &dyn Row) -> StoreResult<ChainLink> {
    let present = sql::opt_text(row, "action")?.is_some();
    Ok(ChainLink {
        seq: sql::int(row, "seq")?,
        event_id: sql::uuid(row, "event_id")?,
        hash: sql::text(row, "hash")?,
        row: if present {
            Some(audit_row_of(row)?)
        } else {
            None
        },
    })
}

/// Reads an audit row.
pub fn audit_row_of(row: &dyn Row) -> StoreResult<AuditRow> {
    Ok(AuditRow {
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

// What `Store` answers about the chains, on any engine, on a read connection.

/// The chain at `index` of `Dialect::audit_chains`: (name, audit rows, links).
fn chain_at(
    engine: &impl Engine,
    index: usize,
) -> StoreResult<(&'static str, &'static str, &'static str)> {
    engine
        .dialect()
        .audit_chains()
        .get(index)
        .copied()
        .ok_or_else(|| StoreError::Corrupt(format!("no audit chain number {index}")))
}

/// `Store::audit_chain_links`.
pub async fn links(
    engine: &impl Engine,
    index: usize,
    after: i64,
    limit: u32,
) -> StoreResult<Vec<ChainLink>> {
    let (_, events, chain) = chain_at(engine, index)?;
    let select = links_statement(events, chain, after, limit);
    engine
        .read(move |conn| Box::pin(async move { conn.rows(&select, chain_link).await }))
        .await
}

/// `Store::audit_unchained`.
pub async fn unchained(
    engine: &impl Engine,
    index: usize,
    limit: u32,
) -> StoreResult<Vec<AuditRow>> {
    let (_, events, chain) = chain_at(engine, index)?;
    let select = unchained_statement(events, chain, limit);
    engine
        .read(move |conn| Box::pin(async move { conn.rows(&select, audit_row_of).await }))
        .await
}

/// `Store::audit_chain_heads`.
pub async fn heads(engine: &impl Engine) -> StoreResult<Vec<(&'static str, ChainHead)>> {
    let mut heads = Vec::new();
    for &(name, _, chain) in engine.dialect().audit_chains() {
        let found = engine
            .read(move |conn| Box::pin(async move { head(conn, chain).await }))
            .await?;
        heads.push((name, found));
    }
    Ok(heads)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn row() -> AuditRow {
        AuditRow {
            id: Uuid::parse_str("0190d2a4-1b2c-7d3e-8f40-123456789abc").unwrap(),
            at: chrono::Utc
                .with_ymd_and_hms(2026, 11, 26, 6, 33, 23)
                .unwrap(),
            user_id: None,
            action: "patient.read".into(),
            resource_type: Some("patient".into()),
            resource_id: Some(String::new()),
            patient_id: None,
            outcome: "success".into(),
            request_id: "req-1".into(),
            client_request_id: None,
            ip: Some("127.0.0.1".into()),
        }
    }

    #[test]
    fn null_and_empty_text_hash_apart_and_every_field_counts() {
        let a = row();
        let mut b = row();
        b.resource_id = None;
        assert_ne!(link_hash(GENESIS, 1, &a), link_hash(GENESIS, 1, &b));
        // Text moved from one field to the next changes the hash: lengths are encoded.
        let mut c = row();
        c.request_id = "req-".into();
        c.ip = Some("1127.0.0.1".into());
        assert_ne!(link_hash(GENESIS, 1, &a), link_hash(GENESIS, 1, &c));
        assert_ne!(link_hash(GENESIS, 1, &a), link_hash(GENESIS, 2, &a));
        let other = link_hash(GENESIS, 1, &b);
        assert_ne!(link_hash(GENESIS, 2, &a), link_hash(&other, 2, &a));
    }

    #[test]
    fn the_hash_of_a_known_row_is_pinned() {
        // Pinned so that a change to the canonical form (which would break every stored
        // chain) cannot pass unnoticed.
        let hash = link_hash(GENESIS, 1, &row());
        assert_eq!(hash.len(), 64);
        assert_eq!(hash, link_hash(GENESIS, 1, &row()));
        assert_eq!(hash, PINNED);
    }

    const PINNED: &str = "5fb78faef7c589531230e6ce75f2d0a325e3adc1b4f39a26be117cca307a7007";
}
