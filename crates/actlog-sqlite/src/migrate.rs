//! Schema migrations: the `.sql` files of `migrations/`, embedded in the binary and applied in
//! order when the store opens.
//!
//! Each applied migration is recorded in `schema_migrations` with a checksum of its text. A
//! released migration is never edited, so a checksum that differs means the database and this
//! binary disagree about the schema: the store refuses to open rather than guess. So does a
//! database migrated by a newer actlog than this one.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};

/// One migration file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration this binary knows, in order. Append only.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_initial",
        sql: include_str!("../migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "0002_identity",
        sql: include_str!("../migrations/0002_identity.sql"),
    },
    Migration {
        version: 3,
        name: "0003_folded",
        sql: include_str!("../migrations/0003_folded.sql"),
    },
    Migration {
        version: 4,
        name: "0004_sign_in_failures",
        sql: include_str!("../migrations/0004_sign_in_failures.sql"),
    },
    Migration {
        version: 5,
        name: "0005_extensions",
        sql: include_str!("../migrations/0005_extensions.sql"),
    },
    Migration {
        version: 6,
        name: "0006_pull_state",
        sql: include_str!("../migrations/0006_pull_state.sql"),
    },
    Migration {
        version: 7,
        name: "0007_api_key_lifecycle",
        sql: include_str!("../migrations/0007_api_key_lifecycle.sql"),
    },
    Migration {
        version: 8,
        name: "0008_log",
        sql: include_str!("../migrations/0008_log.sql"),
    },
    Migration {
        version: 9,
        name: "0009_external_identities",
        sql: include_str!("../migrations/0009_external_identities.sql"),
    },
    Migration {
        version: 10,
        name: "0010_subscriptions",
        sql: include_str!("../migrations/0010_subscriptions.sql"),
    },
    Migration {
        version: 11,
        name: "0011_subscription_pages",
        sql: include_str!("../migrations/0011_subscription_pages.sql"),
    },
];

