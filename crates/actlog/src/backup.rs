//! `actlog backup --to FILE`: an online, consistent copy of a SQLite deployment, with its
//! signing keyring beside it.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::UsageError;
use crate::config::{CheckpointSettings, DatabaseUrl};

/// Copies the database `url` names (SQLite only) to the new file `to`, and its keyring to
/// `TO.keyring`, then says what it copied.
pub async fn run(
    url: &DatabaseUrl,
    checkpoints: &CheckpointSettings,
    to: &Path,
) -> anyhow::Result<()> {
    let DatabaseUrl::Sqlite(from) = url else {
        bail!(UsageError(format!(
            "actlog backup copies SQLite databases; {url} is PostgreSQL: back it up with pg_dump, \
             or continuous archiving for point-in-time recovery (see the README, \"Running on PostgreSQL\")"
        )));
    };
    let keyring = checkpoints.keyring_for(url);
    let keyring_to = keyring.exists().then(|| keyring_target(to));
    if let Some(target) = &keyring_to
        && target.exists()
    {
        bail!(UsageError(format!(
            "{} exists already: choose another name for the backup, or remove it first",
            target.display()
        )));
    }
    let (from, to) = (from.clone(), to.to_owned());
    let summary = tokio::task::spawn_blocking(move || copy(&from, &to)).await??;
    println!(
        "backed up {url} to {} ({} bytes)",
        summary.0.display(),
        summary.1.bytes
    );
    let total: u64 = summary.1.records.iter().map(|(_, n)| n).sum();
    for (partner, records) in &summary.1.records {
        println!("  {partner}: {records} records");
    }
    println!(
        "  in all: {total} records of {} partners",
        summary.1.records.len()
    );
    match keyring_to {
        Some(target) => {
            copy_private(&keyring, &target)?;
            println!(
                "  signing keyring: {} (keep it as secret as the database; serve the backup with \
                 --database sqlite://{} and it is found beside it)",
                target.display(),
                summary.0.display()
            );
        }
        None => println!("  signing keyring: none yet at {}", keyring.display()),
    }
    Ok(())
}

fn copy(from: &Path, to: &Path) -> anyhow::Result<(PathBuf, actlog_sqlite::backup::BackupSummary)> {
    use actlog_sqlite::backup::{BackupError, backup, used_bytes};
    let usage = |e: BackupError| match e {
        BackupError::NoSource(_)
        | BackupError::TargetExists(_)
        | BackupError::TargetPlace { .. } => anyhow::Error::new(UsageError(e.to_string())),
        e => anyhow::Error::new(e),
    };
    let total = used_bytes(from).map_err(usage)?;
    let bar = crate::progress::bar(Some(total), "copying bytes");
    let summary = backup(from, to, &|bytes| bar.set_position(bytes.min(total))).map_err(usage)?;
    bar.finish_and_clear();
    Ok((to.to_owned(), summary))
}

/// `FILE.keyring`, where `actlog serve --database sqlite://FILE` looks for the keyring.
fn keyring_target(to: &Path) -> PathBuf {
    let mut name = to.as_os_str().to_owned();
    name.push(".keyring");
    PathBuf::from(name)
}

/// Copies the keyring, readable by its owner only, never over an existing file.
fn copy_private(from: &Path, to: &Path) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let bytes = std::fs::read(from).with_context(|| format!("cannot read {}", from.display()))?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)
        .with_context(|| format!("cannot create {}", to.display()))?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", to.display()))
}
