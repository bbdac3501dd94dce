//! Configuration: one struct, every field a command-line flag and a `SIGIL_*` environment variable.

use std::{net::SocketAddr, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};
use url::Url;

use crate::{
    domain::{secret::Secret, session::parse_proxy_network},
    service::limits::RateLimit,
};

/// sigil: a self-hosted identity service implementing the Frontegg Identity API over gRPC.
#[derive(Debug, Parser)]
#[command(name = "sigil", version, about)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings shared by every command.
    #[command(flatten)]
    pub config: Config,
}

/// The commands of the `sigil` binary.
#[derive(Debug, Clone, Subcommand, PartialEq, Eq)]
pub enum Command {
    /// Run the gRPC server and the HTTP listener (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage the signing keys in the database (see docs/operations.md, "Key material").
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage the environments in the database (see docs/operations.md, "Environments").
    Environments(EnvironmentsArgs),
}

/// `sigil environments ...`: work on the environments in the database, then exit.
#[derive(Debug, Clone, Args, PartialEq, Eq)]
pub struct EnvironmentsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: EnvironmentsCommand,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

/// The `sigil environments` subcommands. Running replicas see a change within seconds.
#[derive(Debug, Clone, Subcommand, PartialEq, Eq)]
pub enum EnvironmentsCommand {
    /// Create an environment with its own credentials and signing key; prints its client id and
    /// its secret, which is shown only this once.
    Create {
        /// What to call it.
        #[arg(long)]
        name: String,
        /// The vendor host (`frontegg-vendor-host` header) whose public requests it serves.
        #[arg(long)]
        host: Option<String>,
        /// Its client id; generated when omitted.
        #[arg(long)]
        client_id: Option<String>,
    },
    /// List every environment, oldest first.
    List,
    /// Show one environment.
    Get {
        /// The environment's id.
        id: String,
    },
    /// Rename an environment, or set or remove (`--host ""`) its vendor host.
    Update {
        /// The environment's id.
        id: String,
        /// Its new name.
        #[arg(long)]
        name: Option<String>,
        /// Its new vendor host; empty to remove it.
        #[arg(long)]
        host: Option<String>,
    },
    /// Give an environment a new secret, shown only this once; the old one, and the environment
    /// tokens obtained with it, stop working.
    RotateSecret {
        /// The environment's id.
        id: String,
    },
    /// Delete an environment and everything in it: tenants, users, sessions, keys.
    Delete {
        /// The environment's id.
        id: String,
    },
}

/// `sigil keys ...`: work on the signing keys in the database, then exit.
#[derive(Debug, Clone, Subcommand, PartialEq, Eq)]
pub enum KeysCommand {
    /// Make a new signing key for every environment (or one): it signs from now on, and the
    /// keys it replaces keep verifying until the tokens they signed have expired. Running
    /// replicas sign with it within 15 minutes, or at once when restarted. Backends that keep the
    /// one `publicKey` of `configurations/v1` (Frontegg's SDKs) refuse new tokens until they
    /// restart.
    Rotate {
        /// Only this environment (its id).
        #[arg(long)]
        environment: Option<String>,
    },
    /// Seal every signing key with SIGIL_MASTER_KEY: keys sealed with SIGIL_MASTER_KEY_PREVIOUS
    /// are opened and sealed again, unsealed keys are sealed, keys already sealed with
    /// SIGIL_MASTER_KEY stay as they are. Refuses, changing nothing, when a key is sealed with
    /// neither.
    Reseal,
}

/// Log output format.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

fn duration(raw: &str) -> Result<Duration, humantime::DurationError> {
    humantime::parse_duration(raw)
}

/// Whether signing keys rotate by themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyRotation {
    /// Never: a key signs until `sigil keys rotate` replaces it.
    #[default]
    Off,
    /// A key signs this long, then a new one replaces it.
    Every(Duration),
}

impl KeyRotation {
    /// The rotation period, if keys rotate by themselves.
    pub fn period(self) -> Option<Duration> {
        match self {
            KeyRotation::Off => None,
            KeyRotation::Every(period) => Some(period),
        }
    }
}

