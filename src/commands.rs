//! The one-off commands of the `sigil` binary besides `serve`: each opens the database, migrates
//! it, does its work, and reports what it did.

use std::{fmt, sync::Arc};

use anyhow::Context;
use sea_orm::DatabaseConnection;

use crate::{
    config::Config,
    domain::SystemClock,
    service::keys::{KeyRing, KeySettings, MasterKey, MasterKeys},
    store::{self, keys},
};

/// Opens and migrates the configured database.
async fn database(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let db = store::connect(config.database_url(), 2)
        .await
        .context("connecting to the database")?;
    store::migrate(&db).await.context("migrating the database")?;
    Ok(db)
}

/// A new signing key made by [`rotate_keys`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotated {
    /// The environment.
    pub environment_id: String,
    /// The id (`kid`) of its new signing key.
    pub kid: String,
}

impl fmt::Display for Rotated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "environment {}: new signing key {}",
            self.environment_id, self.kid
        )
    }
}

/// `sigil keys rotate`: a new signing key for every environment, or for `environment_id` only.
pub async fn rotate_keys(config: &Config, environment_id: Option<&str>) -> anyhow::Result<Vec<Rotated>> {
    config.validate()?;
    let masters = MasterKeys::parse(config.master_key.as_ref(), config.master_key_previous.as_ref())?;
    let db = database(config).await?;
    let environments = store::environments::list(&db).await?;
    let chosen: Vec<_> = match environment_id {
        Some(id) => {
            let found: Vec<_> = environments.into_iter().filter(|e| e.id == id).collect();
            anyhow::ensure!(!found.is_empty(), "no environment has the id {id:?}");
            found
        }
        None => environments,
    };
    let ring = KeyRing::load(
        db.clone(),
        Arc::new(SystemClock),
        KeySettings {
            issuer: config.issuer(),
            rotation: config.key_rotation.period(),
            environment_token_ttl: config.environment_token_ttl,
        },
        masters,
    )
    .await
    .context("loading signing keys")?;
    let mut rotated = Vec::new();
    for environment in chosen {
        let kid = ring
            .rotate(&environment)
            .await
            .with_context(|| format!("rotating the signing key of environment {}", environment.id))?;
        rotated.push(Rotated {
            environment_id: environment.id,
            kid,
        });
    }
    db.close().await.ok();
    Ok(rotated)
}

/// What [`reseal_keys`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resealed {
    /// Keys sealed by the previous master key, now sealed by the current one.
    pub resealed: Vec<String>,
    /// Keys stored unsealed, now sealed.
    pub sealed: Vec<String>,
    /// Keys already sealed by the current master key, left as they were.
    pub unchanged: usize,
    /// The current master key's id.
    pub master_key_id: String,
}

impl fmt::Display for Resealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "signing keys now sealed by master key {}: {} resealed, {} sealed that were stored unsealed, {} unchanged",
            self.master_key_id,
            self.resealed.len(),
            self.sealed.len(),
            self.unchanged
        )
    }
}

/// `sigil keys reseal`: seals every signing key with `SIGIL_MASTER_KEY`, opening those sealed by
/// `SIGIL_MASTER_KEY_PREVIOUS`. All or nothing, in one transaction; running it again changes
/// nothing. Refuses when a key opens with neither.
pub async fn reseal_keys(config: &Config) -> anyhow::Result<Resealed> {
    let masters = MasterKeys::parse(config.master_key.as_ref(), config.master_key_previous.as_ref())?;
    let current: &MasterKey = masters
        .current
        .as_ref()
        .context("SIGIL_MASTER_KEY must be set: it is the master key that keys are sealed with")?;
    let db = database(config).await?;
    let txn = store::begin(&db).await?;
    store::serialize(&txn, store::Lock::SigningKeys).await?;
    let mut done = Resealed {
        master_key_id: current.id().to_owned(),
        ..Resealed::default()
    };
    for row in keys::all(&txn).await? {
        if row.encrypted && row.sealed_by.as_deref() == Some(current.id()) {
            done.unchanged += 1;
            continue;
        }
        let (plain, sealer) = masters.open(&row).map_err(|message| anyhow::anyhow!(message))?;
        match sealer {
            Some(sealer) if sealer.id() == current.id() => {
                // Sealed before sealers were recorded, by the current key: only record it.
                keys::record_sealer(&txn, &row.kid, current.id()).await?;
                done.unchanged += 1;
            }
            Some(_) => {
                keys::seal(&txn, &row.kid, &current.seal(&row.kid, &plain)?, current.id()).await?;
                done.resealed.push(row.kid);
            }
            None => {
                keys::seal(&txn, &row.kid, &current.seal(&row.kid, &plain)?, current.id()).await?;
                done.sealed.push(row.kid);
            }
        }
    }
    txn.commit().await?;
    db.close().await.ok();
    Ok(done)
}
