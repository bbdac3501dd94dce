//! `sigil-bench load`: a mixed workload of sign-ins, token validations and refresh-token rotations
//! over gRPC, at a target rate or as fast as the server answers, reporting throughput, latency
//! percentiles and errors per kind of call. `--soak` holds a rate for a long time and samples the
//! server's memory to show it stays flat.
//!
//!   sigil-bench load --seconds 30                      # the maximum, on a server it starts
//!   sigil-bench load --soak --rate 150 --seconds 600   # a soak at a fixed rate

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use sigil::transport::grpc::pb::{
    self, auth_service_client::AuthServiceClient,
    environment_auth_service_client::EnvironmentAuthServiceClient,
    tenant_service_client::TenantServiceClient, token_service_client::TokenServiceClient,
    user_service_client::UserServiceClient,
};
use tokio::sync::Semaphore;
use tonic::{Code, transport::Channel};

use super::{Args, CLIENT_ID, PASSWORD, SECRET, Server, bearer, drop_postgres, fresh_postgres, sqlite_url};

/// Settings of the `load` command.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct LoadArgs {
    /// Calls per second to send, open loop: each call's latency counts from when it was due, so a
    /// server that falls behind shows it. 0: as many as the server answers, from --concurrency
    /// workers each waiting for its answer before the next call.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Relative weights of the kinds of call.
    #[arg(long, default_value = "login=1,validate=16,refresh=3")]
    mix: String,
    /// Users signed in; each starts with one session whose tokens are validated and refreshed.
    #[arg(long, default_value_t = 32)]
    users: usize,
    /// Calls in flight at most (the number of workers when --rate is 0).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// gRPC connections the calls are spread over.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Database of the server this command starts (--postgres names the PostgreSQL server).
    #[arg(long, value_enum, default_value_t = Database::Postgres)]
    database: Database,
    /// Load a sigil that is already running at this gRPC address (such as
    /// http://127.0.0.1:50051) instead of starting one. It needs the environment's credentials.
    #[arg(long)]
    target: Option<String>,
    /// Client id of the --target server's environment.
    #[arg(long, env = "SIGIL_BOOTSTRAP_CLIENT_ID")]
    client_id: Option<String>,
    /// Secret of the --target server's environment.
    #[arg(long, env = "SIGIL_BOOTSTRAP_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// Process id of the --target server, to sample its memory.
    #[arg(long)]
    pid: Option<u32>,
    /// Soak: hold --rate (required) for --seconds, print a sample every --sample-every seconds,
    /// and fail on any error or when the server's memory grows more than --max-growth-mib from
    /// the first minute to the last.
    #[arg(long)]
    soak: bool,
    /// Seconds between samples printed during the run.
    #[arg(long, default_value_t = 10)]
    sample_every: u64,
    /// Largest growth of the server's memory a soak accepts, in MiB.
    #[arg(long, default_value_t = 16.0)]
    max_growth_mib: f64,
}

/// Where the server this command starts keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Database {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the --postgres server, dropped afterwards.
    Postgres,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Login,
    Validate,
    Refresh,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Login, Kind::Validate, Kind::Refresh];

    fn name(self) -> &'static str {
        match self {
            Kind::Login => "login",
            Kind::Validate => "validate",
            Kind::Refresh => "refresh",
        }
    }
}

/// The order in which kinds are sent: `mix` spread evenly (smooth weighted round robin), so
/// every stretch of the run has the same mix.
fn schedule(mix: &str) -> anyhow::Result<Vec<Kind>> {
    let mut weights = Vec::new();
    for part in mix.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, weight) = part
            .split_once('=')
            .with_context(|| format!("--mix: {part:?} is not kind=weight"))?;
        let kind = Kind::ALL
            .into_iter()
            .find(|k| k.name() == name.trim())
            .with_context(|| format!("--mix: unknown kind {name:?} (login, validate, refresh)"))?;
        let weight: u32 = weight
            .trim()
            .parse()
            .with_context(|| format!("--mix: weight of {name} is not a whole number"))?;
        if weight > 0 {
            weights.push((kind, i64::from(weight)));
        }
    }
    let total: i64 = weights.iter().map(|(_, w)| w).sum();
    if total == 0 || total > 10_000 {
        bail!("--mix: the weights must add up to between 1 and 10000");
    }
    let mut current = vec![0i64; weights.len()];
    let mut order = Vec::with_capacity(total as usize);
    for _ in 0..total {
        for (c, (_, w)) in current.iter_mut().zip(&weights) {
            *c += w;
        }
        let best = (0..weights.len()).max_by_key(|&i| current[i]).unwrap_or(0);
        current[best] -= total;
        order.push(weights[best].0);
    }
    Ok(order)
}

