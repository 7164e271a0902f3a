//! `actlog keys show|rotate`, `actlog checkpoint`, `actlog verify` and `actlog verify-export`:
//! the deployment's signing keyring, its partners' signed checkpoints, the recomputation of
//! every log, and the offline check of an export against its proof bundle.

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
            "partner {}: {}, log of {} with root {}, {} checked: {}",
            report.partner,
            counted(report.records, "record"),
            report.size,
            evidence::hex(&report.root),
            counted(report.checkpoints as u64, "checkpoint"),
            if report.findings.is_empty() {
                "intact".to_owned()
            } else {
                counted(report.findings.len() as u64, "problem")
            }
        );
        for finding in &report.findings {
            println!("  {finding}");
        }
        problems += report.findings.len();
    }
    if problems > 0 {
        bail!(
            "verification failed: {} found",
            counted(problems as u64, "problem")
        );
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

/// The flags of `actlog verify-export`.
#[derive(Debug, clap::Args)]
pub struct VerifyExportArgs {
    /// The exported file (CSV, XLSX or NDJSON), as downloaded or written by `actlog export`.
    file: PathBuf,
    /// Its proof bundle.
    #[arg(long, value_name = "PROOF")]
    proof: PathBuf,
    /// The deployment's verifier key (`actlog keys show` prints it), or a file holding it.
    #[arg(long = "key", value_name = "VERIFIER_KEY")]
    key: String,
}

/// Checks an export against its bundle; exits non-zero with every problem found.
pub fn verify_export(args: &VerifyExportArgs) -> anyhow::Result<()> {
    let key = verifier_key(&args.key)?;
    let open = |path: &Path, what: &str| {
        std::fs::File::open(path)
            .map_err(|e| UsageError(format!("cannot read the {what} {}: {e}", path.display())))
    };
    let file = open(&args.file, "export")?;
    let bundle = open(&args.proof, "proof")?;
    match actlog_tlog::bundle::verify(file, bundle, &key) {
        Ok(verified) => {
            let m = &verified.manifest;
            let period = match &m.period_to {
                Some(to) => format!("{} to {to}", m.period_from),
                None => format!("{} to {}", m.period_from, m.exported_at),
            };
            println!(
                "{}: verified. It is the export of {} rows of partner {} ({period}{}) that {} signed on {}; \
                 every record is in the partner's log {} of {} records (root {}).",
                args.file.display(),
                m.rows,
                m.partner,
                m.filter
                    .as_deref()
                    .map(|f| format!(", filter {f}"))
                    .unwrap_or_default(),
                verified.signer.name(),
                m.exported_at,
                m.log,
                m.tree_size,
                m.root_hash
            );
            Ok(())
        }
        Err(problems) => {
            for problem in &problems.0 {
                println!("  {problem}");
            }
            bail!(
                "{} does not verify against {}: {} found",
                args.file.display(),
                args.proof.display(),
                counted(problems.0.len() as u64, "problem")
            )
        }
    }
}

/// A verifier key as given, or read from the file it names.
fn verifier_key(text: &str) -> anyhow::Result<VerifierKey> {
    if let Ok(key) = text.trim().parse() {
        return Ok(key);
    }
    let from_file = std::fs::read_to_string(text).ok();
    match from_file
        .as_deref()
        .map(|t| t.trim().parse::<VerifierKey>())
    {
        Some(Ok(key)) => Ok(key),
        Some(Err(e)) => {
            Err(UsageError(format!("the file {text} holds no verifier key: {e}")).into())
        }
        None => {
            let reason = text
                .trim()
                .parse::<VerifierKey>()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            Err(UsageError(format!(
                "--key `{text}` is neither a verifier key ({reason}) nor a file holding one"
            ))
            .into())
        }
    }
}

/// `1 record`, `2 records`.
fn counted(n: u64, what: &str) -> String {
    match n {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    }
}