fn key_rotation(raw: &str) -> Result<KeyRotation, String> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("off") {
        return Ok(KeyRotation::Off);
    }
    match humantime::parse_duration(raw) {
        Ok(period) if !period.is_zero() => Ok(KeyRotation::Every(period)),
        Ok(_) => Err("a rotation period must be longer than zero; `off` disables rotation".into()),
        Err(error) => Err(format!("`off` or a duration such as `30d`: {error}")),
    }
}

/// Shortest administrator credential accepted.
const MIN_ADMIN_TOKEN: usize = 32;

/// Every setting of sigil.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Database URL: `sqlite://path?mode=rwc` or `postgres://user@host/db`.
    /// Unset: `sigil.db` in the working directory.
    #[arg(long, env = "SIGIL_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Largest number of pooled database connections. Unset: 16 on PostgreSQL, 4 on SQLite
    /// (which writes one transaction at a time anyway).
    #[arg(long, env = "SIGIL_DATABASE_MAX_CONNECTIONS", global = true)]
    pub database_max_connections: Option<u32>,
    /// How long a request waits for a pooled database connection (and, on SQLite, for the
    /// write lock) before it answers 503 UNAVAILABLE with Retry-After.
    #[arg(long, env = "SIGIL_DATABASE_ACQUIRE_TIMEOUT", default_value = "2s", value_parser = duration, global = true)]
    pub database_acquire_timeout: Duration,
    /// Address the gRPC server listens on.
    #[arg(long, env = "SIGIL_GRPC_ADDR", default_value = "0.0.0.0:50051", global = true)]
    pub grpc_addr: SocketAddr,
    /// Address the HTTP listener (probes; the REST gateway) listens on.
    #[arg(long, env = "SIGIL_HTTP_ADDR", default_value = "0.0.0.0:8080", global = true)]
    pub http_addr: SocketAddr,
    /// Address of a separate listener serving only `GET /metrics`. Set, `/metrics` is no longer
    /// served on the HTTP address. Unset: `/metrics` is served on the HTTP address.
    #[arg(long, env = "SIGIL_METRICS_ADDR", global = true)]
    pub metrics_addr: Option<SocketAddr>,
    /// Client id of the default environment, created or updated at start. Set with the secret.
    #[arg(long, env = "SIGIL_BOOTSTRAP_CLIENT_ID", global = true)]
    pub bootstrap_client_id: Option<String>,
    /// Secret of the default environment, created or updated at start. Set with the client id.
    #[arg(long, env = "SIGIL_BOOTSTRAP_SECRET", hide_env_values = true, global = true)]
    pub bootstrap_secret: Option<Secret>,
    /// The deployment's administrator credential: callers of the environment administration API
    /// (`identity.v1.EnvironmentAdminService`) send it as `authorization: Bearer <token>`. At
    /// least 32 characters. Unset: that API refuses every call.
    #[arg(long, env = "SIGIL_ADMIN_TOKEN", hide_env_values = true, global = true)]
    pub admin_token: Option<Secret>,
    /// sigil's public base URL: the issuer (`iss`) of its tokens.
    #[arg(
        long,
        env = "SIGIL_PUBLIC_URL",
        default_value = "http://localhost:8080",
        global = true
    )]
    pub public_url: Url,
    /// Base URL of the application that emailed links lead to. Unset: the public URL.
    #[arg(long, env = "SIGIL_APP_URL", global = true)]
    pub app_url: Option<Url>,
    /// Lifetime of environment tokens, such as `1h`.
    #[arg(long, env = "SIGIL_ENVIRONMENT_TOKEN_TTL", default_value = "1h", value_parser = duration, global = true)]
    pub environment_token_ttl: Duration,
    /// Base64 of 32 random bytes that seal signing keys at rest (AES-256-GCM). Unset: keys are
    /// stored unsealed. Once set, keep it: sealed keys do not open without it.
    #[arg(long, env = "SIGIL_MASTER_KEY", hide_env_values = true, global = true)]
    pub master_key: Option<Secret>,
    /// The previous master key, while changing it: keys it sealed still open, and `sigil keys
    /// reseal` seals them again with `SIGIL_MASTER_KEY`.
    #[arg(
        long,
        env = "SIGIL_MASTER_KEY_PREVIOUS",
        hide_env_values = true,
        global = true
    )]
    pub master_key_previous: Option<Secret>,
    /// How often each replica reads new session revocations when no announcement arrives.
    #[arg(long, env = "SIGIL_REVOCATION_SYNC", default_value = "1s", value_parser = duration, global = true)]
    pub revocation_sync: Duration,
    /// How long a replica that cannot read session revocations keeps validating access tokens;
    /// past it, validation answers UNAVAILABLE (503) rather than trust a stale revocation list.
    #[arg(
        long,
        env = "SIGIL_REVOCATION_MAX_STALENESS",
        default_value = "30s",
        value_parser = duration,
        global = true
    )]
    pub revocation_max_staleness: Duration,
    /// How often each replica deletes sessions and tokens that ended more than a day ago (expired,
    /// revoked or used), in batches; replicas may do it at the same time.
    #[arg(long, env = "SIGIL_CLEANUP_INTERVAL", default_value = "10m", value_parser = duration, global = true)]
    pub cleanup_interval: Duration,
    /// Automatic rotation of signing keys: `off` (the default: keys change only with `sigil keys
    /// rotate`), or how long a key signs before a new one replaces it, such as `30d`.
    #[arg(long, env = "SIGIL_KEY_ROTATION", default_value = "off", value_parser = key_rotation, global = true)]
    pub key_rotation: KeyRotation,
    /// How long to keep serving after a stop signal while health reports NOT_SERVING, so that
    /// load balancers stop sending traffic first.
    #[arg(long, env = "SIGIL_SHUTDOWN_DELAY", default_value = "5s", value_parser = duration, global = true)]
    pub shutdown_delay: Duration,
    /// After the drain delay, how long requests in flight may take to finish once the listeners
    /// stop accepting; then sigil exits regardless.
    #[arg(long, env = "SIGIL_SHUTDOWN_GRACE", default_value = "20s", value_parser = duration, global = true)]
    pub shutdown_grace: Duration,
    /// Whether the REST gateway's refresh-token cookie is marked `Secure` (sent over HTTPS only).
    /// Turn off only for local development over plain HTTP.
    #[arg(long, env = "SIGIL_COOKIE_SECURE", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub cookie_secure: bool,
    /// Browser origins allowed to call the REST gateway with credentials (CORS), comma-separated,
    /// such as `https://app.example.com`. Unset: no cross-origin browser access.
    #[arg(long, env = "SIGIL_CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_origins: Vec<String>,
    /// Password sign-in attempts allowed per account (environment and email), as `count/period`
    /// (such as `10/1m`: a burst of 10, then one every 6 s), or `off`. Counted alike whether or
    /// not the account exists; past it, 429 (REST) or RESOURCE_EXHAUSTED (gRPC).
    #[arg(
        long,
        env = "SIGIL_SIGN_IN_LIMIT_PER_ACCOUNT",
        default_value = "10/1m",
        global = true
    )]
    pub sign_in_limit_per_account: RateLimit,
    /// Password sign-in attempts allowed per client address (IPv6: per /64), as `count/period`,
    /// or `off`. Behind a proxy, set SIGIL_TRUSTED_PROXIES, or every client shares its address.
    #[arg(
        long,
        env = "SIGIL_SIGN_IN_LIMIT_PER_ADDRESS",
        default_value = "300/1m",
        global = true
    )]
    pub sign_in_limit_per_address: RateLimit,
    /// Proxies (CIDR networks or addresses, comma-separated) whose `X-Forwarded-For` names the
    /// client's address. Unset: the client's address is always the connection's peer.
    #[arg(long, env = "SIGIL_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_proxy_network, global = true)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long after a refresh token is exchanged presenting it again (a second tab, a retry
    /// after a lost response) gets the same new tokens instead of revoking the session as a
    /// replay. `0s` disables the grace.
    #[arg(long, env = "SIGIL_REFRESH_GRACE", default_value = "5s", value_parser = duration, global = true)]
    pub refresh_grace: Duration,
    /// How long a session lasts at most from its sign-in, however often it is refreshed; then the
    /// user must sign in again.
    #[arg(long, env = "SIGIL_SESSION_MAX_LIFETIME", default_value = "90d", value_parser = duration, global = true)]
    pub session_max_lifetime: Duration,
    /// Most tenants a bulk update of a user's roles (`PATCH vendor-only/users/v1/{userId}/roles/bulk`)
    /// updates within the request, in one transaction; with more, it is queued as a task that
    /// a background worker carries out in batches, and whose status is polled. `0` queues every one.
    #[arg(
        long,
        env = "SIGIL_BULK_ROLES_SYNC_LIMIT",
        default_value_t = 10,
        global = true
    )]
    pub bulk_roles_sync_limit: usize,
    /// Largest request body the REST gateway reads, in bytes; larger ones get 413.
    #[arg(long, env = "SIGIL_HTTP_BODY_LIMIT", default_value_t = 64 * 1024, global = true)]
    pub http_body_limit: usize,
    /// How long a client may take to send an HTTP/1 request head (request line and headers) on
    /// the HTTP port, from its first byte; then the connection is closed.
    #[arg(long, env = "SIGIL_HTTP_HEADER_TIMEOUT", default_value = "10s", value_parser = duration, global = true)]
    pub http_header_timeout: Duration,
    /// How long a connection, on either port, may stay open with no request in flight; then it
    /// is closed gracefully (HTTP/2: GOAWAY). Connections count as idle from when they open.
    #[arg(long, env = "SIGIL_IDLE_TIMEOUT", default_value = "60s", value_parser = duration, global = true)]
    pub idle_timeout: Duration,
    /// How often HTTP/2 connections (all of gRPC's, and HTTP/2 ones on the HTTP port) are pinged.
    #[arg(
        long,
        env = "SIGIL_HTTP2_KEEPALIVE_INTERVAL",
        default_value = "30s",
        value_parser = duration,
        global = true
    )]
    pub http2_keepalive_interval: Duration,
    /// How long a ping may go unanswered before its connection is closed.
    #[arg(
        long,
        env = "SIGIL_HTTP2_KEEPALIVE_TIMEOUT",
        default_value = "10s",
        value_parser = duration,
        global = true
    )]
    pub http2_keepalive_timeout: Duration,
    /// Most requests (streams) open at once on one HTTP/2 connection, advertised to clients.
    #[arg(
        long,
        env = "SIGIL_MAX_CONCURRENT_STREAMS",
        default_value_t = 200,
        global = true
    )]
    pub max_concurrent_streams: u32,
    /// Most client connections each port (gRPC, HTTP) holds at once; past it, a few more are
    /// admitted for health probes only, and the rest are closed at once. Unset: derived from the open file
    /// limit (raised to its hard limit at start), leaving room for the database pool and files.
    #[arg(long, env = "SIGIL_MAX_CONNECTIONS", global = true)]
    pub max_connections: Option<usize>,
    /// Log filter, in `tracing` directive syntax.
    #[arg(long, env = "SIGIL_LOG", default_value = "info,sqlx=warn", global = true)]
    pub log: String,
    /// Log format: `json` lines carry the trace and span ids. Traces are configured by the
    /// standard `OTEL_*` variables (see the telemetry module).
    #[arg(long, env = "SIGIL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