/// One user's session: the access token validations use, and the refresh token whose lock a
/// refresh holds while it rotates the pair.
struct Session {
    email: String,
    access: RwLock<String>,
    refresh: tokio::sync::Mutex<String>,
    /// Set when a refresh failed without an answer: the pair may be gone. The next sign-in
    /// replaces the session.
    broken: AtomicBool,
}

struct Workload {
    clients: Vec<Channel>,
    sessions: Vec<Session>,
    order: Vec<Kind>,
    next: AtomicU64,
}

/// What one call did.
type Outcome = Result<(), Code>;

impl Workload {
    fn channel(&self, n: u64) -> Channel {
        self.clients[n as usize % self.clients.len()].clone()
    }

    async fn call(&self, n: u64) -> (Kind, Outcome) {
        let kind = self.order[n as usize % self.order.len()];
        let index = (n / self.order.len() as u64) as usize;
        let outcome = match kind {
            Kind::Login => self.login(n, index).await,
            Kind::Validate => self.validate(n, index).await,
            Kind::Refresh => self.refresh(n, index).await,
        };
        (kind, outcome)
    }

    /// Signs a user in; the new session replaces a broken one, or the user's own.
    async fn login(&self, n: u64, index: usize) -> Outcome {
        let count = self.sessions.len();
        let slot = (0..count)
            .map(|i| (index + i) % count)
            .find(|&i| self.sessions[i].broken.load(Ordering::Relaxed))
            .unwrap_or(index % count);
        let session = &self.sessions[slot];
        let auth = AuthServiceClient::new(self.channel(n))
            .login(pb::LoginRequest {
                email: session.email.clone(),
                password: PASSWORD.into(),
                ..Default::default()
            })
            .await
            .map_err(|status| status.code())?
            .into_inner()
            .authentication
            .ok_or(Code::Internal)?;
        // A refresh of this session in flight keeps its pair; this session is then dropped.
        if let Ok(mut refresh) = session.refresh.try_lock() {
            *refresh = auth.refresh_token;
            *session.access.write().unwrap_or_else(|e| e.into_inner()) = auth.access_token;
            session.broken.store(false, Ordering::Relaxed);
        }
        Ok(())
    }

    async fn validate(&self, n: u64, index: usize) -> Outcome {
        let count = self.sessions.len();
        let session = (0..count)
            .map(|i| &self.sessions[(index + i) % count])
            .find(|s| !s.broken.load(Ordering::Relaxed))
            .ok_or(Code::FailedPrecondition)?;
        let token = session.access.read().unwrap_or_else(|e| e.into_inner()).clone();
        TokenServiceClient::new(self.channel(n))
            .validate_token(pb::ValidateTokenRequest {
                access_token: token,
                ..Default::default()
            })
            .await
            .map(drop)
            .map_err(|status| status.code())
    }

    /// Rotates the pair of a session no other refresh is rotating.
    async fn refresh(&self, n: u64, index: usize) -> Outcome {
        let count = self.sessions.len();
        let free = (0..count)
            .map(|i| &self.sessions[(index + i) % count])
            .filter(|s| !s.broken.load(Ordering::Relaxed))
            .find_map(|s| s.refresh.try_lock().ok().map(|guard| (s, guard)));
        let Some((session, mut refresh)) = free else {
            return Err(Code::ResourceExhausted);
        };
        let answer = AuthServiceClient::new(self.channel(n))
            .refresh_token(pb::RefreshTokenRequest {
                refresh_token: refresh.clone(),
            })
            .await
            .map(|response| response.into_inner().authentication);
        match answer {
            Ok(Some(auth)) => {
                *refresh = auth.refresh_token;
                *session.access.write().unwrap_or_else(|e| e.into_inner()) = auth.access_token;
                Ok(())
            }
            Ok(None) => {
                session.broken.store(true, Ordering::Relaxed);
                Err(Code::Internal)
            }
            Err(status) => {
                session.broken.store(true, Ordering::Relaxed);
                Err(status.code())
            }
        }
    }
}

