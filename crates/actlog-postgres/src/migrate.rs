//! Schema migrations: the `.sql` files of `migrations/`, embedded and applied in order when the
//! store opens, each recorded in `schema_migrations` with a checksum of its text.
//!
//! Several servers may start at once on an empty database: the migration runs in one
//! transaction under a transaction-scoped advisory lock, so one server migrates while the
//! others wait, then find the schema up to date. A released migration is never edited: a
//! checksum that differs, or a database migrated by a newer actlog, makes the store refuse to
//! open rather than guess.

use deadpool_postgres::Client;
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
        name: "0002_api_key_lifecycle",
        sql: include_str!("../migrations/0002_api_key_lifecycle.sql"),
    },
    Migration {
        version: 3,
        name: "0003_log",
        sql: include_str!("../migrations/0003_log.sql"),
    },
    Migration {
        version: 4,
        name: "0004_external_identities",
        sql: include_str!("../migrations/0004_external_identities.sql"),
    },
    Migration {
        version: 5,
        name: "0005_subscriptions",
        sql: include_str!("../migrations/0005_subscriptions.sql"),
    },
    Migration {
        version: 6,
        name: "0006_byte_keys",
        sql: include_str!("../migrations/0006_byte_keys.sql"),
    },
    Migration {
        version: 7,
        name: "0007_subscription_pages",
        sql: include_str!("../migrations/0007_subscription_pages.sql"),
    },
];

/// The advisory lock key migrations hold ("actlog" in ASCII).
const MIGRATION_LOCK: i64 = 0x6163_746c_6f67;

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
        source: tokio_postgres::Error,
    },
    #[error("cannot read the applied migrations: {0}")]
    Database(#[from] tokio_postgres::Error),
}

/// SHA-256 of a migration's text (line ends normalised to LF), in hex.
fn checksum(sql: &str) -> String {
    let digest = Sha256::digest(sql.replace("\r\n", "\n").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Brings the database up to date with [`MIGRATIONS`].
pub(crate) async fn run(client: &mut Client) -> Result<(), MigrateError> {
    run_with(client, MIGRATIONS).await
}

/// Applies `migrations` (sorted by version) not yet applied, in one transaction under the
/// migration lock.
pub(crate) async fn run_with(
    client: &mut Client,
    migrations: &[Migration],
) -> Result<(), MigrateError> {
    let tx = client.transaction().await?;
    tx.batch_execute("SET LOCAL client_min_messages = warning")
        .await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version    bigint      PRIMARY KEY,
            name       text        NOT NULL,
            checksum   text        NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )",
    )
    .await?;
    let known = migrations.last().map_or(0, |m| m.version);
    let found: Option<i64> = tx
        .query_one("SELECT max(version) FROM schema_migrations", &[])
        .await?
        .get(0);
    if let Some(found) = found.filter(|&found| found > known) {
        return Err(MigrateError::TooNew { found, known });
    }
    for migration in migrations {
        let applied = tx
            .query_opt(
                "SELECT checksum FROM schema_migrations WHERE version = $1",
                &[&migration.version],
            )
            .await?
            .map(|row| row.get::<_, String>(0));
        match applied {
            Some(sum) if sum == checksum(migration.sql) => {}
            Some(_) => {
                return Err(MigrateError::Edited {
                    version: migration.version,
                    name: migration.name.to_owned(),
                });
            }
            None => {
                let failed = |source| MigrateError::Failed {
                    name: migration.name.to_owned(),
                    source,
                };
                tx.batch_execute(migration.sql).await.map_err(failed)?;
                tx.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    &[
                        &migration.version,
                        &migration.name,
                        &checksum(migration.sql),
                    ],
                )
                .await
                .map_err(failed)?;
                tracing::info!(migration = migration.name, "applied database migration");
            }
        }
    }
    tx.commit().await?;
    Ok(())
}
