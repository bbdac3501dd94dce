//! The key ring: RS256 signing keys per environment, kept in the database and cached in memory.
//!
//! Each environment has one key that signs. After the rotation period a new key takes over and the
//! old one keeps verifying for one more period, so tokens it signed stay valid to their expiry
//! (token lifetimes are shorter than the period). Keys are loaded at start, reloaded periodically
//! and whenever a token names a key this replica has not seen, so keys made by another replica
//! are picked up. With a master key configured, private keys are sealed at rest (AES-256-GCM).

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use aws_lc_rs::{
    aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey},
    encoding::AsDer,
    rand::SystemRandom,
    rsa::{KeyPair, KeySize, PublicKeyComponents},
    signature::{KeyPair as _, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair},
};
use base64::{Engine, engine::general_purpose::STANDARD, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, SubsecRound, Utc};
use jsonwebtoken::Algorithm;
use sea_orm::DatabaseConnection;
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    domain::{Clock, Error, error::AuthFailure, error::Result, secret::Secret},
    store::{
        self,
        keys::{self, SigningKeyRow},
    },
};

/// Shortest time between two reloads triggered by unknown key ids, so forged tokens cannot turn
/// into a flood of database reads.
const RELOAD_INTERVAL: Duration = Duration::from_secs(5);

/// The registered claims every verified token must carry: checked against this issuer, the
/// expected audience and the injected clock.
pub trait Registered {
    /// Expiry, in seconds since the Unix epoch.
    fn exp(&self) -> i64;
    /// Issuer.
    fn iss(&self) -> &str;
    /// Audience.
    fn aud(&self) -> &str;
}

/// A verified token's claims and the environment whose key signed it.
#[derive(Debug, Clone)]
pub struct Verified<T> {
    /// The environment that owns the signing key.
    pub environment_id: String,
    /// The token's claims.
    pub claims: T,
}

/// Whom a verified token must be addressed to.
#[derive(Debug, Clone, Copy)]
pub enum Audience<'a> {
    /// This fixed audience.
    Fixed(&'a str),
    /// The id of the environment whose key signed it.
    SigningEnvironment,
}

/// One public key in JSON Web Key form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jwk {
    /// Key id.
    pub kid: String,
    /// RSA modulus, base64url.
    pub n: String,
    /// RSA public exponent, base64url.
    pub e: String,
}

/// The key that seals private keys at rest: 32 bytes, given base64-encoded.
#[derive(Clone)]
pub struct MasterKey(Arc<LessSafeKey>);

impl MasterKey {
    /// Parses a base64-encoded 32-byte key.
    pub fn parse(encoded: &Secret) -> anyhow::Result<Self> {
        let bytes = STANDARD
            .decode(encoded.expose().trim())
            .map_err(|_| anyhow::anyhow!("SIGIL_MASTER_KEY must be base64"))?;
        anyhow::ensure!(bytes.len() == 32, "SIGIL_MASTER_KEY must encode exactly 32 bytes");
        let key =
            UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| anyhow::anyhow!("unusable master key"))?;
        Ok(Self(Arc::new(LessSafeKey::new(key))))
    }

    /// Encrypts `plain`, bound to `kid`: base64 of nonce, ciphertext and tag.
    fn seal(&self, kid: &str, plain: &[u8]) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| Error::internal(anyhow::anyhow!("no randomness")))?;
        let mut sealed = plain.to_vec();
        self.0
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(kid), &mut sealed)
            .map_err(|_| Error::internal(anyhow::anyhow!("sealing a key failed")))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(STANDARD.encode(out))
    }

    /// Decrypts what [`MasterKey::seal`] made for `kid`.
    fn open(&self, kid: &str, sealed: &str) -> Result<Vec<u8>> {
        let bytes = STANDARD.decode(sealed).map_err(Error::internal)?;
        if bytes.len() < NONCE_LEN {
            return Err(Error::internal(anyhow::anyhow!("sealed key {kid} is truncated")));
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| Error::internal(anyhow::anyhow!("bad nonce")))?;
        let mut buffer = sealed.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(kid), &mut buffer)
            .map_err(|_| {
                Error::internal(anyhow::anyhow!(
                    "signing key {kid} does not open with SIGIL_MASTER_KEY (a different master key?)"
                ))
            })?;
        Ok(plain.to_vec())
    }
}

