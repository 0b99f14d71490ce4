//! `synapse migrate` as an operator runs it before an upgrade: the real binary on a database an
//! earlier release left (its migrations run up to the one before this release's last), on a
//! SQLite file and on a PostgreSQL database of its own. `--check` reports the pending migration
//! with exit 10 and changes nothing; `migrate` applies it; then `--check` exits 0. A database a
//! newer release migrated, and a missing database, are refused with what to do.
//! The PostgreSQL half runs when `SYNAPSE_TEST_POSTGRES_URL` is set (always under CI=true).

mod common;

use std::io::Write as _;
use std::path::Path;
use std::str::FromStr;

use common::served::synapse;
use common::{TestDatabase, postgres_url};
use synapse::store::{postgres, sqlite};

/// The exit code `synapse migrate --check` documents for pending migrations.
const PENDING: i32 = 10;

#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn migrate(dir: &Path, args: &[&str]) -> Run {
    let output = synapse(dir)
        .arg("migrate")
        .args(args)
        .output()
        .expect("run synapse migrate");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn last_version(migrator: &sqlx::migrate::Migrator) -> i64 {
    migrator
        .iter()
        .map(|m| m.version)
        .max()
        .expect("migrations")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_check_reports_the_pending_migration_and_migrate_applies_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("clinic.db");
    let url = format!("sqlite://{}", file.display());
    let last = last_version(&sqlite::migrator());
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)
        .expect("url")
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options)
        .await
        .expect("create the file");
    sqlite::migrator()
        .run_to(last - 1, &pool)
        .await
        .expect("the migrations of the earlier release");
    let recorded = "SELECT count(*) FROM _sqlx_migrations";
    let before: i64 = sqlx::query_scalar(recorded).fetch_one(&pool).await.unwrap();

    let check = migrate(dir.path(), &["--check", "--database", &url]);
    assert_eq!(check.code, PENDING, "{check:#?}");
    assert!(
        check.stdout.contains(&format!("{last:>4} ")) && check.stdout.contains("1 pending"),
        "--check names the pending migration: {check:#?}"
    );
    assert!(check.stdout.contains("synapse migrate"), "{check:#?}");
    let after_check: i64 = sqlx::query_scalar(recorded).fetch_one(&pool).await.unwrap();
    assert_eq!(after_check, before, "--check applied nothing");
    assert!(
        !sqlite::audit_log_path(&file).exists(),
        "--check created no file"
    );

    let applied = migrate(dir.path(), &["--database", &url]);
    assert_eq!(applied.code, 0, "{applied:#?}");
    assert!(applied.stdout.contains("Applied"), "{applied:#?}");
    let after: i64 = sqlx::query_scalar(recorded).fetch_one(&pool).await.unwrap();
    // Counted, not the last version: a version may be reserved and not yet written.
    assert_eq!(
        after,
        sqlite::migrator().iter().count() as i64,
        "every migration is recorded"
    );

    let again = migrate(dir.path(), &["--check", "--database", &url]);
    assert_eq!(again.code, 0, "{again:#?}");
    assert!(again.stdout.contains("up to date"), "{again:#?}");

    // A newer release's migration, which this binary does not know: refused, nothing applied.
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from a newer release', TRUE, x'00', 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    for args in [vec!["--check"], vec![]] {
        let mut args = args;
        args.extend(["--database", &url]);
        let newer = migrate(dir.path(), &args);
        assert_eq!(newer.code, 1, "{newer:#?}");
        assert!(
            newer.stderr.contains("newer Synapse") && newer.stderr.contains("9999"),
            "{newer:#?}"
        );
    }
    pool.close().await;
}

#[test]
fn sqlite_check_on_a_missing_database_says_so_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("typo.db");
    let url = format!("sqlite://{}", file.display());
    for args in [
        vec!["--check", "--database", &url],
        vec!["--database", &url],
    ] {
        let run = migrate(dir.path(), &args);
        assert_eq!(run.code, 5, "{run:#?}");
        assert!(
            run.stderr.contains("there is no database at") && run.stderr.contains("--database"),
            "{run:#?}"
        );
        assert!(!file.exists(), "nothing was created");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_check_reports_the_pending_migration_and_migrate_applies_it() {
    let Some(admin_url) = postgres_url() else {
        let _ = writeln!(
            std::io::stderr(),
            "skipped the PostgreSQL migrate test: set SYNAPSE_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run it"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let database = TestDatabase::create(&admin_url).await;
    let last = last_version(&postgres::migrator());
    let pool = sqlx::PgPool::connect(&database.url).await.expect("connect");
    postgres::migrator()
        .run_to(last - 1, &pool)
        .await
        .expect("the migrations of the earlier release");
    let recorded = "SELECT count(*) FROM _sqlx_migrations";
    let before: i64 = sqlx::query_scalar(recorded).fetch_one(&pool).await.unwrap();

    let check = migrate(dir.path(), &["--check", "--database", &database.url]);
    assert_eq!(check.code, PENDING, "{check:#?}");
    assert!(
        check.stdout.contains(&format!("{last:>4} ")) && check.stdout.contains("1 pending"),
        "{check:#?}"
    );
    let after_check: i64 = sqlx::query_scalar(recorded).fetch_one(&pool).await.unwrap();
    assert_eq!(after_check, before, "--check applied nothing");

    let applied = migrate(dir.path(), &["--database", &database.url]);
    assert_eq!(applied.code, 0, "{applied:#?}");
    let after: i64 = sqlx::query_scalar(recorded).fetch_one(&pool).await.unwrap();
    // Counted, not the last version: a version may be reserved and not yet written.
    assert_eq!(
        after,
        postgres::migrator().iter().count() as i64,
        "every migration is recorded"
    );

    let again = migrate(dir.path(), &["--check", "--database", &database.url]);
    assert_eq!(again.code, 0, "{again:#?}");
    assert!(again.stdout.contains("up to date"), "{again:#?}");

    // A fresh, empty database: every migration pending.
    let empty = TestDatabase::create(&admin_url).await;
    let fresh = migrate(dir.path(), &["--check", "--database", &empty.url]);
    assert_eq!(fresh.code, PENDING, "{fresh:#?}");
    assert!(
        fresh
            .stdout
            .contains(&format!("{} pending", postgres::migrator().iter().count())),
        "{fresh:#?}"
    );

    // A database that does not exist: refused without the URL (it may hold a password).
    let mut missing = reqwest::Url::parse(&database.url).unwrap();
    missing.set_path(&format!("/{}_missing", database.name));
    let run = migrate(dir.path(), &["--check", "--database", missing.as_str()]);
    assert_eq!(run.code, 5, "{run:#?}");
    assert!(
        run.stderr
            .contains("cannot connect to the PostgreSQL database")
            && !run.stderr.contains("_missing"),
        "{run:#?}"
    );
    pool.close().await;
}
