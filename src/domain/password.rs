//! Passwords: the policy a new password must meet, and argon2id hashing at OWASP's parameters.

use std::fmt;

use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::{
        PasswordHasher, PasswordVerifier,
        phc::{Output, ParamsString, PasswordHash, Salt},
    },
};
use subtle::ConstantTimeEq;

use super::error::FieldViolation;

/// Memory cost in KiB (OWASP: 19 MiB).
pub const M_COST: u32 = 19_456;
/// Iterations (OWASP: 2).
pub const T_COST: u32 = 2;
/// Lanes (OWASP: 1).
pub const P_COST: u32 = 1;

/// The rules a new password must meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordPolicy {
    /// Fewest characters.
    pub min_length: usize,
    /// Most characters.
    pub max_length: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 8,
            max_length: 128,
        }
    }
}

/// A password in clear text. Its `Debug` output never shows it.
#[derive(Clone)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    /// A password as typed, for checking against a stored hash.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// A new password, accepted only if it meets `policy`.
    pub fn parse_new(field: &str, value: &str, policy: &PasswordPolicy) -> Result<Self, FieldViolation> {
        let length = value.chars().count();
        if length < policy.min_length || length > policy.max_length {
            return Err(FieldViolation::new(
                field,
                format!(
                    "must be between {} and {} characters",
                    policy.min_length, policy.max_length
                ),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// The clear text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn argon2id() -> Argon2<'static> {
    // The constants are valid parameters; `Params::new` only refuses out-of-range values.
    let params = Params::new(M_COST, T_COST, P_COST, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes `password` with a fresh salt into a PHC string. CPU-heavy: run it off the async runtime.
pub fn hash(password: &Password) -> anyhow::Result<String> {
    argon2id()
        .hash_password(password.expose().as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))
}

/// Checks `password` against a PHC string in constant time. A malformed stored hash is an error,
/// not a mismatch. CPU-heavy: run it off the async runtime.
pub fn verify(password: &Password, phc: &str) -> anyhow::Result<bool> {
    let parsed = PasswordHash::new(phc).map_err(|e| anyhow::anyhow!("stored hash is malformed: {e}"))?;
    Ok(argon2id()
        .verify_password(password.expose().as_bytes(), &parsed)
        .is_ok())
}

/// Reusable working memory for argon2id (19 MiB at OWASP's parameters), so that a worker that
/// checks passwords one after another does not allocate and fault in fresh pages each time.
#[derive(Default)]
pub struct Workspace(Vec<Block>);

impl Workspace {
    /// Gives the memory back.
    pub fn release(&mut self) {
        self.0 = Vec::new();
    }

    /// Whether it holds memory.
    pub fn is_allocated(&self) -> bool {
        !self.0.is_empty()
    }

    fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.0.len() < count {
            self.0.resize(count, Block::default());
        }
        &mut self.0[..count]
    }
}

/// [`hash`], in `workspace`.
pub fn hash_in(password: &Password, workspace: &mut Workspace) -> anyhow::Result<String> {
    let argon2 = argon2id();
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| anyhow::anyhow!("no randomness for a salt"))?;
    let params = argon2.params().clone();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2
        .hash_password_into_with_memory(
            password.expose().as_bytes(),
            &salt,
            &mut out,
            workspace.blocks(params.block_count()),
        )
        .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("{e}"))?,
        salt: Some(Salt::new(&salt).map_err(|e| anyhow::anyhow!("{e}"))?),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("{e}"))?),
    };
    Ok(phc.to_string())
}

/// [`verify`], in `workspace`: recomputes the hash with the stored salt and parameters and
/// compares the outputs in constant time.
pub fn verify_in(password: &Password, phc: &str, workspace: &mut Workspace) -> anyhow::Result<bool> {
    let malformed = |e: &dyn std::fmt::Display| anyhow::anyhow!("stored hash is malformed: {e}");
    let parsed = PasswordHash::new(phc).map_err(|e| malformed(&e))?;
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).map_err(|e| malformed(&e))?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).map_err(|e| malformed(&e))?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).map_err(|e| malformed(&e))?;
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Err(anyhow::anyhow!("stored hash lacks a salt or an output"));
    };
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    argon2
        .hash_password_into_with_memory(
            password.expose().as_bytes(),
            salt,
            &mut out,
            workspace.blocks(blocks),
        )
        .map_err(|e| anyhow::anyhow!("verifying a password failed: {e}"))?;
    Ok(out.ct_eq(expected.as_bytes()).into())
}

/// A valid hash of a password nobody knows, checked when there is no real hash to check so that
/// a miss costs the same time as a hit.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let unguessable = super::secret::random_token();
        hash(&Password::new(unguessable)).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_bounds_the_length_in_characters() {
        let policy = PasswordPolicy::default();
        assert!(Password::parse_new("password", "short", &policy).is_err());
        assert!(Password::parse_new("password", "long enough", &policy).is_ok());
        assert!(Password::parse_new("password", "ééééééé", &policy).is_err());
        assert!(Password::parse_new("password", &"x".repeat(129), &policy).is_err());
    }

    #[test]
    fn hashes_verify_only_their_password() {
        let hashed = hash(&Password::new("correct horse")).unwrap();
        assert!(hashed.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify(&Password::new("correct horse"), &hashed).unwrap());
        assert!(!verify(&Password::new("wrong horse"), &hashed).unwrap());
        assert!(verify(&Password::new("x"), "not a hash").is_err());
    }

    #[test]
    fn workspace_hashing_agrees_with_the_crate() {
        let mut workspace = Workspace::default();
        let ours = hash_in(&Password::new("correct horse"), &mut workspace).unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify(&Password::new("correct horse"), &ours).unwrap());
        let theirs = hash(&Password::new("correct horse")).unwrap();
        assert!(verify_in(&Password::new("correct horse"), &theirs, &mut workspace).unwrap());
        assert!(!verify_in(&Password::new("wrong horse"), &theirs, &mut workspace).unwrap());
        assert!(verify_in(&Password::new("x"), "$argon2id$garbage", &mut workspace).is_err());
        assert!(workspace.is_allocated());
        workspace.release();
        assert!(!workspace.is_allocated());
    }

    #[test]
    fn debug_output_hides_the_password() {
        assert_eq!(format!("{:?}", Password::new("hunter2")), "Password(***)");
    }
}
