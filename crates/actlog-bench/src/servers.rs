//! Scaling out: two actlog servers (each with its own `PgStore`, as two machines would have)
//! on one PostgreSQL database, the clients' batches of 1,000 split between them, against one
//! server taking the same batches from the same clients.
//!
//! Each side loads a fresh scratch database, so neither finds the other's ids already stored.
//! Both servers share this machine's cores with PostgreSQL and the clients: the ratio says
//! what a second server costs or gains when the database is the bottleneck, not what a second
//! machine would add.

use std::sync::Arc;

use actlog_domain::AuditRecord;

use crate::rows::RowSpec;
use crate::{clients, postgres, server};

pub async fn run(spec: &RowSpec, clients: usize) -> anyhow::Result<()> {
    let rows: Vec<AuditRecord> = spec.rows().collect();
    println!(
        "{} in batches of {}, from {clients} clients",
        spec.describe(),
        clients::BATCH
    );
    let one = load(&spec.partner, &rows, clients, 1).await?;
    println!("one actlog server:                        {one:>9.0} records/s");
    let two = load(&spec.partner, &rows, clients, 2).await?;
    println!(
        "two actlog servers, one database:         {two:>9.0} records/s  = {:.2}x one server",
        two / one
    );
    Ok(())
}

/// `rows` sent to `servers` servers on one fresh database; records per second.
async fn load(
    partner: &str,
    rows: &[AuditRecord],
    clients: usize,
    servers: usize,
) -> anyhow::Result<f64> {
    let db = postgres::scratch().await?;
    let first = server::start(Arc::new(postgres::open(db.url()).await?), partner).await?;
    let mut running = vec![first];
    for _ in 1..servers {
        let key = running[0].key.clone();
        let store = Arc::new(postgres::open(db.url()).await?);
        running.push(server::serve(store, partner, key).await?);
    }
    let targets: Vec<&server::Running> = running.iter().collect();
    let rate = clients::batches(&targets, rows, clients).await?;
    postgres::expect_records(db.url(), rows.len())?;
    Ok(rate)
}
