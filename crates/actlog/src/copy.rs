//! `actlog copy --from URL --to URL`: moves a deployment between databases (SQLite ⇄
//! PostgreSQL): partners, API keys (by their hashes, so they keep working), users with their
//! password hashes, roles and preferences, and every record.
//!
//! Records are read from the source in its commit order and appended to the target in the
//! same order, a batch at a time, so the target numbers them alike. Appends are idempotent by
//! id, so an interrupted copy is resumed by running it again: it skips what the target already
//! holds of each partner (re-sending a small overlap, and checking it matches) and goes on.
//! It ends with a count of every partner on both sides. Browser sessions and failed sign-ins
//! are not copied: users sign in again on the new deployment. Nor is the continuation-token
//! key: a token names positions in its own database, so the target refuses the source's
//! tokens as unknown rather than misreading them; clients start their walk again.

use std::sync::Arc;

use anyhow::{Context, bail};
use futures::StreamExt;

use actlog_domain::query::{Query, Window};
use actlog_domain::{AuditRecord, OperationDate};
use actlog_store::{AddUserError, AppendError, AppendReport, NewUser, Store, User};

use crate::config::DatabaseUrl;
use crate::progress;
use crate::serve::open_store;

/// Records appended per batch.
const BATCH: usize = 1_000;
/// Records re-sent before the resume point of a partner, to check the copy so far matches.
const OVERLAP: u64 = 1_000;

/// What was copied of one partner.
#[derive(Debug, Default)]
struct Copied {
    report: AppendReport,
    skipped: u64,
    source: u64,
    target: u64,
}

pub async fn run(from: &DatabaseUrl, to: &DatabaseUrl) -> anyhow::Result<()> {
    if from.to_string() == to.to_string() {
        bail!("--from and --to name the same database");
    }
    if let DatabaseUrl::Sqlite(path) = from
        && !path.exists()
    {
        bail!("there is no database at {}", path.display());
    }
    let source = open_store(from).await?;
    let target = open_store(to).await?;
    let partners = source.partners().await?;
    for partner in &partners {
        target.ensure_partner(partner).await?;
    }
    let keys = copy_keys(source.as_ref(), target.as_ref()).await?;
    let users = copy_users(source.as_ref(), target.as_ref()).await?;
    let mut copied = Vec::new();
    for partner in &partners {
        copied.push(copy_records(&source, &target, partner).await?);
    }
    println!("Copied {from} to {to}:");
    println!(
        "  {} partners, {keys} API keys new, {users} users new",
        partners.len()
    );
    let mut mismatched = Vec::new();
    for (partner, c) in partners.iter().zip(&copied) {
        println!(
            "  {partner}: {} records in the source, {} in the target ({} copied now, {} already there)",
            c.source,
            c.target,
            c.report.stored,
            c.report.unchanged as u64 + c.skipped
        );
        if c.source != c.target {
            mismatched.push(partner.as_str());
        }
    }
    if !mismatched.is_empty() {
        bail!(
            "the target's record counts differ from the source's for {}: it held other records \
             before the copy, or records arrived in the source meanwhile (copy again)",
            mismatched.join(", ")
        );
    }
    println!("  every partner's count matches");
    Ok(())
}

/// API keys the target lacks; how many.
async fn copy_keys(source: &dyn Store, target: &dyn Store) -> anyhow::Result<usize> {
    let mut added = 0;
    for stored in source.api_keys().await? {
        if target.api_key(&stored.secret_hash).await?.is_none() {
            target.add_api_key(&stored.key, &stored.secret_hash).await?;
            if stored.expires_at.is_some() {
                target
                    .set_api_key_expiry(&stored.key.id, stored.expires_at)
                    .await?;
            }
            added += 1;
        }
    }
    Ok(added)
}

