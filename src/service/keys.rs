//! The key ring: RS256 signing keys per environment, kept in the database and cached in memory.
//!
//! Each environment has one key that signs. A key signs until a newer one replaces it: by hand
//! (`sigil keys rotate`), or, when automatic rotation is configured, once it is a period old.
//! The key replaced keeps verifying until every token it signed has expired. Keys are loaded at
//! start, reloaded periodically and whenever a token names a key this replica has not seen, so
//! keys made by another replica (or by `sigil keys rotate`) are picked up. With a master key
//! configured, private keys are sealed at rest (AES-256-GCM), and each key records which master
//! key sealed it, so the master key can be changed (`sigil keys reseal`).

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

use sha2::{Digest, Sha256};

use crate::{
    domain::{Clock, Error, environment::Environment, error::AuthFailure, error::Result, secret::Secret},
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
pub struct MasterKey {
    key: Arc<LessSafeKey>,
    id: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

impl MasterKey {
    /// Parses a base64-encoded 32-byte key.
    pub fn parse(encoded: &Secret) -> anyhow::Result<Self> {
        let bytes = STANDARD
            .decode(encoded.expose().trim())
            .map_err(|_| anyhow::anyhow!("a master key must be base64"))?;
        anyhow::ensure!(bytes.len() == 32, "a master key must encode exactly 32 bytes");
        let key =
            UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| anyhow::anyhow!("unusable master key"))?;
        // A one-way, domain-separated digest of a random 256-bit key reveals nothing of it.
        let digest = Sha256::new()
            .chain_update(b"sigil master key id\0")
            .chain_update(&bytes)
            .finalize();
        let id = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self {
            key: Arc::new(LessSafeKey::new(key)),
            id,
        })
    }

    /// The key's id, recorded beside each key it seals: the first 8 bytes of a SHA-256 digest of
    /// it, in hex.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Encrypts `plain`, bound to `kid`: base64 of nonce, ciphertext and tag.
    pub(crate) fn seal(&self, kid: &str, plain: &[u8]) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| Error::internal(anyhow::anyhow!("no randomness")))?;
        let mut sealed = plain.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(kid), &mut sealed)
            .map_err(|_| Error::internal(anyhow::anyhow!("sealing a key failed")))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(STANDARD.encode(out))
    }

    /// Decrypts what [`MasterKey::seal`] made for `kid`; `None` when it does not open with this
    /// key.
    pub(crate) fn open(&self, kid: &str, sealed: &str) -> Option<Vec<u8>> {
        let bytes = STANDARD.decode(sealed).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buffer = sealed.to_vec();
        let plain = self.key.open_in_place(nonce, Aad::from(kid), &mut buffer).ok()?;
        Some(plain.to_vec())
    }
}

/// The master keys a process was given: the current one seals, and both open.
#[derive(Debug, Clone, Default)]
pub struct MasterKeys {
    /// `SIGIL_MASTER_KEY`: seals every key sigil writes.
    pub current: Option<MasterKey>,
    /// `SIGIL_MASTER_KEY_PREVIOUS`: still opens keys it sealed, while the master key changes.
    pub previous: Option<MasterKey>,
}

impl MasterKeys {
    /// Parses the configured keys.
    pub fn parse(current: Option<&Secret>, previous: Option<&Secret>) -> anyhow::Result<Self> {
        let parse = |key: Option<&Secret>, name: &str| {
            key.map(MasterKey::parse)
                .transpose()
                .map_err(|error| anyhow::anyhow!("{name}: {error}"))
        };
        Ok(Self {
            current: parse(current, "SIGIL_MASTER_KEY")?,
            previous: parse(previous, "SIGIL_MASTER_KEY_PREVIOUS")?,
        })
    }

    /// The private key of `row`, opened with the master key that sealed it. The error names the
    /// master key needed and the ones configured.
    pub(crate) fn open(
        &self,
        row: &SigningKeyRow,
    ) -> std::result::Result<(Vec<u8>, Option<&MasterKey>), String> {
        if !row.encrypted {
            let plain = STANDARD
                .decode(&row.private_key)
                .map_err(|_| format!("signing key {} is not valid base64", row.kid))?;
            return Ok((plain, None));
        }
        let candidates = [self.current.as_ref(), self.previous.as_ref()];
        let candidates = candidates.into_iter().flatten().filter(|master| {
            row.sealed_by
                .as_deref()
                .is_none_or(|sealed_by| sealed_by == master.id())
        });
        for master in candidates {
            if let Some(plain) = master.open(&row.kid, &row.private_key) {
                return Ok((plain, Some(master)));
            }
        }
        let configured =
            |key: &Option<MasterKey>| key.as_ref().map_or("unset".to_owned(), |k| k.id().to_owned());
        let sealer = row
            .sealed_by
            .as_deref()
            .map_or("a master key whose id was not recorded".to_owned(), |id| {
                format!("master key {id}")
            });
        Err(format!(
            "signing key {} is sealed by {sealer}, which neither SIGIL_MASTER_KEY ({}) nor \
             SIGIL_MASTER_KEY_PREVIOUS ({}) opens; give the master key that sealed it (to change \
             master keys, see `sigil keys reseal`)",
            row.kid,
            configured(&self.current),
            configured(&self.previous),
        ))
    }
}

