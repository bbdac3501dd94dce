//! The one-off commands of the `sigil` binary besides `serve`: each opens the database, migrates
//! it, does its work, and reports what it did.

use std::{fmt, sync::Arc};

use anyhow::Context;
use sea_orm::DatabaseConnection;

use crate::{
    config::{Config, EnvironmentsCommand},
    domain::{
        SystemClock,
        environment::{CreateEnvironment, UpdateEnvironment},
        secret::Secret,
    },
    service::{
        Deps, PasswordHasher, Revocations, Services,
        environments::AdministeredEnvironment,
        keys::{KeyRing, MasterKey, MasterKeys},
        mailer::NoMailer,
    },
    store::{self, keys},
    telemetry::metrics::Metrics,
};

/// Opens and migrates the configured database.
async fn database(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let db = store::connect(config.database_url(), 2, config.database_acquire_timeout)
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
    let ring = KeyRing::load(db.clone(), Arc::new(SystemClock), config.key_settings(), masters)
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

/// The services over the configured database, for a command that shares their code with the
/// server (so `sigil environments create` and the administration RPC do the same thing).
async fn services(config: &Config) -> anyhow::Result<(Services, DatabaseConnection)> {
    config.validate()?;
    let masters = MasterKeys::parse(config.master_key.as_ref(), config.master_key_previous.as_ref())?;
    let db = database(config).await?;
    let clock = Arc::new(SystemClock);
    let metrics = Metrics::shared();
    let keys = KeyRing::load(db.clone(), clock.clone(), config.key_settings(), masters)
        .await
        .context("loading signing keys")?;
    let deps = Deps {
        db: db.clone(),
        clock: clock.clone(),
        keys: Arc::new(keys),
        hasher: PasswordHasher::for_this_machine(metrics.clone()),
        revocations: Arc::new(Revocations::new(
            db.clone(),
            clock,
            metrics.clone(),
            config.revocation_max_staleness,
        )),
        mailer: Arc::new(NoMailer),
        settings: Arc::new(config.service_settings()),
        metrics,
    };
    Ok((Services::new(deps), db))
}

/// An environment as `sigil environments` prints it, with its secret when it has just been made.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentOutput {
    /// The environment's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its client id.
    pub client_id: String,
    /// Its vendor host.
    pub host: Option<String>,
    /// Whether it is the default environment.
    pub is_default: bool,
    /// When it was created, RFC 3339.
    pub created_at: String,
    /// When it last changed, RFC 3339.
    pub updated_at: String,
    /// Its new secret, after `create` and `rotate-secret` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
}

impl EnvironmentOutput {
    fn new(administered: AdministeredEnvironment, secret: Option<Secret>) -> Self {
        let environment = administered.environment;
        Self {
            id: environment.id,
            name: environment.name,
            client_id: environment.client_id,
            host: environment.host,
            is_default: administered.is_default,
            created_at: environment.created_at.to_rfc3339(),
            updated_at: environment.updated_at.to_rfc3339(),
            secret,
        }
    }
}

impl fmt::Display for EnvironmentOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "id:         {}", self.id)?;
        writeln!(f, "name:       {}", self.name)?;
        writeln!(f, "client id:  {}", self.client_id)?;
        writeln!(f, "host:       {}", self.host.as_deref().unwrap_or("-"))?;
        writeln!(f, "default:    {}", if self.is_default { "yes" } else { "no" })?;
        writeln!(f, "created at: {}", self.created_at)?;
        write!(f, "updated at: {}", self.updated_at)?;
        if let Some(secret) = &self.secret {
            write!(
                f,
                "\nsecret:     {}\nThe secret is shown only now; only its hash is stored.",
                secret.expose()
            )?;
        }
        Ok(())
    }
}

/// What a `sigil environments` command printed.
#[derive(Debug, Clone)]
pub enum EnvironmentsOutput {
    /// One environment.
    One(EnvironmentOutput),
    /// Several.
    Many(Vec<EnvironmentOutput>),
    /// The id of the environment deleted.
    Deleted(String),
}

impl EnvironmentsOutput {
    /// The output as text for people, or as JSON.
    pub fn render(&self, json: bool) -> anyhow::Result<String> {
        if json {
            let value = match self {
                Self::One(one) => serde_json::to_value(one)?,
                Self::Many(many) => serde_json::to_value(many)?,
                Self::Deleted(id) => serde_json::json!({"id": id, "deleted": true}),
            };
            return Ok(serde_json::to_string_pretty(&value)?);
        }
        Ok(match self {
            Self::One(one) => one.to_string(),
            Self::Many(many) => many
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n\n"),
            Self::Deleted(id) => format!("deleted environment {id} and everything in it"),
        })
    }
}

/// `sigil environments ...`: the same service functions as the administration RPC, on the
/// configured database.
pub async fn environments(
    config: &Config,
    command: &EnvironmentsCommand,
) -> anyhow::Result<EnvironmentsOutput> {
    let (services, db) = services(config).await?;
    let environments = &services.environments;
    let output = match command.clone() {
        EnvironmentsCommand::Create {
            name,
            host,
            client_id,
        } => {
            let (created, secret) = environments
                .create(CreateEnvironment {
                    name,
                    host: host.unwrap_or_default(),
                    client_id: client_id.unwrap_or_default(),
                })
                .await?;
            EnvironmentsOutput::One(EnvironmentOutput::new(created, Some(secret)))
        }
        EnvironmentsCommand::List => EnvironmentsOutput::Many(
            environments
                .list()
                .await?
                .into_iter()
                .map(|e| EnvironmentOutput::new(e, None))
                .collect(),
        ),
        EnvironmentsCommand::Get { id } => {
            EnvironmentsOutput::One(EnvironmentOutput::new(environments.describe(&id).await?, None))
        }
        EnvironmentsCommand::Update { id, name, host } => EnvironmentsOutput::One(EnvironmentOutput::new(
            environments.update(&id, UpdateEnvironment { name, host }).await?,
            None,
        )),
        EnvironmentsCommand::RotateSecret { id } => {
            let (rotated, secret) = environments.rotate_secret(&id).await?;
            EnvironmentsOutput::One(EnvironmentOutput::new(rotated, Some(secret)))
        }
        EnvironmentsCommand::Delete { id } => {
            environments.delete(&id).await?;
            EnvironmentsOutput::Deleted(id)
        }
    };
    db.close().await.ok();
    Ok(output)
}