impl Config {
    /// The configuration with every default, as `sigil` with no flags and no environment has it.
    pub fn defaults() -> Self {
        Cli::parse_from(["sigil"]).config
    }

    /// The database URL to use.
    pub fn database_url(&self) -> &str {
        self.database_url
            .as_deref()
            .unwrap_or(crate::store::DEFAULT_DATABASE_URL)
    }

    /// The CORS origins, checked: each must be a bare origin such as `https://app.example.com`.
    pub fn cors_origins(&self) -> anyhow::Result<Vec<http::HeaderValue>> {
        self.cors_origins
            .iter()
            .map(|origin| origin.trim())
            .filter(|origin| !origin.is_empty())
            .map(|origin| {
                let url = Url::parse(origin)
                    .map_err(|e| anyhow::anyhow!("SIGIL_CORS_ORIGINS: {origin:?} is not an origin: {e}"))?;
                let bare = url.origin().ascii_serialization();
                anyhow::ensure!(
                    bare == origin.trim_end_matches('/') && url.path() == "/",
                    "SIGIL_CORS_ORIGINS: {origin:?} is not a bare origin (scheme://host[:port])"
                );
                Ok(http::HeaderValue::from_str(&bare)?)
            })
            .collect()
    }

    /// The origin of the public URL (`https://auth.example.com`), whose pages may use the refresh
    /// cookie like those of the CORS origins.
    pub fn public_origin(&self) -> Option<http::HeaderValue> {
        let origin = self.public_url.origin();
        origin
            .is_tuple()
            .then(|| http::HeaderValue::from_str(&origin.ascii_serialization()).ok())
            .flatten()
    }

