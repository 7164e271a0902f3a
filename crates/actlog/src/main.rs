//! `actlog`: the one binary. Each subcommand lives in its own module; settings in [`config`].

mod apikey;
mod backup;
mod config;
mod copy;
mod demo;
mod evidence;
mod export;
mod import;
mod progress;
mod pull;
mod serve;
mod sso_settings;
mod user;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{DatabaseUrl, Settings};

/// Customer activity logs for partner platforms.
#[derive(Debug, Parser)]
#[command(name = "actlog", version, about)]
struct Cli {
    /// Settings file (default: ./actlog.toml when present).
    #[arg(long, global = true, env = "ACTLOG_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// `--database`, shared by every command that touches data.
#[derive(Debug, clap::Args)]
struct DatabaseArg {
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB (default from the settings:
    /// sqlite://actlog.db).
    #[arg(long, value_name = "URL")]
    database: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        #[command(flatten)]
        database: DatabaseArg,
        /// Address to listen on, ADDR:PORT (default 127.0.0.1:8080).
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<String>,
    },
    /// Start a server on a fresh embedded database seeded with a demo partner.
    Demo {
        /// Address to listen on, ADDR:PORT.
        #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
        listen: String,
        /// How many demo records to create.
        #[arg(long, default_value_t = 40_000)]
        records: usize,
        /// Database URL to seed and serve (default: a fresh embedded SQLite file in a temporary
        /// directory). A database already holding the demo partner is served as it is.
        #[arg(long, value_name = "URL")]
        database: Option<String>,
    },
    /// Manage API keys.
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// Load records from NDJSON or a Partner Center audit-records response.
    Import {
        /// The file to load (`-` for standard input).
        file: PathBuf,
        /// The partner the records belong to (created if new).
        #[arg(long, value_name = "PARTNER_ID")]
        partner: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Export a partner's records (a period, a filter) as CSV, XLSX or NDJSON, as the page does.
    Export {
        #[command(flatten)]
        args: export::Args,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Manage partner users and their roles.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Mirror a partner's audit records from Partner Center (or a compatible API, such as
    /// another actlog), resuming where the last pull stopped; --follow keeps it current.
    Pull {
        #[command(flatten)]
        args: pull::Args,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Copy a whole deployment (partners, keys, users, records) into another database, e.g.
    /// from SQLite to PostgreSQL; run it again to resume an interrupted copy.
    Copy {
        /// The database to copy from.
        #[arg(long, value_name = "URL")]
        from: String,
        /// The database to copy into (created and migrated as needed).
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// The deployment's checkpoint signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Print a partner's latest signed checkpoint, signing one first if records arrived since.
    Checkpoint {
        #[arg(long, value_name = "PARTNER_ID")]
        partner: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Recompute every partner's Merkle log from the stored records and check it against the
    /// stored hashes, the signed checkpoints and checkpoints held outside; exits non-zero on
    /// any finding.
    Verify {
        #[command(flatten)]
        args: evidence::VerifyArgs,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Check an exported file against its proof bundle (`actlog export --proof`), offline and
    /// without a database: the file is the one the bundle's signed manifest names, and every
    /// record is in the partner's log at the bundle's signed checkpoint.
    VerifyExport {
        #[command(flatten)]
        args: evidence::VerifyExportArgs,
    },
    /// Copy a SQLite database, while servers use it, to a new file: a consistent snapshot,
    /// checked and counted, with the signing keyring beside it (FILE.keyring). For
    /// PostgreSQL, use pg_dump.
    Backup {
        /// The file to create (it must not exist).
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Apply the database migrations and report the schema version.
    Migrate {
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Settings.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ApikeyCommand {
    /// Create a key; the key is printed once, as the last line.
    Create {
        /// The partner the key acts for (created if new).
        #[arg(long, value_name = "PARTNER_ID")]
        partner: String,
        /// What the key may do: read, write, or read,write.
        #[arg(long, default_value = "read")]
        scopes: String,
        /// A note saying who uses the key.
        #[arg(long, default_value = "")]
        label: String,
        /// Days until the key stops working (default: it does not expire).
        #[arg(long, value_name = "DAYS")]
        expires_in_days: Option<u32>,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// List a partner's keys: id (the key's public part), label, scopes, created, last used,
    /// expiry. Secrets are never shown.
    List {
        #[arg(long, value_name = "PARTNER_ID")]
        partner: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Revoke a key by its id: servers refuse it within a second.
    Revoke {
        /// The key's id, as `apikey list` shows it (the part of the key before its secret).
        key_id: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user; the password is asked for (or read from standard input when piped).
    Add {
        #[arg(long, value_name = "PARTNER_ID")]
        partner: String,
        #[arg(long)]
        email: String,
        /// A role, e.g. "Admin agent" (repeat for several; none is allowed).
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// List users (of one partner, or all).
    List {
        #[arg(long, value_name = "PARTNER_ID")]
        partner: Option<String>,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Replace a user's roles (give no --role to remove them all).
    SetRoles {
        #[arg(long)]
        email: String,
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Set a new password for a user (asked for, or read from standard input when piped) and
    /// end all their sessions.
    ResetPassword {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Disable a user (ends their sessions); --enable lets them back in.
    Disable {
        #[arg(long)]
        email: String,
        #[arg(long)]
        enable: bool,
        #[command(flatten)]
        database: DatabaseArg,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Print the verifier key (C2SP signed-note form) of the deployment's signing key, and of
    /// the keys rotated out; the keyring is created if there is none yet.
    Show {
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Replace the signing key by a new one, keeping the old public key so that checkpoints
    /// signed before still verify.
    Rotate {
        #[command(flatten)]
        database: DatabaseArg,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print a commented example settings file.
    Example,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Bad settings are reported by the command that reads them; logging starts as text then.
    let format = Settings::load(cli.config.as_deref())
        .map(|s| s.log_format)
        .unwrap_or_default();
    init_logging(format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build();
    let result = runtime
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(run(cli)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            if err.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Input the user must correct (a bad flag value, a missing file): exit code 2, like clap's own
/// usage errors, so that scripts can tell it from a failure while working.
#[derive(Debug)]
struct UsageError(String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Log lines on standard error, as `format` says; JSON lines carry the current span (a
/// request's ids) in each.
fn init_logging(format: config::LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("ACTLOG_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let lines = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        config::LogFormat::Text => lines.init(),
        config::LogFormat::Json => lines.json().with_current_span(true).init(),
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = || Settings::load(cli.config.as_deref());
    let database = |arg: &DatabaseArg| -> anyhow::Result<DatabaseUrl> {
        match &arg.database {
            Some(url) => DatabaseUrl::parse(url),
            None => Ok(settings()?.database),
        }
    };
    match &cli.command {
        Command::Serve {
            database: db,
            listen,
        } => {
            let mut settings = settings()?;
            settings.database = database(db)?;
            if let Some(listen) = listen {
                settings.listen = config::parse_listen(listen)?;
            }
            serve::run(settings).await
        }
        Command::Demo {
            listen,
            records,
            database,
        } => {
            let url = database.as_deref().map(DatabaseUrl::parse).transpose()?;
            demo::run(config::parse_listen(listen)?, *records, url).await
        }
        Command::Apikey { command } => match command {
            ApikeyCommand::Create {
                partner,
                scopes,
                label,
                expires_in_days,
                database: db,
            } => apikey::create(&database(db)?, partner, scopes, label, *expires_in_days).await,
            ApikeyCommand::List {
                partner,
                database: db,
            } => apikey::list(&database(db)?, partner).await,
            ApikeyCommand::Revoke {
                key_id,
                database: db,
            } => apikey::revoke(&database(db)?, key_id).await,
        },
        Command::Import {
            file,
            partner,
            database: db,
        } => import::run(&database(db)?, file, partner).await,
        Command::Export { args, database: db } => {
            export::run(&database(db)?, &settings()?.checkpoints, args).await
        }
        Command::User { command } => match command {
            UserCommand::Add {
                partner,
                email,
                roles,
                database: db,
            } => user::add(&database(db)?, partner, email, roles).await,
            UserCommand::List {
                partner,
                database: db,
            } => user::list(&database(db)?, partner.as_deref()).await,
            UserCommand::SetRoles {
                email,
                roles,
                database: db,
            } => user::set_roles(&database(db)?, email, roles).await,
            UserCommand::ResetPassword {
                email,
                database: db,
            } => user::reset_password(&database(db)?, email).await,
            UserCommand::Disable {
                email,
                enable,
                database: db,
            } => user::disable(&database(db)?, email, *enable).await,
        },
        Command::Pull { args, database: db } => {
            let settings = settings()?;
            let url = match &db.database {
                Some(url) => DatabaseUrl::parse(url)?,
                None => settings.database.clone(),
            };
            pull::run(&settings.pull, &url, args).await
        }
        Command::Copy { from, to } => {
            copy::run(&DatabaseUrl::parse(from)?, &DatabaseUrl::parse(to)?).await
        }
        Command::Keys { command } => {
            let (KeysCommand::Show { database: db } | KeysCommand::Rotate { database: db }) =
                command;
            let url = database(db)?;
            let checkpoints = settings()?.checkpoints;
            match command {
                KeysCommand::Show { .. } => evidence::show(&checkpoints, &url),
                KeysCommand::Rotate { .. } => evidence::rotate(&checkpoints, &url),
            }
        }
        Command::Checkpoint {
            partner,
            database: db,
        } => evidence::checkpoint(&settings()?.checkpoints, &database(db)?, partner).await,
        Command::Verify { args, database: db } => {
            evidence::verify(&settings()?.checkpoints, &database(db)?, args).await
        }
        Command::VerifyExport { args } => evidence::verify_export(args),
        Command::Backup { to, database: db } => {
            backup::run(&database(db)?, &settings()?.checkpoints, to).await
        }
        Command::Migrate { database: db } => {
            let url = database(db)?;
            serve::open_store(&url).await?;
            println!("{url}: schema up to date");
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Example,
        } => {
            print!("{}", config::EXAMPLE);
            Ok(())
        }
    }
}