/// Counts and latencies per kind, since the start and since the last sample.
struct Stats {
    total: BTreeMap<Kind, KindStats>,
    interval: BTreeMap<Kind, u64>,
    interval_errors: u64,
    /// Calls not sent at a target rate because --concurrency calls were already in flight.
    shed: u64,
}

struct KindStats {
    ok: u64,
    errors: BTreeMap<String, u64>,
    latency: Histogram<u64>,
}

impl Stats {
    fn new() -> anyhow::Result<Self> {
        let mut total = BTreeMap::new();
        for kind in Kind::ALL {
            total.insert(
                kind,
                KindStats {
                    ok: 0,
                    errors: BTreeMap::new(),
                    latency: Histogram::new_with_bounds(1, 120_000_000_000, 3)?,
                },
            );
        }
        Ok(Self {
            total,
            interval: BTreeMap::new(),
            interval_errors: 0,
            shed: 0,
        })
    }

    fn record(&mut self, kind: Kind, latency: Duration, outcome: Outcome) {
        let Some(stats) = self.total.get_mut(&kind) else {
            return;
        };
        let _ = stats
            .latency
            .record((latency.as_nanos() as u64).clamp(1, 120_000_000_000));
        match outcome {
            Ok(()) => stats.ok += 1,
            Err(code) => {
                *stats.errors.entry(format!("{code:?}")).or_default() += 1;
                self.interval_errors += 1;
            }
        }
        *self.interval.entry(kind).or_default() += 1;
    }
}

/// Resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Creates a tenant and `n` active users of this run (names unique to it, so a running server
/// can be loaded again and again); returns their emails.
pub(super) async fn seed(
    channel: &Channel,
    client_id: &str,
    secret: &str,
    n: usize,
) -> anyhow::Result<Vec<String>> {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let tenant = format!("load-{}", &run[..12]);
    let token = EnvironmentAuthServiceClient::new(channel.clone())
        .authenticate_vendor(pb::AuthenticateVendorRequest {
            client_id: client_id.into(),
            secret: secret.into(),
        })
        .await
        .context("authenticating with the environment's credentials")?
        .into_inner()
        .token;
    TenantServiceClient::new(channel.clone())
        .create_tenant(bearer(
            pb::CreateTenantRequest {
                tenant_id: tenant.clone(),
                name: "Load test".into(),
                ..Default::default()
            },
            &token,
        ))
        .await?;
    let mut users = UserServiceClient::new(channel.clone());
    let mut emails = Vec::with_capacity(n);
    for i in 0..n {
        let email = format!("user{i}@{tenant}.load.test");
        users
            .create_user(bearer(
                pb::CreateUserRequest {
                    tenant_id: tenant.clone(),
                    email: email.clone(),
                    password: Some(PASSWORD.into()),
                    ..Default::default()
                },
                &token,
            ))
            .await?;
        emails.push(email);
    }
    Ok(emails)
}

