//! The key ring: RS256 signing keys per environment, kept in the database and cached in memory.
//!
//! Each environment has one key that signs. After the rotation period a new key takes over and the
//! old one keeps verifying for one more period, so tokens it signed stay valid to their expiry
//! (token lifetimes are shorter than the period). Keys are loaded at start and reloaded when a
//! token names a key this replica has not seen, so keys made by another replica are picked up.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use aws_lc_rs::{
    encoding::AsDer,
    rsa::{KeyPair, KeySize},
    signature::KeyPair as _,
};
use base64::{Engine, engine::general_purpose::STANDARD, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, SubsecRound, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use sea_orm::DatabaseConnection;
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    domain::{Clock, Error, error::AuthFailure, error::Result},
    store::keys::{self, SigningKeyRow},
};

/// Shortest time between two reloads triggered by unknown key ids, so forged tokens cannot turn
/// into a flood of database reads.
const RELOAD_INTERVAL: Duration = Duration::from_secs(5);

/// Claims every verified token must carry so its expiry can be checked against the injected clock.
pub trait Expiring {
    /// Expiry, in seconds since the Unix epoch.
    fn exp(&self) -> i64;
}

/// A verified token's claims and the environment whose key signed it.
#[derive(Debug, Clone)]
pub struct Verified<T> {
    /// The environment that owns the signing key.
    pub environment_id: String,
    /// The token's claims.
    pub claims: T,
}

struct Signer {
    kid: String,
    key: EncodingKey,
    created_at: DateTime<Utc>,
}

struct Verifier {
    environment_id: String,
    key: DecodingKey,
    expires_at: DateTime<Utc>,
}

#[derive(Default)]
struct State {
    signers: HashMap<String, Arc<Signer>>,
    verifiers: HashMap<String, Arc<Verifier>>,
}

/// Signing and verification keys of every environment.
pub struct KeyRing {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    issuer: String,
    rotation: Duration,
    state: RwLock<Arc<State>>,
    last_reload: tokio::sync::Mutex<Option<Instant>>,
}

impl KeyRing {
    /// Loads every live key.
    pub async fn load(
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        issuer: String,
        rotation: Duration,
    ) -> Result<Self> {
        let ring = Self {
            db,
            clock,
            issuer,
            rotation,
            state: RwLock::new(Arc::default()),
            last_reload: tokio::sync::Mutex::new(None),
        };
        ring.reload().await?;
        Ok(ring)
    }

    /// The issuer (`iss`) of every token.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    fn snapshot(&self) -> Arc<State> {
        // A poisoned lock only means a panic elsewhere while swapping an Arc; the Arc is intact.
        self.state.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Re-reads the keys from the database.
    pub async fn reload(&self) -> Result<()> {
        let now = self.clock.now().trunc_subsecs(6);
        let rows = keys::live(&self.db, now).await?;
        let mut state = State::default();
        // Rows come newest first: the first unretired key of an environment signs.
        for row in rows {
            let verifier = Verifier {
                environment_id: row.environment_id.clone(),
                key: DecodingKey::from_rsa_components(&row.public_n, &row.public_e)
                    .map_err(Error::internal)?,
                expires_at: row.expires_at,
            };
            if row.retired_at.is_none() && !state.signers.contains_key(&row.environment_id) {
                let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", decode_private_key(&row)?));
                let signer = Signer {
                    kid: row.kid.clone(),
                    key: EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(Error::internal)?,
                    created_at: row.created_at,
                };
                state.signers.insert(row.environment_id.clone(), Arc::new(signer));
            }
            state.verifiers.insert(row.kid, Arc::new(verifier));
        }
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(state);
        Ok(())
    }