/// Users, with their roles, state and preferences; how many were new.
async fn copy_users(source: &dyn Store, target: &dyn Store) -> anyhow::Result<usize> {
    let mut added = 0;
    for user in source.users(None).await? {
        let new = NewUser {
            partner_id: user.partner_id.clone(),
            email: user.email.clone(),
            password_hash: user.password_hash.clone(),
            roles: user.roles.clone(),
        };
        let copy = match target.add_user(new).await {
            Ok(copy) => {
                added += 1;
                copy
            }
            Err(AddUserError::EmailTaken(_)) => existing(target, &user).await?,
            Err(AddUserError::Store(e)) => return Err(e.into()),
        };
        target.set_roles(&user.email, &user.roles).await?;
        target.set_disabled(&user.email, user.disabled).await?;
        let (lang, zone) = (user.lang.as_deref(), user.time_zone.as_deref());
        target.set_preferences(copy.id, lang, zone).await?;
    }
    Ok(added)
}

/// The target's user with `user`'s email, which must belong to the same partner.
async fn existing(target: &dyn Store, user: &User) -> anyhow::Result<User> {
    let found = target
        .user_by_email(&user.email)
        .await?
        .with_context(|| format!("user {} is neither new nor found", user.email))?;
    if found.partner_id != user.partner_id {
        bail!(
            "user {} belongs to partner {} in the target but to {} in the source",
            user.email,
            found.partner_id,
            user.partner_id
        );
    }
    Ok(found)
}

fn everything() -> Query {
    Query {
        window: Window {
            start: OperationDate::MIN,
            end: None,
        },
        filter: None,
    }
}

/// Copies `partner`'s records the target lacks, in the source's commit order.
async fn copy_records(
    source: &Arc<dyn Store>,
    target: &Arc<dyn Store>,
    partner: &str,
) -> anyhow::Result<Copied> {
    let total = source.count(partner, &everything()).await?;
    let skip = resume_point(source.as_ref(), target.as_ref(), partner).await?;
    let mut copied = Copied {
        skipped: skip,
        source: total,
        ..Copied::default()
    };
    let bar = progress::bar(Some(total), &format!("copying {partner}"));
    bar.inc(skip);
    let mut batches = source.scan_log(partner, skip);
    let mut pending: Vec<AuditRecord> = Vec::with_capacity(BATCH);
    while let Some(batch) = batches.next().await {
        pending.extend(batch?.into_records());
        while pending.len() >= BATCH {
            let rest = pending.split_off(BATCH);
            let full = std::mem::replace(&mut pending, rest);
            append(target.as_ref(), partner, full, &mut copied.report, &bar).await?;
        }
    }
    let last = std::mem::take(&mut pending);
    append(target.as_ref(), partner, last, &mut copied.report, &bar).await?;
    bar.finish_and_clear();
    copied.source = source.count(partner, &everything()).await?;
    copied.target = target.count(partner, &everything()).await?;
    Ok(copied)
}

/// How many of `partner`'s records (in the source's log order) the target holds already:
/// what it counts, less an overlap, if the record at that point is there with the same
/// content; else none (everything is sent again, and the target skips what it has).
async fn resume_point(
    source: &dyn Store,
    target: &dyn Store,
    partner: &str,
) -> anyhow::Result<u64> {
    let held = target.count(partner, &everything()).await?;
    let skip = held.saturating_sub(OVERLAP);
    if skip == 0 {
        return Ok(0);
    }
    let mut at = source.scan_log(partner, skip - 1);
    let Some(batch) = at.next().await.transpose()? else {
        return Ok(0);
    };
    let Some(record) = batch.first() else {
        return Ok(0);
    };
    let there = target.get(partner, &record.id).await?;
    Ok(if there.is_some_and(|t| t.same_content(record)) {
        skip
    } else {
        0
    })
}

async fn append(
    target: &dyn Store,
    partner: &str,
    records: Vec<AuditRecord>,
    report: &mut AppendReport,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    let n = records.len() as u64;
    let done = match target.append(partner, records).await {
        Ok(done) => done,
        Err(AppendError::Conflict(ids)) => bail!(
            "partner {partner}: {} record id(s) are stored in the target with other content \
             (first: {}); nothing of that batch was copied",
            ids.len(),
            ids.first().map(String::as_str).unwrap_or("")
        ),
        Err(AppendError::Store(e)) => return Err(e.into()),
    };
    report.stored += done.stored;
    report.unchanged += done.unchanged;
    bar.inc(n);
    Ok(())
}
