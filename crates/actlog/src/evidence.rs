//! `actlog keys show|rotate`, `actlog checkpoint` and `actlog verify`: the deployment's signing
//! keyring, its partners' signed checkpoints, and the recomputation of every log.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use actlog_app::evidence::{self, Held, Signer};
use actlog_tlog::keyfile::Keyring;
use actlog_tlog::note::VerifierKey;

use crate::UsageError;
use crate::config::{CheckpointSettings, DatabaseUrl};
use crate::serve::open_store;

/// The deployment's keyring, created on first use as the server creates it.
pub fn keyring(settings: &CheckpointSettings, url: &DatabaseUrl) -> anyhow::Result<Keyring> {
    let path = settings.keyring_for(url);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create {} for the keyring", dir.display()))?;
    }
    Keyring::load_or_create(&path, &settings.name).map_err(anyhow::Error::from)
}

pub fn show(settings: &CheckpointSettings, url: &DatabaseUrl) -> anyhow::Result<()> {
    let path = settings.keyring_for(url);
    let keyring = keyring(settings, url)?;
    let verifiers = keyring.verifiers();
    eprintln!(
        "The verifier key of {} (keyring {}); give it to whoever checks this deployment's checkpoints:",
        keyring.signing_key().name(),
        path.display()
    );
    println!("{}", verifiers[0]);
    if verifiers.len() > 1 {
        eprintln!("Keys rotated out (older checkpoints are signed by these):");
        for key in &verifiers[1..] {
            println!("{key}");
        }
    }
    Ok(())
}

pub fn rotate(settings: &CheckpointSettings, url: &DatabaseUrl) -> anyhow::Result<()> {
    let path = settings.keyring_for(url);
    let old = Keyring::load(&path)
        .with_context(|| format!("no keyring to rotate at {}", path.display()))?;
    let name = old.signing_key().name().to_owned();
    let keyring = Keyring::rotate(&path, &name)?;
    eprintln!(
        "Rotated the signing key of {name} (keyring {}); restart the servers to sign with it. \
         The new verifier key:",
        path.display()
    );
    println!("{}", keyring.verifiers()[0]);
    Ok(())
}

pub async fn checkpoint(
    settings: &CheckpointSettings,
    url: &DatabaseUrl,
    partner: &str,
) -> anyhow::Result<()> {
    if partner.trim().is_empty() {
        bail!(UsageError("--partner must name a partner".into()));
    }
    let signer = Signer::new(keyring(settings, url)?);
    let store = open_store(url).await?;
    let now = jiff::Timestamp::now().as_second();
    let latest = signer.latest(store.as_ref(), partner, now).await?;
    print!("{}", latest.note);
    Ok(())
}

/// `actlog verify`'s arguments.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Verify only this partner's log (default: every partner's).
    #[arg(long, value_name = "PARTNER_ID")]
    partner: Option<String>,
    /// A signed checkpoint kept outside the database (repeat for several): the log must
    /// still hold it, or the database was rolled back or rewritten.
    #[arg(long = "checkpoint", value_name = "FILE")]
    checkpoints: Vec<PathBuf>,
    /// A verifier key the checkpoints may be signed by (repeat for several; default: the
    /// deployment keyring's keys).
    #[arg(long = "key", value_name = "VERIFIER_KEY")]
    keys: Vec<String>,
}

pub async fn verify(
    settings: &CheckpointSettings,
    url: &DatabaseUrl,
    args: &VerifyArgs,
) -> anyhow::Result<()> {
    let keys: Vec<VerifierKey> = if args.keys.is_empty() {
        let path = settings.keyring_for(url);
        Keyring::load(&path)
            .with_context(|| {
                format!(
                    "cannot read the deployment's keyring {} (give its verifier key with --key)",
                    path.display()
                )
            })?
            .verifiers()
    } else {
        args.keys
            .iter()
            .map(|k| {
                k.parse()
                    .map_err(|e| UsageError(format!("--key `{k}` is not a verifier key: {e}")))
            })
            .collect::<Result<_, _>>()?
    };
    let deployment = keys[0].name().to_owned();
    let held = args
        .checkpoints
        .iter()
        .map(|path| read_held(path))
        .collect::<Result<Vec<_>, _>>()?;
    let store = open_store(url).await?;
    let partners = match &args.partner {
        Some(p) => vec![p.clone()],
        None => store.partners().await?,
    };
    let (placed, unplaced) = evidence::place_held(&held, &deployment, &partners);
    let mut problems = unplaced.len();
    for u in &unplaced {
        println!("checkpoint {}: refused: {}", u.name, u.reason);
    }
    for partner in &partners {
        let origin = actlog_tlog::checkpoint::origin(&deployment, partner)?;
        let held = placed.get(partner).cloned().unwrap_or_default();
        let bar = crate::progress::bar(None, &format!("verifying {partner}"));
        let mut progress = |n: u64| bar.set_position(n);
        let report = evidence::verify_partner(
            store.as_ref(),
            partner,
            &keys,
            &origin,
            &held,
            &mut progress,
        )
        .await?;
        bar.finish_and_clear();
        println!(
            "partner {}: {} records, log of {} with root {}, {} checkpoints checked: {}",
            report.partner,
            report.records,
            report.size,
            evidence::hex(&report.root),
            report.checkpoints,
            if report.findings.is_empty() {
                "intact".to_owned()
            } else {
                format!("{} problems", report.findings.len())
            }
        );
        for finding in &report.findings {
            println!("  {finding}");
        }
        problems += report.findings.len();
    }
    if problems > 0 {
        bail!("verification failed: {problems} problems found");
    }
    Ok(())
}

fn read_held(path: &Path) -> anyhow::Result<Held> {
    let note = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("cannot read checkpoint {}: {e}", path.display())))?;
    Ok(Held {
        name: path.display().to_string(),
        note,
    })
}