/// Runs the `load` command.
pub async fn run(args: &Args, load: &LoadArgs) -> anyhow::Result<()> {
    let order = schedule(&load.mix)?;
    if load.soak && load.rate <= 0.0 {
        bail!("--soak needs --rate: soak at a fixed rate (half the maximum a plain run measures)");
    }
    if !load.rate.is_finite() || load.rate < 0.0 {
        bail!("--rate must be 0 or more");
    }
    let (users, concurrency, connections) = (
        load.users.max(1),
        load.concurrency.max(1),
        load.connections.max(1),
    );

    // The server: started here on a fresh database, or the one at --target.
    let mut started = None;
    let mut database = None;
    let (origin, pid, client_id, secret) = match &load.target {
        Some(target) => (
            target.clone(),
            load.pid,
            load.client_id.clone().context("--target needs --client-id")?,
            load.secret.clone().context("--target needs --secret")?,
        ),
        None => {
            let url = match load.database {
                Database::Sqlite => sqlite_url(),
                Database::Postgres => {
                    let url = fresh_postgres(&args.postgres).await?;
                    database = Some(url.clone());
                    url
                }
            };
            let server = Server::start(&args.server, url).await?;
            let details = (
                server.grpc.clone(),
                Some(server.pid),
                CLIENT_ID.into(),
                SECRET.into(),
            );
            started = Some(server);
            details
        }
    };
    let mut clients = Vec::new();
    for _ in 0..connections {
        clients.push(Channel::from_shared(origin.clone())?.connect().await?);
    }
    let emails = seed(&clients[0], &client_id, &secret, users).await?;
    let mut sessions = Vec::with_capacity(users);
    for email in emails {
        let auth = AuthServiceClient::new(clients[0].clone())
            .login(pb::LoginRequest {
                email: email.clone(),
                password: PASSWORD.into(),
                ..Default::default()
            })
            .await?
            .into_inner()
            .authentication
            .context("no authentication")?;
        sessions.push(Session {
            email,
            access: RwLock::new(auth.access_token),
            refresh: tokio::sync::Mutex::new(auth.refresh_token),
            broken: AtomicBool::new(false),
        });
    }
    let workload = Arc::new(Workload {
        clients,
        sessions,
        order,
        next: AtomicU64::new(0),
    });
    // Let the set-up's password hashing settle before the measured run.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let duration = Duration::from_secs(args.seconds.max(1));
    let stats = Arc::new(Mutex::new(Stats::new()?));
    let rss_start = pid.and_then(rss_kib);
    let how = if load.rate > 0.0 {
        format!("{} calls/s", load.rate)
    } else {
        format!("the maximum ({concurrency} in flight)")
    };
    let db_name = match (&load.target, load.database) {
        (Some(target), _) => format!("the server at {target}"),
        (None, Database::Sqlite) => "a server on SQLite".into(),
        (None, Database::Postgres) => "a server on PostgreSQL".into(),
    };
    println!(
        "load: {} s at {how}, mix {}, {users} users, {connections} connections, {db_name}",
        duration.as_secs(),
        load.mix
    );

    let started_at = Instant::now();
    let end = started_at + duration;
    let sampler = tokio::spawn(sample(
        stats.clone(),
        pid,
        Duration::from_secs(load.sample_every.max(1)),
        started_at,
        end,
    ));
    if load.rate > 0.0 {
        at_rate(&workload, &stats, load.rate, concurrency, started_at, end).await;
    } else {
        at_maximum(&workload, &stats, concurrency, end).await?;
    }
    let elapsed = started_at.elapsed();
    let samples = sampler.await?;
    let rss_end = pid.and_then(rss_kib);

    let verdict = {
        let stats = stats.lock().unwrap_or_else(|e| e.into_inner());
        summarize(load, &stats, elapsed, rss_start, rss_end, &samples)
    };
    if let Some(server) = started {
        server.stop().await;
    }
    if let Some(database) = database {
        drop_postgres(&args.postgres, &database).await?;
    }
    verdict
}

/// Prints the report; for a soak, its verdict; after a run at the maximum, the soak command.
fn summarize(
    load: &LoadArgs,
    stats: &Stats,
    elapsed: Duration,
    rss_start: Option<u64>,
    rss_end: Option<u64>,
    samples: &[(u64, u64)],
) -> anyhow::Result<()> {
    let errors = print_report(stats, elapsed);
    if let Some(start) = rss_start {
        let peak = samples.iter().map(|s| s.1).max().unwrap_or(start);
        println!(
            "server memory (VmRSS): {:.1} MiB before, {:.1} MiB peak of the samples, {:.1} MiB at the end",
            mib(start),
            mib(peak),
            mib(rss_end.unwrap_or(0)),
        );
    }
    if load.soak {
        return soak_verdict(samples, errors, load.max_growth_mib);
    }
    if load.rate <= 0.0 {
        let total: u64 = stats.total.values().map(|s| s.ok).sum();
        let half = (total as f64 / elapsed.as_secs_f64() / 2.0).floor().max(1.0);
        let mut command = format!(
            "{} load --soak --rate {half} --seconds 600 --mix {}",
            std::env::args().next().unwrap_or_else(|| "sigil-bench".into()),
            load.mix
        );
        let _ = match (&load.target, load.database) {
            (Some(target), _) => write!(command, " --target {target}"),
            (None, Database::Sqlite) => write!(command, " --database sqlite"),
            (None, Database::Postgres) => write!(command, " --database postgres"),
        };
        println!("a 10-minute soak at half this maximum:\n  {command}");
    }
    Ok(())
}