    /// The pool size to use.
    pub fn database_max_connections(&self) -> u32 {
        self.database_max_connections
            .unwrap_or(if self.database_url().starts_with("sqlite") {
                4
            } else {
                16
            })
    }

    /// The configured bootstrap credentials; both or neither must be set.
    pub fn bootstrap_credentials(&self) -> anyhow::Result<Option<(String, Secret)>> {
        match (&self.bootstrap_client_id, &self.bootstrap_secret) {
            (Some(id), Some(secret)) if !id.is_empty() && !secret.expose().is_empty() => {
                Ok(Some((id.clone(), secret.clone())))
            }
            (None, None) => Ok(None),
            _ => anyhow::bail!(
                "SIGIL_BOOTSTRAP_CLIENT_ID and SIGIL_BOOTSTRAP_SECRET must be set together, non-empty"
            ),
        }
    }

    /// Base URL for links, always ending in `/` so paths join under it.
    pub fn app_url(&self) -> Url {
        let mut url = self.app_url.clone().unwrap_or_else(|| self.public_url.clone());
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        url
    }

    /// What the services need to know of the configuration.
    pub fn service_settings(&self) -> crate::service::ServiceSettings {
        crate::service::ServiceSettings {
            issuer: self.issuer(),
            app_url: self.app_url(),
            environment_token_ttl: self.environment_token_ttl,
            key_rotation: self.key_rotation.period(),
            sign_in_limit_per_account: self.sign_in_limit_per_account,
            sign_in_limit_per_address: self.sign_in_limit_per_address,
            trusted_proxies: crate::domain::session::TrustedProxies(self.trusted_proxies.clone()),
            refresh_grace: self.refresh_grace,
            session_max_lifetime: self.session_max_lifetime,
            cookie_secure: self.cookie_secure,
            bulk_roles_sync_limit: self.bulk_roles_sync_limit,
        }
    }