/// How the key ring makes and retires keys.
#[derive(Debug, Clone)]
pub struct KeySettings {
    /// The issuer (`iss`) of every token.
    pub issuer: String,
    /// How long a key signs before a new one replaces it by itself; `None`: only by hand.
    pub rotation: Option<Duration>,
    /// The lifetime of environment tokens, which the keys sign too.
    pub environment_token_ttl: Duration,
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
    settings: KeySettings,
    masters: MasterKeys,
    state: RwLock<Arc<State>>,
    last_reload: tokio::sync::Mutex<Option<Instant>>,
}

impl KeyRing {
    /// Loads every live key. With a master key, first seals keys stored in the clear and records
    /// the sealer of keys sealed before sealers were recorded; without one, warns that keys are
    /// stored unsealed.
    pub async fn load(
        db: DatabaseConnection,
        clock: Arc<dyn Clock>,
        settings: KeySettings,
        masters: MasterKeys,
    ) -> Result<Self> {
        let ring = Self {
            db,
            clock,
            settings,
            masters,
            state: RwLock::new(Arc::default()),
            last_reload: tokio::sync::Mutex::new(None),
        };
        match &ring.masters.current {
            Some(master) => {
                for row in keys::all(&ring.db).await? {
                    if !row.encrypted {
                        let plain = STANDARD.decode(&row.private_key).map_err(Error::internal)?;
                        keys::seal(&ring.db, &row.kid, &master.seal(&row.kid, &plain)?, master.id()).await?;
                        tracing::info!(kid = %row.kid, "sealed a signing key with the master key");
                    } else if row.sealed_by.is_none()
                        && let Ok((_, Some(sealer))) = ring.masters.open(&row)
                    {
                        keys::record_sealer(&ring.db, &row.kid, sealer.id()).await?;
                    }
                }
            }
            None => tracing::warn!(
                "SIGIL_MASTER_KEY is not set: private signing keys are stored unsealed in the database, \
                 where anyone who reads it (or a backup) can forge tokens; see docs/operations.md, Key material"
            ),
        }
        ring.reload().await?;
        Ok(ring)
    }

    /// The issuer (`iss`) of every token.
    pub fn issuer(&self) -> &str {
        &self.settings.issuer
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
        self.masters
            .open(row)
            .map(|(plain, _)| plain)
            .map_err(|message| Error::internal(anyhow::anyhow!(message)))
    }

    /// Makes sure the environment has a key that may still sign: generates one when it has none,
    /// or, with automatic rotation, when its key is a period old. Replicas doing this at once
    /// take turns on a lock, and one that finds a fresh key made meanwhile by another keeps that
    /// one instead of adding its own.
    pub async fn ensure_current(&self, environment: &Environment) -> Result<()> {
        let now = self.now();
        let due_here = match self.snapshot().signers.get(&environment.id) {
            Some(signer) => self.due(signer.created_at, now),
            None => true,
        };
        if due_here {
            self.replace(environment, false).await?;
        }
        Ok(())
    }

    /// Whether this replica knows a key that signs the environment's tokens: not yet, for an
    /// environment another process created a moment ago.
    pub fn has_signer(&self, environment_id: &str) -> bool {
        self.snapshot().signers.contains_key(environment_id)
    }

    /// Makes a new key that signs the environment's tokens from now on, whatever the age of the
    /// current one, and returns its id. The keys it replaces keep verifying until every token
    /// they signed has expired.
    pub async fn rotate(&self, environment: &Environment) -> Result<String> {
        self.replace(environment, true).await
    }

    /// Whether a key made at `created_at` is due for automatic rotation at `now`.
    fn due(&self, created_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        self.settings.rotation.is_some_and(|period| {
            chrono::Duration::from_std(period)
                .ok()
                .and_then(|period| created_at.checked_add_signed(period))
                .is_some_and(|due| due <= now)
        })
    }

    /// How long a key keeps verifying once replaced: past the life of any token it signed (and,
    /// with automatic rotation, one whole period, as before).
    fn retention(&self, environment: &Environment) -> chrono::Duration {
        let access = chrono::Duration::seconds(environment.settings.access_token_ttl_secs);
        let std = |d: Duration| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        let mut keep = access.max(std(self.settings.environment_token_ttl));
        if let Some(period) = self.settings.rotation {
            keep = keep.max(std(period));
        }
        keep
    }