    /// Makes sure `environment_id` has a key that may still sign, generating one when it has none
    /// or its key is due for rotation.
    pub async fn ensure_current(&self, environment_id: &str) -> Result<()> {
        let now = self.clock.now().trunc_subsecs(6);
        let due = match self.snapshot().signers.get(environment_id) {
            Some(signer) => signer.created_at + self.rotation <= now,
            None => true,
        };
        if !due {
            return Ok(());
        }
        let generated = tokio::task::spawn_blocking(generate)
            .await
            .map_err(Error::internal)??;
        let rotation = chrono::Duration::from_std(self.rotation).map_err(Error::internal)?;
        keys::insert(
            &self.db,
            SigningKeyRow {
                kid: uuid::Uuid::new_v4().to_string(),
                environment_id: environment_id.to_owned(),
                algorithm: "RS256".into(),
                private_key: STANDARD.encode(&generated.pkcs8),
                encrypted: false,
                public_n: generated.n,
                public_e: generated.e,
                created_at: now,
                retired_at: None,
                // Signs for one period, then verifies for one more.
                expires_at: now + rotation * 2,
            },
        )
        .await?;
        tracing::info!(environment_id, "generated a new signing key");
        self.reload().await
    }

    /// Signs `claims` with the environment's current key.
    pub fn sign<T: Serialize>(&self, environment_id: &str, claims: &T) -> Result<String> {
        let state = self.snapshot();
        let signer = state.signers.get(environment_id).ok_or_else(|| {
            Error::internal(anyhow::anyhow!("environment {environment_id} has no signing key"))
        })?;
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(signer.kid.clone());
        jsonwebtoken::encode(&header, claims, &signer.key).map_err(Error::internal)
    }

    /// Verifies a token's signature, issuer and audience with the key its header names, and its
    /// expiry against the clock.
    pub async fn verify<T: DeserializeOwned + Expiring>(
        &self,
        token: &str,
        audience: &str,
    ) -> Result<Verified<T>, AuthFailure> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthFailure::InvalidToken)?;
        if header.alg != Algorithm::RS256 {
            return Err(AuthFailure::InvalidToken);
        }
        let kid = header.kid.ok_or(AuthFailure::InvalidToken)?;
        let verifier = match self.snapshot().verifiers.get(&kid) {
            Some(verifier) => verifier.clone(),
            None => self.reload_for(&kid).await.ok_or(AuthFailure::InvalidToken)?,
        };
        let now = self.clock.now().trunc_subsecs(6);
        if verifier.expires_at <= now {
            return Err(AuthFailure::InvalidToken);
        }
        let mut validation = Validation::new(Algorithm::RS256);
        // Expiry is checked below against the injected clock, not the system time.
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp", "iss", "aud", "sub"]
            .into_iter()
            .map(String::from)
            .collect();
        validation.iss = Some(HashSet::from([self.issuer.clone()]));
        validation.aud = Some(HashSet::from([audience.to_owned()]));
        let data =
            jsonwebtoken::decode::<T>(token, &verifier.key, &validation).map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthFailure::ExpiredToken,
                _ => AuthFailure::InvalidToken,
            })?;
        if data.claims.exp() <= now.timestamp() {
            return Err(AuthFailure::ExpiredToken);
        }
        Ok(Verified {
            environment_id: verifier.environment_id.clone(),
            claims: data.claims,
        })
    }

    async fn reload_for(&self, kid: &str) -> Option<Arc<Verifier>> {
        let mut last = self.last_reload.lock().await;
        if last.is_some_and(|at| at.elapsed() < RELOAD_INTERVAL) {
            return None;
        }
        *last = Some(Instant::now());
        if let Err(error) = self.reload().await {
            tracing::warn!(error = %error, "reloading signing keys failed");
            return None;
        }
        self.snapshot().verifiers.get(kid).cloned()
    }
}

fn decode_private_key(row: &SigningKeyRow) -> Result<Vec<u8>> {
    if row.encrypted {
        return Err(Error::internal(anyhow::anyhow!(
            "signing key {} is encrypted and no master key is configured",
            row.kid
        )));
    }
    STANDARD.decode(&row.private_key).map_err(Error::internal)
}

struct GeneratedKey {
    pkcs8: Vec<u8>,
    n: String,
    e: String,
}

fn generate() -> Result<GeneratedKey> {
    let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|e| Error::internal(anyhow::anyhow!("{e}")))?;
    let pkcs8 = pair
        .as_der()
        .map_err(|e| Error::internal(anyhow::anyhow!("{e}")))?
        .as_ref()
        .to_vec();
    let public = pair.public_key();
    Ok(GeneratedKey {
        pkcs8,
        n: URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
        e: URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
    })
}