    /// What the signing keys need to know of the configuration.
    pub fn key_settings(&self) -> crate::service::keys::KeySettings {
        crate::service::keys::KeySettings {
            issuer: self.issuer(),
            rotation: self.key_rotation.period(),
            environment_token_ttl: self.environment_token_ttl,
        }
    }

    /// The issuer of sigil's tokens: the public URL without a trailing slash.
    pub fn issuer(&self) -> String {
        self.public_url.as_str().trim_end_matches('/').to_owned()
    }

    /// What bounds the connections of each port, under a limit of `open_files` open files.
    pub fn connection_limits(&self, open_files: u64) -> crate::transport::connections::Limits {
        crate::transport::connections::Limits {
            header_timeout: self.http_header_timeout,
            idle_timeout: self.idle_timeout,
            http2_keepalive_interval: self.http2_keepalive_interval,
            http2_keepalive_timeout: self.http2_keepalive_timeout,
            max_concurrent_streams: self.max_concurrent_streams,
            max_connections: self.max_connections.unwrap_or_else(|| {
                crate::transport::connections::default_max_connections(
                    open_files,
                    self.database_max_connections(),
                )
            }),
        }
    }

    /// Checks settings that depend on each other.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.bootstrap_credentials()?;
        if let Some(token) = &self.admin_token {
            anyhow::ensure!(
                token.expose().chars().count() >= MIN_ADMIN_TOKEN,
                "SIGIL_ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN} characters (such as `openssl rand -base64 32`)"
            );
        }
        if let Some(period) = self.key_rotation.period() {
            // A retired key verifies for one more period: tokens it signed last must expire first.
            anyhow::ensure!(
                self.environment_token_ttl < period,
                "SIGIL_ENVIRONMENT_TOKEN_TTL must be shorter than SIGIL_KEY_ROTATION"
            );
        }
        anyhow::ensure!(
            self.revocation_max_staleness > self.revocation_sync,
            "SIGIL_REVOCATION_MAX_STALENESS must be longer than SIGIL_REVOCATION_SYNC"
        );
        anyhow::ensure!(
            !self.cleanup_interval.is_zero(),
            "SIGIL_CLEANUP_INTERVAL must not be zero"
        );
        if let (Some(metrics), http) = (self.metrics_addr, self.http_addr)
            && metrics == http
            && metrics.port() != 0
        {
            anyhow::bail!("SIGIL_METRICS_ADDR must differ from SIGIL_HTTP_ADDR");
        }
        for (name, value) in [
            ("SIGIL_HTTP_HEADER_TIMEOUT", self.http_header_timeout),
            ("SIGIL_IDLE_TIMEOUT", self.idle_timeout),
            ("SIGIL_HTTP2_KEEPALIVE_INTERVAL", self.http2_keepalive_interval),
            ("SIGIL_HTTP2_KEEPALIVE_TIMEOUT", self.http2_keepalive_timeout),
            ("SIGIL_DATABASE_ACQUIRE_TIMEOUT", self.database_acquire_timeout),
        ] {
            anyhow::ensure!(!value.is_zero(), "{name} must not be zero");
        }
        anyhow::ensure!(
            self.max_concurrent_streams >= 1,
            "SIGIL_MAX_CONCURRENT_STREAMS must be at least 1"
        );
        anyhow::ensure!(
            self.max_connections != Some(0),
            "SIGIL_MAX_CONNECTIONS must be at least 1"
        );
        anyhow::ensure!(
            self.database_max_connections() >= 2,
            "SIGIL_DATABASE_MAX_CONNECTIONS must be at least 2"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documentation() {
        let config = Cli::parse_from(["sigil"]).config;
        assert_eq!(config.grpc_addr.to_string(), "0.0.0.0:50051");
        assert_eq!(config.http_addr.to_string(), "0.0.0.0:8080");
        assert_eq!(config.environment_token_ttl, Duration::from_secs(3600));
        assert_eq!(config.key_rotation, KeyRotation::Off);
        assert_eq!(config.revocation_max_staleness, Duration::from_secs(30));
        assert_eq!(config.cleanup_interval, Duration::from_secs(600));
        assert_eq!(config.metrics_addr, None);
        assert_eq!(config.sign_in_limit_per_account.to_string(), "10/1m");
        assert_eq!(config.sign_in_limit_per_address.to_string(), "300/1m");
        assert!(config.trusted_proxies.is_empty());
        assert_eq!(config.refresh_grace, Duration::from_secs(5));
        assert_eq!(config.session_max_lifetime, Duration::from_secs(90 * 24 * 3600));
        assert_eq!(config.app_url().as_str(), "http://localhost:8080/");
        assert_eq!(config.issuer(), "http://localhost:8080");
        assert_eq!(config.http_header_timeout, Duration::from_secs(10));
        assert_eq!(config.idle_timeout, Duration::from_secs(60));
        assert_eq!(config.http2_keepalive_interval, Duration::from_secs(30));
        assert_eq!(config.http2_keepalive_timeout, Duration::from_secs(10));
        assert_eq!(config.max_concurrent_streams, 200);
        assert_eq!(config.max_connections, None);
        assert_eq!(config.bulk_roles_sync_limit, 10);
    }

    #[test]
    fn connection_bounds_parse_and_must_not_be_zero() {
        let config = Cli::parse_from([
            "sigil",
            "--http-header-timeout",
            "2s",
            "--idle-timeout",
            "5m",
            "--max-connections",
            "100",
        ])
        .config;
        assert!(config.validate().is_ok());
        let limits = config.connection_limits(512);
        assert_eq!(limits.header_timeout, Duration::from_secs(2));
        assert_eq!(limits.idle_timeout, Duration::from_secs(300));
        assert_eq!(limits.max_connections, 100);
        let derived = Cli::parse_from(["sigil"]).config.connection_limits(512);
        assert_eq!(derived.max_connections, 206, "512 files, SQLite's pool of 4");
        for flag in [
            "--http-header-timeout",
            "--idle-timeout",
            "--http2-keepalive-interval",
            "--http2-keepalive-timeout",
        ] {
            let config = Cli::parse_from(["sigil", flag, "0s"]).config;
            assert!(config.validate().is_err(), "{flag} 0s");
        }
        let config = Cli::parse_from(["sigil", "--max-concurrent-streams", "0"]).config;
        assert!(config.validate().is_err());
        let config = Cli::parse_from(["sigil", "--max-connections", "0"]).config;
        assert!(config.validate().is_err());
        assert!(Cli::try_parse_from(["sigil", "--idle-timeout", "soon"]).is_err());
        assert!(Cli::try_parse_from(["sigil", "--max-connections", "-1"]).is_err());
    }

    #[test]
    fn flags_work_before_and_after_the_subcommand() {
        let cli = Cli::parse_from(["sigil", "migrate", "--database-url", "sqlite://x.db"]);
        assert_eq!(cli.command, Some(Command::Migrate));
        assert_eq!(cli.config.database_url(), "sqlite://x.db");
        let cli = Cli::parse_from(["sigil", "--grpc-addr", "127.0.0.1:1", "serve"]);
        assert_eq!(cli.config.grpc_addr.to_string(), "127.0.0.1:1");
        let cli = Cli::parse_from(["sigil", "keys", "rotate", "--environment", "e1"]);
        assert_eq!(
            cli.command,
            Some(Command::Keys(KeysCommand::Rotate {
                environment: Some("e1".into())
            }))
        );
        let cli = Cli::parse_from(["sigil", "keys", "reseal", "--database-url", "sqlite://x.db"]);
        assert_eq!(cli.command, Some(Command::Keys(KeysCommand::Reseal)));
        assert_eq!(cli.config.database_url(), "sqlite://x.db");
    }

    #[test]
    fn key_rotation_is_off_or_a_period_longer_than_environment_tokens_live() {
        let parse = |value: &str| Cli::try_parse_from(["sigil", "--key-rotation", value]);
        assert_eq!(parse("off").unwrap().config.key_rotation, KeyRotation::Off);
        assert_eq!(parse("OFF").unwrap().config.key_rotation, KeyRotation::Off);
        let config = parse("30d").unwrap().config;
        assert_eq!(
            config.key_rotation,
            KeyRotation::Every(Duration::from_secs(30 * 24 * 3600))
        );
        assert!(config.validate().is_ok());
        assert!(parse("0s").is_err());
        assert!(parse("sometimes").is_err());
        let config = parse("30m").unwrap().config;
        assert!(
            config.validate().is_err(),
            "environment tokens live 1h by default"
        );
        let mut config = Cli::parse_from(["sigil", "--environment-token-ttl", "90d"]).config;
        assert!(config.validate().is_ok(), "without rotation, any lifetime");
        config.key_rotation = KeyRotation::Every(Duration::from_secs(3600));
        assert!(config.validate().is_err());
    }

    #[test]
    fn the_staleness_bound_must_exceed_the_sync_interval() {
        let config = Cli::parse_from(["sigil", "--revocation-max-staleness", "1s"]).config;
        assert!(config.validate().is_err());
        let config = Cli::parse_from(["sigil", "--revocation-max-staleness", "2s"]).config;
        assert!(config.validate().is_ok());
    }

    #[test]
    fn the_metrics_listener_needs_its_own_address() {
        let config = Cli::parse_from(["sigil", "--metrics-addr", "0.0.0.0:8080"]).config;
        assert!(config.validate().is_err());
        let config = Cli::parse_from(["sigil", "--metrics-addr", "127.0.0.1:9090"]).config;
        assert_eq!(config.metrics_addr, Some("127.0.0.1:9090".parse().unwrap()));
        assert!(config.validate().is_ok());
    }

    #[test]
    fn environments_subcommands_parse() {
        let cli = Cli::parse_from([
            "sigil",
            "environments",
            "create",
            "--name",
            "Staging",
            "--host",
            "staging.example.com",
            "--json",
        ]);
        assert_eq!(
            cli.command,
            Some(Command::Environments(EnvironmentsArgs {
                command: EnvironmentsCommand::Create {
                    name: "Staging".into(),
                    host: Some("staging.example.com".into()),
                    client_id: None,
                },
                json: true,
            }))
        );
        let cli = Cli::parse_from(["sigil", "environments", "rotate-secret", "e1"]);
        assert_eq!(
            cli.command,
            Some(Command::Environments(EnvironmentsArgs {
                command: EnvironmentsCommand::RotateSecret { id: "e1".into() },
                json: false,
            }))
        );
    }

    #[test]
    fn the_admin_token_must_be_long_and_stays_out_of_debug_output() {
        let mut config = Cli::parse_from(["sigil", "--admin-token", "short"]).config;
        assert!(config.validate().is_err());
        config.admin_token = Some(Secret::new("an-admin-token-of-enough-length-42"));
        assert!(config.validate().is_ok());
        assert!(!format!("{config:?}").contains("an-admin-token"));
    }

    #[test]
    fn limits_and_trusted_proxies_parse() {
        let config = Cli::parse_from([
            "sigil",
            "--sign-in-limit-per-account",
            "off",
            "--trusted-proxies",
            "10.0.0.0/8, 192.0.2.1",
        ])
        .config;
        assert_eq!(config.sign_in_limit_per_account, RateLimit::Off);
        assert_eq!(config.trusted_proxies.len(), 2);
        assert!(Cli::try_parse_from(["sigil", "--trusted-proxies", "nope"]).is_err());
        assert!(Cli::try_parse_from(["sigil", "--sign-in-limit-per-address", "5"]).is_err());
    }

    #[test]
    fn bootstrap_credentials_come_in_pairs() {
        let mut config = Cli::parse_from(["sigil"]).config;
        config.bootstrap_client_id = Some("id".into());
        assert!(config.validate().is_err());
        config.bootstrap_secret = Some(Secret::new("secret"));
        assert!(config.validate().is_ok());
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let mut config = Cli::parse_from(["sigil"]).config;
        config.bootstrap_secret = Some(Secret::new("hunter2"));
        config.master_key = Some(Secret::new("master-secret"));
        config.master_key_previous = Some(Secret::new("older-secret"));
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"));
        assert!(!debug.contains("master-secret"));
        assert!(!debug.contains("older-secret"));
    }

    #[test]
    fn cors_origins_must_be_bare_origins() {
        let mut config = Cli::parse_from([
            "sigil",
            "--cors-origins",
            "https://app.example.com,http://localhost:3000",
        ])
        .config;
        let origins = config.cors_origins().unwrap();
        assert_eq!(origins, ["https://app.example.com", "http://localhost:3000"]);
        config.cors_origins = vec!["https://app.example.com/path".into()];
        assert!(config.cors_origins().is_err());
        config.cors_origins = vec!["not an origin".into()];
        assert!(config.cors_origins().is_err());
    }
}