struct Signer {
    kid: String,
    /// Header of every token this key signs, already base64url-encoded.
    header: String,
    pair: RsaKeyPair,
    created_at: DateTime<Utc>,
}

struct Verifier {
    environment_id: String,
    /// Parsed once: verifying then skips the key set-up, a third of the cost of a verification.
    key: ParsedPublicKey,
    /// The key as an X.509 SubjectPublicKeyInfo, DER-encoded.
    spki: Vec<u8>,
    jwk: Jwk,
    created_at: DateTime<Utc>,
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
    master: Option<MasterKey>,
    state: RwLock<Arc<State>>,
    last_reload: tokio::sync::Mutex<Option<Instant>>,
}

impl KeyRing {
    /// Loads every live key; with a master key, first seals keys still stored in the clear.
    pub async fn load(
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        issuer: String,
        rotation: Duration,
        master: Option<MasterKey>,
    ) -> Result<Self> {
        let ring = Self {
            db,
            clock,
            issuer,
            rotation,
            master,
            state: RwLock::new(Arc::default()),
            last_reload: tokio::sync::Mutex::new(None),
        };
        if let Some(master) = &ring.master {
            for row in keys::all(&ring.db).await? {
                if !row.encrypted {
                    let plain = STANDARD.decode(&row.private_key).map_err(Error::internal)?;
                    keys::seal(&ring.db, &row.kid, &master.seal(&row.kid, &plain)?).await?;
                    tracing::info!(kid = %row.kid, "sealed a signing key with the master key");
                }
            }
        }
        ring.reload().await?;
        Ok(ring)
    }