    /// Adds a new signing key for the environment and retires the others; unless `force`, only
    /// if no other replica did so meanwhile. Returns the id of the key that signs.
    async fn replace(&self, environment: &Environment, force: bool) -> Result<String> {
        let now = self.now();
        // Generating takes a while: done before taking the lock, and wasted only in a race.
        let generated = tokio::task::spawn_blocking(generate)
            .await
            .map_err(Error::internal)??;
        let kid = uuid::Uuid::new_v4().to_string();
        let (private_key, encrypted, sealed_by) = match &self.masters.current {
            Some(master) => (
                master.seal(&kid, &generated.pkcs8)?,
                true,
                Some(master.id().to_owned()),
            ),
            None => (STANDARD.encode(&generated.pkcs8), false, None),
        };
        let verify_until = now
            .checked_add_signed(self.retention(environment))
            .unwrap_or_else(keys::never_expires)
            .min(keys::never_expires());
        let txn = store::begin(&self.db).await?;
        store::serialize(&txn, store::Lock::SigningKeys).await?;
        let made_meanwhile = match keys::current(&txn, &environment.id, now).await? {
            Some(key) if !force && !self.due(key.created_at, now) => Some(key.kid),
            _ => None,
        };
        let signing = match made_meanwhile {
            Some(kid) => kid,
            None => {
                keys::insert(
                    &txn,
                    SigningKeyRow {
                        kid: kid.clone(),
                        environment_id: environment.id.clone(),
                        algorithm: "RS256".into(),
                        private_key,
                        encrypted,
                        public_n: generated.n,
                        public_e: generated.e,
                        created_at: now,
                        retired_at: None,
                        // Signs until a newer key retires it.
                        expires_at: keys::never_expires(),
                        sealed_by,
                    },
                )
                .await?;
                keys::retire_others(&txn, &environment.id, &kid, now, verify_until).await?;
                tracing::info!(environment_id = %environment.id, %kid, "generated a new signing key");
                kid
            }
        };
        txn.commit().await?;
        self.reload().await?;
        Ok(signing)
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
        if claims.iss() != self.settings.issuer || claims.aud() != audience {
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
        assert!(master.open("kid-2", &sealed).is_none(), "bound to its kid");
        assert!(other.open("kid-1", &sealed).is_none());
    }

    #[test]
    fn a_master_key_id_is_short_stable_and_reveals_nothing_of_the_key() {
        let encoded = STANDARD.encode([7u8; 32]);
        let master = MasterKey::parse(&Secret::new(encoded.clone())).unwrap();
        assert_eq!(master.id().len(), 16);
        assert!(master.id().chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(
            master.id(),
            MasterKey::parse(&Secret::new(encoded.clone())).unwrap().id()
        );
        let other = MasterKey::parse(&Secret::new(STANDARD.encode([8u8; 32]))).unwrap();
        assert_ne!(master.id(), other.id());
        assert!(!format!("{master:?}").contains(&encoded));
    }

    fn row(kid: &str, private_key: String, sealed_by: Option<&str>) -> SigningKeyRow {
        SigningKeyRow {
            kid: kid.into(),
            environment_id: "env".into(),
            algorithm: "RS256".into(),
            private_key,
            encrypted: true,
            public_n: String::new(),
            public_e: String::new(),
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            retired_at: None,
            expires_at: DateTime::<Utc>::UNIX_EPOCH,
            sealed_by: sealed_by.map(str::to_owned),
        }
    }

    #[test]
    fn a_key_opens_with_the_master_key_that_sealed_it_current_or_previous() {
        let old = MasterKey::parse(&Secret::new(STANDARD.encode([1u8; 32]))).unwrap();
        let new = MasterKey::parse(&Secret::new(STANDARD.encode([2u8; 32]))).unwrap();
        let masters = MasterKeys {
            current: Some(new.clone()),
            previous: Some(old.clone()),
        };
        let by_old = row("a", old.seal("a", b"pkcs8").unwrap(), Some(old.id()));
        let (plain, sealer) = masters.open(&by_old).unwrap();
        assert_eq!(
            (plain.as_slice(), sealer.unwrap().id()),
            (&b"pkcs8"[..], old.id())
        );
        // Sealed before sealers were recorded: whichever opens it.
        let unrecorded = row("b", old.seal("b", b"pkcs8").unwrap(), None);
        assert_eq!(masters.open(&unrecorded).unwrap().1.unwrap().id(), old.id());

        let only_new = MasterKeys {
            current: Some(new.clone()),
            previous: None,
        };
        let error = only_new.open(&by_old).unwrap_err();
        assert!(error.contains(old.id()) && error.contains(new.id()), "{error}");
        assert!(error.contains("sigil keys reseal"), "{error}");
        assert!(MasterKeys::default().open(&by_old).is_err());
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
        let error = MasterKeys::parse(None, Some(&Secret::new("nope"))).unwrap_err();
        assert!(error.to_string().contains("SIGIL_MASTER_KEY_PREVIOUS"));
    }
}
