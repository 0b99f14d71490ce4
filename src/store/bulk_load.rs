//! What both engines share when `synapse seed` loads an empty database with the upkeep of its
//! secondary indexes (and, on PostgreSQL, foreign keys and derived data) set aside: where the
//! dropped definitions are recorded, and how they are turned back into statements. Each engine
//! reads its own catalog (`postgres::bulk_load`, `sqlite::bulk_load`).

use super::{StoreError, StoreResult};

/// The `settings` key holding the definitions (a JSON array of SQL statements) while a load
/// has them set aside.
pub const BULK_LOAD_SETTING: &str = "bulk_load_set_aside";

/// The tables `synapse seed` fills.
pub const LOADED_TABLES: [&str; 5] = [
    "patients",
    "patient_name_words",
    "consultations",
    "reports",
    "report_addenda",
];

/// `name` as an SQL identifier, in double quotes (both engines read them so).
pub fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The recorded definitions as statements to run. Indexes and triggers become
/// `IF NOT EXISTS`, so a restore that stopped halfway can simply run again; the rest
/// (PostgreSQL's foreign keys) runs as recorded, in the one transaction that restores all.
pub fn rebuild_statements(recorded: &str) -> StoreResult<Vec<String>> {
    let definitions: Vec<String> = serde_json::from_str(recorded).map_err(|e| {
        StoreError::Corrupt(format!(
            "the recorded index definitions are not readable: {e}"
        ))
    })?;
    Ok(definitions
        .into_iter()
        .map(|sql| {
            for prefix in ["CREATE INDEX ", "CREATE TRIGGER "] {
                if let Some(head) = sql.get(..prefix.len())
                    && head.eq_ignore_ascii_case(prefix)
                {
                    return format!("{prefix}IF NOT EXISTS {}", &sql[prefix.len()..]);
                }
            }
            sql
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_definitions_become_repeatable_statements() {
        let recorded = r#"["CREATE INDEX a ON public.patients USING btree (doctor_id)",
                           "create index b ON reports(doctor_id) WHERE x",
                           "CREATE TRIGGER t AFTER INSERT ON patients BEGIN SELECT 1; END",
                           "ALTER TABLE r ADD CONSTRAINT f FOREIGN KEY (p) REFERENCES p(id)"]"#;
        assert_eq!(
            rebuild_statements(recorded).unwrap(),
            [
                "CREATE INDEX IF NOT EXISTS a ON public.patients USING btree (doctor_id)",
                "CREATE INDEX IF NOT EXISTS b ON reports(doctor_id) WHERE x",
                "CREATE TRIGGER IF NOT EXISTS t AFTER INSERT ON patients BEGIN SELECT 1; END",
                "ALTER TABLE r ADD CONSTRAINT f FOREIGN KEY (p) REFERENCES p(id)"
            ]
        );
        assert!(matches!(
            rebuild_statements("not json"),
            Err(StoreError::Corrupt(_))
        ));
    }
}