/// Why the schema could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "migration {name} (version {version}) differs from the one this database applied \
         (checksum mismatch); released migrations must never be edited: restore the original \
         file and put the change in a new migration"
    )]
    Edited { version: i64, name: String },
    #[error(
        "the database has schema version {found}, newer than this actlog knows ({known}); \
         run the actlog version that migrated it, or a newer one"
    )]
    TooNew { found: i64, known: i64 },
    #[error("migration {name} failed: {source}")]
    Failed {
        name: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot read the applied migrations: {0}")]
    Database(#[from] rusqlite::Error),
}

/// The checksum recorded for a migration: SHA-256 of its text (line ends normalised to LF, so
/// a checkout with CRLF line ends does not look edited), in hex.
pub(crate) fn checksum(sql: &str) -> String {
    let digest = Sha256::digest(sql.replace("\r\n", "\n").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Brings the database up to date with [`MIGRATIONS`].
pub(crate) fn run(conn: &mut Connection) -> Result<(), MigrateError> {
    run_with(conn, MIGRATIONS)
}

/// Applies `migrations` (sorted by version) not yet applied, in one immediate transaction, so
/// that two processes opening a new database at once do not both migrate it.
pub(crate) fn run_with(
    conn: &mut Connection,
    migrations: &[Migration],
) -> Result<(), MigrateError> {
    // Migration 0003 computes folded forms of older rows with the domain's functions.
    crate::connection::register_functions(conn)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT    NOT NULL,
            checksum   TEXT    NOT NULL,
            applied_at INTEGER NOT NULL
        ) STRICT",
    )?;
    let known = migrations.last().map_or(0, |m| m.version);
    let found: Option<i64> = tx
        .query_row("SELECT max(version) FROM schema_migrations", [], |r| {
            r.get(0)
        })
        .optional()?
        .flatten();
    if let Some(found) = found.filter(|&found| found > known) {
        return Err(MigrateError::TooNew { found, known });
    }
    for migration in migrations {
        let applied: Option<String> = tx
            .query_row(
                "SELECT checksum FROM schema_migrations WHERE version = ?1",
                [migration.version],
                |r| r.get(0),
            )
            .optional()?;
        match applied {
            Some(sum) if sum == checksum(migration.sql) => {}
            Some(_) => {
                return Err(MigrateError::Edited {
                    version: migration.version,
                    name: migration.name.to_owned(),
                });
            }
            None => apply(&tx, migration)?,
        }
    }
    tx.commit()?;
    Ok(())
}

fn apply(conn: &Connection, migration: &Migration) -> Result<(), MigrateError> {
    let failed = |source| MigrateError::Failed {
        name: migration.name.to_owned(),
        source,
    };
    conn.execute_batch(migration.sql).map_err(failed)?;
    conn.execute(
        "INSERT INTO schema_migrations (version, name, checksum, applied_at)
         VALUES (?1, ?2, ?3, unixepoch())",
        (migration.version, migration.name, checksum(migration.sql)),
    )
    .map_err(failed)?;
    tracing::info!(migration = migration.name, "applied database migration");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(conn: &Connection) -> Vec<(i64, String)> {
        let mut stmt = conn
            .prepare("SELECT version, name FROM schema_migrations ORDER BY version")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    const SECOND: Migration = Migration {
        version: 2,
        name: "0002_test",
        sql: "CREATE TABLE test_only (x INTEGER);",
    };

    /// The newest real migration's version (versions may skip a number reserved elsewhere).
    fn newest() -> i64 {
        MIGRATIONS.last().unwrap().version
    }

    /// A migration after every real one.
    fn next() -> Migration {
        Migration {
            version: newest() + 1,
            ..SECOND
        }
    }

    #[test]
    fn migrations_apply_once_in_order() {
        let mut conn = Connection::open_in_memory().unwrap();
        run(&mut conn).unwrap();
        run(&mut conn).unwrap();
        let known: Vec<(i64, String)> = MIGRATIONS
            .iter()
            .map(|m| (m.version, m.name.to_owned()))
            .collect();
        assert_eq!(versions(&conn), known);
        let all = [MIGRATIONS, &[next()]].concat();
        run_with(&mut conn, &all).unwrap();
        assert_eq!(versions(&conn).len(), MIGRATIONS.len() + 1);
        conn.execute("INSERT INTO test_only VALUES (1)", [])
            .unwrap();
    }

    #[test]
    fn an_edited_migration_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        run_with(&mut conn, &[MIGRATIONS[0], SECOND]).unwrap();
        let edited = Migration {
            sql: "CREATE TABLE test_only (x INTEGER, y TEXT);",
            ..SECOND
        };
        let err = run_with(&mut conn, &[MIGRATIONS[0], edited]).unwrap_err();
        assert!(
            matches!(err, MigrateError::Edited { version: 2, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("0002_test"), "{err}");
    }

    #[test]
    fn a_newer_database_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        run_with(&mut conn, &[MIGRATIONS, &[next()]].concat()).unwrap();
        let err = run(&mut conn).unwrap_err();
        let known = newest();
        assert!(
            matches!(err, MigrateError::TooNew { found, known: k } if found == known + 1 && k == known),
            "{err}"
        );
    }

    /// Rows stored before the folded forms were kept get them from migration 0003, equal to
    /// what a new row gets at insert.
    #[test]
    fn older_rows_get_the_folded_forms_new_rows_get() {
        let mut conn = Connection::open_in_memory().unwrap();
        run_with(&mut conn, &MIGRATIONS[..2]).unwrap();
        conn.execute_batch(
            r#"INSERT INTO partners (pkey, id, created_at) VALUES (1, 'p', 0);
               INSERT INTO records (partner, id, operation_date, customer_name,
                   user_principal_name, operation_type, customized_data)
               VALUES (1, 'r-İ', 5, 'ΟΔΟΣ Società', 'ana@x.example', 'create_order',
                   '[{"key":"Note","value":"say \"HI\""},{"key":"k","value":null}]');"#,
        )
        .unwrap();
        run(&mut conn).unwrap();
        let record = actlog_domain::AuditRecord {
            id: "r-İ".into(),
            partner_id: "p".into(),
            customer_id: None,
            customer_name: Some("ΟΔΟΣ Società".into()),
            user_principal_name: Some("ana@x.example".into()),
            application_id: None,
            resource_type: None,
            resource_old_value: None,
            resource_new_value: None,
            operation_type: "create_order".into(),
            operation_date: actlog_domain::OperationDate::from_ticks(5),
            operation_status: None,
            customized_data: Some(vec![
                actlog_domain::KeyValue {
                    key: "Note".into(),
                    value: Some("say \"HI\"".into()),
                },
                actlog_domain::KeyValue {
                    key: "k".into(),
                    value: None,
                },
            ]),
            session_id: None,
            original_correlation_id: None,
            attributes: Default::default(),
            extensions: Default::default(),
        };
        let want = actlog_domain::folded::Folded::of(&record);
        let got: (Option<String>, Option<String>, Option<String>, String) = conn
            .query_row(
                "SELECT customer_name_fold, user_principal_name_fold, application_id_fold,
                        search_text FROM records",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(
            got,
            (
                want.customer_name,
                want.user_principal_name,
                want.application_id,
                want.text
            )
        );
    }

    #[test]
    fn line_ends_do_not_change_the_checksum() {
        assert_eq!(checksum("a\r\nb\n"), checksum("a\nb\n"));
        assert_ne!(checksum("a\nb\n"), checksum("a\nc\n"));
        assert_eq!(checksum("").len(), 64);
    }
}
