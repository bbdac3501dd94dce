//! Rate limits in front of password checks, per account and per client address, so that guessing
//! is slow and a flood from one place cannot keep the hashing threads busy. In memory, per
//! process: each replica allows the configured rate.
//!
//! Each key gets a generic cell rate limit: attempts are let through one per `period / count`,
//! with a burst of `count`; a refused attempt costs nothing. Keys whose allowance is whole again
//! are forgotten, so memory follows the recent callers.

use std::{
    collections::HashMap,
    fmt,
    net::IpAddr,
    str::FromStr,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::{DateTime, Utc};

use crate::domain::{Clock, Error, error::Result};

/// At most `count` attempts per `period`, as `10/1m`; or no limit, as `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimit {
    /// No limit.
    Off,
    /// At most `count` attempts in any `period`, refilled evenly.
    Rate {
        /// Attempts allowed in a burst, and per period.
        count: u32,
        /// The period.
        period: Duration,
    },
}

impl FromStr for RateLimit {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.eq_ignore_ascii_case("off") {
            return Ok(RateLimit::Off);
        }
        let usage = || format!("{raw:?}: `off` or attempts per period, such as `10/1m`");
        let (count, period) = raw.split_once('/').ok_or_else(usage)?;
        let count: u32 = count.trim().parse().map_err(|_| usage())?;
        let period = humantime::parse_duration(period.trim()).map_err(|_| usage())?;
        if count == 0 || period.is_zero() {
            return Err(format!(
                "{raw:?}: the count and the period must be above zero; `off` disables the limit"
            ));
        }
        Ok(RateLimit::Rate { count, period })
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RateLimit::Off => f.write_str("off"),
            RateLimit::Rate { count, period } => {
                write!(f, "{count}/{}", humantime::format_duration(*period))
            }
        }
    }
}

/// How many keys a limiter holds before it forgets those whose allowance is whole again.
const PRUNE_FLOOR: usize = 1024;

/// One rate limit over many keys.
pub struct Limiter {
    /// Time between two attempts at the sustained rate, and how far ahead of now a key may be
    /// booked (the burst); `None` when unlimited.
    rate: Option<(chrono::Duration, chrono::Duration)>,
    clock: Arc<dyn Clock>,
    keys: Mutex<Keys>,
}

#[derive(Default)]
struct Keys {
    /// For each key, the instant its allowance is whole again.
    full_at: HashMap<String, DateTime<Utc>>,
    /// Size at which to forget recovered keys next.
    prune_at: usize,
}

impl fmt::Debug for Limiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limiter")
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

impl Limiter {
    /// A limiter allowing `limit` per key, timed by `clock`.
    pub fn new(limit: RateLimit, clock: Arc<dyn Clock>) -> Self {
        let rate = match limit {
            RateLimit::Off => None,
            RateLimit::Rate { count, period } => {
                let period = chrono::Duration::from_std(period).unwrap_or(chrono::Duration::MAX);
                let interval = period / i32::try_from(count).unwrap_or(i32::MAX);
                Some((interval, period - interval))
            }
        };
        Self {
            rate,
            clock,
            keys: Mutex::new(Keys {
                full_at: HashMap::new(),
                prune_at: PRUNE_FLOOR,
            }),
        }
    }

    /// Counts an attempt for `key`: `Err` with the time to wait when the key has no allowance
    /// left (and then nothing is counted).
    pub fn attempt(&self, key: &str) -> std::result::Result<(), Duration> {
        let Some((interval, burst)) = self.rate else {
            return Ok(());
        };
        let now = self.clock.now();
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let full_at = keys.full_at.get(key).copied().unwrap_or(now).max(now);
        let ahead = full_at - now;
        if ahead > burst {
            return Err((ahead - burst).to_std().unwrap_or_default());
        }
        keys.full_at.insert(key.to_owned(), full_at + interval);
        if keys.full_at.len() >= keys.prune_at {
            keys.full_at.retain(|_, full_at| *full_at > now);
            keys.prune_at = (keys.full_at.len() * 2).max(PRUNE_FLOOR);
        }
        Ok(())
    }
}

/// The limits in front of password sign-in.
#[derive(Debug)]
pub struct SignInLimits {
    per_account: Limiter,
    per_address: Limiter,
}

impl SignInLimits {
    /// Limits per (environment, identifier) and per client address.
    pub fn new(per_account: RateLimit, per_address: RateLimit, clock: Arc<dyn Clock>) -> Self {
        Self {
            per_account: Limiter::new(per_account, clock.clone()),
            per_address: Limiter::new(per_address, clock),
        }
    }

    /// Counts a sign-in attempt for `identifier` (normalized) in `environment_id` from `address`.
    /// The answer depends only on these, never on whether the account exists.
    pub fn attempt(&self, environment_id: &str, identifier: &str, address: Option<IpAddr>) -> Result<()> {
        if let Some(address) = address {
            self.per_address
                .attempt(&address_key(address))
                .map_err(too_many)?;
        }
        self.per_account
            .attempt(&format!("{environment_id}\n{identifier}"))
            .map_err(too_many)
    }
}

/// The key of a client address: IPv6 clients are counted by their /64, which one subscriber
/// usually has whole.
fn address_key(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                format!("{}/64", std::net::Ipv6Addr::from(segments))
            }
        },
    }
}

fn too_many(retry_after: Duration) -> Error {
    Error::ResourceExhausted {
        reason: "TOO_MANY_ATTEMPTS",
        message: "too many sign-in attempts; retry later",
        retry_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SystemClock;

    #[test]
    fn limits_parse_from_count_and_period_or_off() {
        assert_eq!("off".parse::<RateLimit>(), Ok(RateLimit::Off));
        assert_eq!(
            "10/1m".parse::<RateLimit>(),
            Ok(RateLimit::Rate {
                count: 10,
                period: Duration::from_secs(60)
            })
        );
        assert_eq!("10/1m".parse::<RateLimit>().unwrap().to_string(), "10/1m");
        for bad in ["", "10", "0/1m", "10/0s", "ten/1m", "10/soon"] {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_burst_passes_then_attempts_wait_for_the_refill() {
        let limiter = Limiter::new("3/1m".parse().unwrap(), Arc::new(SystemClock));
        for _ in 0..3 {
            limiter.attempt("a").unwrap();
        }
        let wait = limiter.attempt("a").unwrap_err();
        assert!(
            wait > Duration::from_secs(15) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        limiter.attempt("b").unwrap();
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        assert_eq!(address_key("::ffff:10.0.0.1".parse().unwrap()), "10.0.0.1");
    }
}