/// Sends calls at `rate` per second until `end`, each at its due time, at most `concurrency` in
/// flight (a call due when that many are in flight is shed and counted).
async fn at_rate(
    workload: &Arc<Workload>,
    stats: &Arc<Mutex<Stats>>,
    rate: f64,
    concurrency: usize,
    started: Instant,
    end: Instant,
) {
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut n: u64 = 0;
    loop {
        let due = started + Duration::from_secs_f64(n as f64 / rate);
        if due >= end {
            break;
        }
        tokio::time::sleep_until(due.into()).await;
        let number = workload.next.fetch_add(1, Ordering::Relaxed);
        match permits.clone().try_acquire_owned() {
            Ok(permit) => {
                let workload = workload.clone();
                let stats = stats.clone();
                tokio::spawn(async move {
                    let (kind, outcome) = workload.call(number).await;
                    let latency = due.elapsed();
                    stats
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .record(kind, latency, outcome);
                    drop(permit);
                });
            }
            Err(_) => stats.lock().unwrap_or_else(|e| e.into_inner()).shed += 1,
        }
        n += 1;
    }
    // Wait for the calls still in flight, up to half a minute.
    let _ = tokio::time::timeout(Duration::from_secs(30), permits.acquire_many(concurrency as u32)).await;
}

/// Keeps `concurrency` workers calling back to back until `end`.
async fn at_maximum(
    workload: &Arc<Workload>,
    stats: &Arc<Mutex<Stats>>,
    concurrency: usize,
    end: Instant,
) -> anyhow::Result<()> {
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let workload = workload.clone();
        let stats = stats.clone();
        workers.push(tokio::spawn(async move {
            while Instant::now() < end {
                let number = workload.next.fetch_add(1, Ordering::Relaxed);
                let at = Instant::now();
                let (kind, outcome) = workload.call(number).await;
                let latency = at.elapsed();
                stats
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .record(kind, latency, outcome);
            }
        }));
    }
    for worker in workers {
        worker.await?;
    }
    Ok(())
}

/// Prints a line every `every` until `end`: calls per second and errors in the interval, and the
/// server's memory. Returns the samples (seconds since the start, RSS in KiB).
async fn sample(
    stats: Arc<Mutex<Stats>>,
    pid: Option<u32>,
    every: Duration,
    started: Instant,
    end: Instant,
) -> Vec<(u64, u64)> {
    let mut samples = Vec::new();
    let mut next = started + every;
    while next <= end {
        tokio::time::sleep_until(next.into()).await;
        let (calls, errors) = {
            let mut stats = stats.lock().unwrap_or_else(|e| e.into_inner());
            let calls: u64 = stats.interval.values().sum();
            let errors = stats.interval_errors;
            stats.interval.clear();
            stats.interval_errors = 0;
            (calls, errors)
        };
        let at = started.elapsed().as_secs();
        let rss = pid.and_then(rss_kib);
        println!(
            "  {at:>5} s  {:>8.0} calls/s  {errors:>4} errors{}",
            calls as f64 / every.as_secs_f64(),
            rss.map(|kib| format!("  server {:.1} MiB", mib(kib)))
                .unwrap_or_default()
        );
        if let Some(rss) = rss {
            samples.push((at, rss));
        }
        next += every;
    }
    samples
}