    /// The issuer (`iss`) of every token.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(6)
    }

    fn snapshot(&self) -> Arc<State> {
        // A poisoned lock only means a panic elsewhere while swapping an Arc; the Arc is intact.
        self.state.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Re-reads the keys from the database.
    pub async fn reload(&self) -> Result<()> {
        let rows = keys::live(&self.db, self.now()).await?;
        let mut state = State::default();
        // Rows come newest first: the first unretired key of an environment signs.
        for row in rows {
            let (key, spki) = parse_public_key(&row)?;
            let verifier = Verifier {
                environment_id: row.environment_id.clone(),
                key,
                spki,
                jwk: Jwk {
                    kid: row.kid.clone(),
                    n: row.public_n.clone(),
                    e: row.public_e.clone(),
                },
                created_at: row.created_at,
                expires_at: row.expires_at,
            };
            if row.retired_at.is_none() && !state.signers.contains_key(&row.environment_id) {
                let pkcs8 = self.private_key(&row)?;
                let pair = RsaKeyPair::from_pkcs8(&pkcs8)
                    .map_err(|e| Error::internal(anyhow::anyhow!("signing key {}: {e}", row.kid)))?;
                let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": row.kid});
                let signer = Signer {
                    kid: row.kid.clone(),
                    header: URL_SAFE_NO_PAD.encode(header.to_string()),
                    pair,
                    created_at: row.created_at,
                };
                state.signers.insert(row.environment_id.clone(), Arc::new(signer));
            }
            state.verifiers.insert(row.kid, Arc::new(verifier));
        }
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(state);
        Ok(())
    }

    fn private_key(&self, row: &SigningKeyRow) -> Result<Vec<u8>> {
        match (&self.master, row.encrypted) {
            (_, false) => STANDARD.decode(&row.private_key).map_err(Error::internal),
            (Some(master), true) => master.open(&row.kid, &row.private_key),
            (None, true) => Err(Error::internal(anyhow::anyhow!(
                "signing key {} is sealed and SIGIL_MASTER_KEY is not set",
                row.kid
            ))),
        }
    }

    /// Makes sure `environment_id` has a key that may still sign, generating one when it has none
    /// or its key is due for rotation. Replicas doing this at once take turns on a lock, and one
    /// that finds a fresh key made meanwhile by another keeps that one instead of adding its own.
    pub async fn ensure_current(&self, environment_id: &str) -> Result<()> {
        let now = self.now();
        let due = |created_at: DateTime<Utc>| created_at + self.rotation <= now;
        let due_here = match self.snapshot().signers.get(environment_id) {
            Some(signer) => due(signer.created_at),
            None => true,
        };
        if !due_here {
            return Ok(());
        }
        // Generating takes a while: done before taking the lock, and wasted only in a race.
        let generated = tokio::task::spawn_blocking(generate)
            .await
            .map_err(Error::internal)??;
        let rotation = chrono::Duration::from_std(self.rotation).map_err(Error::internal)?;
        let kid = uuid::Uuid::new_v4().to_string();
        let (private_key, encrypted) = match &self.master {
            Some(master) => (master.seal(&kid, &generated.pkcs8)?, true),
            None => (STANDARD.encode(&generated.pkcs8), false),
        };
        let txn = store::begin(&self.db).await?;
        store::serialize(&txn, store::Lock::SigningKeys).await?;
        let made_meanwhile = keys::current(&txn, environment_id, now)
            .await?
            .is_some_and(|key| !due(key.created_at));
        if !made_meanwhile {
            keys::insert(
                &txn,
                SigningKeyRow {
                    kid,
                    environment_id: environment_id.to_owned(),
                    algorithm: "RS256".into(),
                    private_key,
                    encrypted,
                    public_n: generated.n,
                    public_e: generated.e,
                    created_at: now,
                    retired_at: None,
                    // Signs for one period, then verifies for one more.
                    expires_at: now + rotation * 2,
                },
            )
            .await?;
            keys::retire_older(&txn, environment_id, now).await?;
        }
        txn.commit().await?;
        if !made_meanwhile {
            tracing::info!(environment_id, "generated a new signing key");
        }
        self.reload().await
    }

    /// Signs `claims` with the environment's current key, as a compact JWS (RS256).
    pub fn sign<T: Serialize>(&self, environment_id: &str, claims: &T) -> Result<String> {
        let state = self.snapshot();
        let signer = state.signers.get(environment_id).ok_or_else(|| {
            Error::internal(anyhow::anyhow!("environment {environment_id} has no signing key"))
        })?;
        let payload = serde_json::to_vec(claims).map_err(Error::internal)?;
        let mut token = String::with_capacity(signer.header.len() + payload.len() * 4 / 3 + 350);
        token.push_str(&signer.header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut token);
        let mut signature = vec![0; signer.pair.public_modulus_len()];
        signer
            .pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                token.as_bytes(),
                &mut signature,
            )
            .map_err(|_| Error::internal(anyhow::anyhow!("signing with key {} failed", signer.kid)))?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        Ok(token)
    }

    /// The public keys that verify the environment's tokens, the signing key first.
    pub fn jwks(&self, environment_id: &str) -> Vec<Jwk> {
        let state = self.snapshot();
        let signing = state.signers.get(environment_id).map(|s| s.kid.clone());
        let mut keys: Vec<&Arc<Verifier>> = state
            .verifiers
            .values()
            .filter(|v| v.environment_id == environment_id)
            .collect();
        keys.sort_by_key(|v| {
            (
                Some(&v.jwk.kid) != signing.as_ref(),
                std::cmp::Reverse(v.created_at),
            )
        });
        keys.into_iter().map(|v| v.jwk.clone()).collect()
    }

    /// The PEM (`PUBLIC KEY`, X.509 SubjectPublicKeyInfo) of the key that signs the environment's
    /// tokens now, for verifiers that take one static key rather than a JWKS.
    pub fn signing_key_pem(&self, environment_id: &str) -> Option<String> {
        let state = self.snapshot();
        let signer = state.signers.get(environment_id)?;
        state
            .verifiers
            .get(&signer.kid)
            .map(|v| pem("PUBLIC KEY", &v.spki))
    }

    /// Verifies a token's RS256 signature with the key its header names, then its issuer,
    /// audience, and expiry (against the clock). jsonwebtoken parses; aws-lc checks the signature
    /// with the key parsed at load.
    pub async fn verify<T: DeserializeOwned + Registered>(
        &self,
        token: &str,
        audience: Audience<'_>,
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
        let now = self.clock.now();
        if verifier.expires_at <= now {
            return Err(AuthFailure::InvalidToken);
        }
        let (message, signature) = token.rsplit_once('.').ok_or(AuthFailure::InvalidToken)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| AuthFailure::InvalidToken)?;
        verifier
            .key
            .verify_sig(message.as_bytes(), &signature)
            .map_err(|_| AuthFailure::InvalidToken)?;
        // The signature covers header and claims: they can be read now.
        let claims = jsonwebtoken::dangerous::insecure_decode::<T>(token)
            .map_err(|_| AuthFailure::InvalidToken)?
            .claims;
        let audience = match audience {
            Audience::Fixed(audience) => audience,
            Audience::SigningEnvironment => verifier.environment_id.as_str(),
        };
        if claims.iss() != self.issuer || claims.aud() != audience {
            return Err(AuthFailure::InvalidToken);
        }
        if claims.exp() <= now.timestamp() {
            return Err(AuthFailure::ExpiredToken);
        }
        Ok(Verified {
            environment_id: verifier.environment_id.clone(),
            claims,
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

/// `der` in PEM armour (RFC 7468): base64 in lines of 64 characters between labelled lines.
fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        // Base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The RS256 verification key of a stored key, from its JWK components, parsed and as
/// SubjectPublicKeyInfo DER.
fn parse_public_key(row: &SigningKeyRow) -> Result<(ParsedPublicKey, Vec<u8>)> {
    let n = URL_SAFE_NO_PAD.decode(&row.public_n).map_err(Error::internal)?;
    let e = URL_SAFE_NO_PAD.decode(&row.public_e).map_err(Error::internal)?;
    let der = PublicKeyComponents {
        n: n.as_slice(),
        e: e.as_slice(),
    }
    .as_der()
    .map_err(|e| Error::internal(anyhow::anyhow!("public key {}: {e}", row.kid)))?;
    let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der.as_ref())
        .map_err(|e| Error::internal(anyhow::anyhow!("public key {}: {e}", row.kid)))?;
    Ok((key, der.as_ref().to_vec()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_their_master_key_and_kid() {
        let master = MasterKey::parse(&Secret::new(STANDARD.encode([7u8; 32]))).unwrap();
        let other = MasterKey::parse(&Secret::new(STANDARD.encode([8u8; 32]))).unwrap();
        let sealed = master.seal("kid-1", b"private key bytes").unwrap();
        assert!(!sealed.contains("private"));
        assert_eq!(master.open("kid-1", &sealed).unwrap(), b"private key bytes");
        assert!(master.open("kid-2", &sealed).is_err(), "bound to its kid");
        assert!(other.open("kid-1", &sealed).is_err());
    }

    #[test]
    fn pem_wraps_base64_at_64_columns_between_labels() {
        let der = [0x30u8; 100];
        let text = pem("PUBLIC KEY", &der);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.first(), Some(&"-----BEGIN PUBLIC KEY-----"));
        assert_eq!(lines.last(), Some(&"-----END PUBLIC KEY-----"));
        let body = &lines[1..lines.len() - 1];
        assert!(body[..body.len() - 1].iter().all(|l| l.len() == 64));
        assert_eq!(STANDARD.decode(body.concat()).unwrap(), der);
    }

    #[test]
    fn master_keys_must_be_32_bytes_of_base64() {
        assert!(MasterKey::parse(&Secret::new("not base64!")).is_err());
        assert!(MasterKey::parse(&Secret::new(STANDARD.encode([1u8; 16]))).is_err());
    }
}