/// Prints the per-kind table; returns the number of errors.
fn print_report(stats: &Stats, elapsed: Duration) -> u64 {
    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1e6;
    println!(
        "{:<9} {:>9} {:>7} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "kind", "ok", "errors", "ok/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms"
    );
    let mut all = Histogram::<u64>::new_with_bounds(1, 120_000_000_000, 3).ok();
    let (mut ok, mut errors) = (0, 0);
    for (kind, s) in &stats.total {
        let failed: u64 = s.errors.values().sum();
        ok += s.ok;
        errors += failed;
        if let Some(all) = all.as_mut() {
            let _ = all.add(&s.latency);
        }
        if s.latency.is_empty() {
            continue;
        }
        println!(
            "{:<9} {:>9} {:>7} {:>9.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
            kind.name(),
            s.ok,
            failed,
            s.ok as f64 / elapsed.as_secs_f64(),
            ms(&s.latency, 0.5),
            ms(&s.latency, 0.9),
            ms(&s.latency, 0.99),
            ms(&s.latency, 0.999),
            s.latency.max() as f64 / 1e6,
        );
    }
    if let Some(all) = all.filter(|h| !h.is_empty()) {
        println!(
            "{:<9} {:>9} {:>7} {:>9.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
            "all",
            ok,
            errors,
            ok as f64 / elapsed.as_secs_f64(),
            ms(&all, 0.5),
            ms(&all, 0.9),
            ms(&all, 0.99),
            ms(&all, 0.999),
            all.max() as f64 / 1e6,
        );
    }
    for (kind, s) in &stats.total {
        for (code, n) in &s.errors {
            println!("errors: {} {code}: {n}", kind.name());
        }
    }
    if stats.shed > 0 {
        println!(
            "shed: {} calls were not sent because --concurrency calls were in flight (the server fell behind)",
            stats.shed
        );
    }
    errors + stats.shed
}

/// A soak passes with no errors and memory whose last minute is within `max_growth_mib` of its
/// first minute (medians, so one sample taken mid-flood does not decide).
fn soak_verdict(samples: &[(u64, u64)], errors: u64, max_growth_mib: f64) -> anyhow::Result<()> {
    let median = |mut v: Vec<u64>| {
        v.sort_unstable();
        v.get(v.len() / 2).copied()
    };
    let last_at = samples.last().map_or(0, |s| s.0);
    let first = median(samples.iter().filter(|s| s.0 <= 60).map(|s| s.1).collect());
    let last = median(
        samples
            .iter()
            .filter(|s| s.0 + 60 >= last_at)
            .map(|s| s.1)
            .collect(),
    );
    let growth = match (first, last) {
        (Some(first), Some(last)) => {
            let growth = mib(last) - mib(first);
            println!(
                "soak memory: first minute {:.1} MiB, last minute {:.1} MiB (medians), growth {growth:+.1} MiB (limit {max_growth_mib} MiB)",
                mib(first),
                mib(last)
            );
            Some(growth)
        }
        _ => {
            println!("soak memory: not sampled (no server process id)");
            None
        }
    };
    if errors > 0 {
        bail!("soak failed: {errors} errors");
    }
    if growth.is_some_and(|g| g > max_growth_mib) {
        bail!("soak failed: the server's memory grew");
    }
    println!("soak passed: no errors, memory flat");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_spreads_the_mix_evenly() {
        let order = schedule("login=1,validate=2,refresh=1").unwrap();
        assert_eq!(order.len(), 4);
        assert_eq!(order.iter().filter(|k| **k == Kind::Validate).count(), 2);
        assert_ne!(order[0], order[1], "no kind twice in a row when avoidable");
        assert!(schedule("login=0").is_err());
        assert!(schedule("sign=1").is_err());
    }

    #[test]
    fn a_soak_fails_on_errors_or_growing_memory() {
        let flat: Vec<_> = (0..60).map(|i| (i * 10, 30_000 + (i % 3) * 100)).collect();
        assert!(soak_verdict(&flat, 0, 16.0).is_ok());
        assert!(soak_verdict(&flat, 1, 16.0).is_err());
        let growing: Vec<_> = (0..60).map(|i| (i * 10, 30_000 + i * 1024)).collect();
        assert!(soak_verdict(&growing, 0, 16.0).is_err());
    }
}
