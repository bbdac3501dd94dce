//! sigil-bench: starts the release `sigil` binary as a child process on a fresh database, loads it
//! over gRPC (and REST, for sign-ins and the scale scenario) on loopback from this process, and
//! reports throughput, latency percentiles and the server's memory. Each scenario runs `--repeat`
//! times and the median run is reported.
//!
//!   cargo build --release --workspace
//!   target/release/sigil-bench all --postgres postgres://postgres@127.0.0.1:5432/postgres
//!
//! `sigil-bench load` (in load.rs) is the mixed load test and soak; `sigil-bench scale` (in
//! scale.rs) compares a database of a million users with one of a thousand.

mod load;
mod login;
mod rest;
mod roles;
mod scale;

use std::{
    path::PathBuf,
    process::Stdio,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use hdrhistogram::Histogram;
use sea_orm::ConnectionTrait;
use sigil::transport::grpc::pb::{
    self, auth_service_client::AuthServiceClient, token_service_client::TokenServiceClient,
};
use tokio::process::{Child, Command};
use tonic::{Request, transport::Channel};

const CLIENT_ID: &str = "bench-client";
const SECRET: &str = "bench-secret-0123456789abcdef";
const PASSWORD: &str = "bench password 123";

#[derive(Parser, Debug)]
#[command(about = "Benchmarks the sigil server binary over gRPC and REST")]
struct Args {
    #[command(subcommand)]
    scenario: Scenario,
    /// The server binary to run.
    #[arg(long, default_value = "target/release/sigil", global = true)]
    server: PathBuf,
    /// PostgreSQL server for scenarios that use it (a fresh database is created per run).
    #[arg(
        long,
        default_value = "postgres://postgres@127.0.0.1:5432/postgres",
        global = true
    )]
    postgres: String,
    /// Seconds of measured load per run.
    #[arg(long, default_value_t = 10, global = true)]
    seconds: u64,
    /// Runs per scenario; the median (by throughput) is reported.
    #[arg(long, default_value_t = 3, global = true)]
    repeat: usize,
}

#[derive(Subcommand, Debug, Clone, PartialEq)]
enum Scenario {
    /// Raw argon2id verification rate at sigil's parameters, one thread per core.
    Argon2,
    /// Password login throughput over gRPC (SQLite), against the raw argon2id rate measured in the
    /// same run.
    Login,
    /// Password login over REST (HTTP/1.1 JSON, keep-alive) at 4 and at 16 connections (SQLite),
    /// against the raw argon2id rate measured in the same run.
    RestLogin,
    /// ValidateToken throughput and latency (SQLite).
    Validate,
    /// Refresh-token rotation throughput and latency on PostgreSQL.
    Refresh,
    /// Server memory: at rest after start, under a login flood, and at rest again afterwards.
    Memory,
    /// Time from process start to SERVING on SQLite: on a new database, and restarted on it.
    Startup,
    /// Sign-in of users holding 50 roles of 20 permissions each against users holding none, in
    /// alternating runs (SQLite).
    LoginRoles,
    /// The paged role listing (v2) over 10,000 roles, a page of 100 at a time in four orders, on
    /// SQLite and on PostgreSQL: latency per page.
    RoleListing,
    /// Every scenario above.
    All,
    /// Listings, lookups, creation and login on a database of --users users (1,000,000 by
    /// default) against the same on a database of 1,000 users, in the same run (not in `all`).
    Scale(scale::ScaleArgs),
    /// A mixed load of sign-ins, validations and refreshes at a rate or at the maximum, or a soak.
    Load(load::LoadArgs),
}

#[derive(Debug, Clone)]
struct Run {
    ops: u64,
    errors: u64,
    elapsed: Duration,
    latency: Histogram<u64>,
    rss_idle_kib: u64,
    rss_peak_kib: u64,
    /// CPU time the server process spent (user and system) while the load ran.
    server_cpu: Duration,
}

impl Run {
    fn throughput(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64()
    }

    /// Server CPU time per call, in microseconds: unlike throughput, it does not depend on how
    /// much of the machine the load generator takes.
    fn server_cpu_per_call(&self) -> f64 {
        self.server_cpu.as_secs_f64() * 1e6 / (self.ops + self.errors).max(1) as f64
    }

    fn micros(&self, quantile: f64) -> f64 {
        self.latency.value_at_quantile(quantile) as f64 / 1000.0
    }
}

fn median<T: Clone>(mut runs: Vec<T>, key: impl Fn(&T) -> f64) -> T {
    runs.sort_by(|a, b| key(a).total_cmp(&key(b)));
    runs[runs.len() / 2].clone()
}

/// A running server on a fresh database.
struct Server {
    child: Child,
    pid: u32,
    grpc: String,
    /// Origin of the REST gateway.
    http: String,
    _dir: tempfile_dir::Dir,
}

/// A lean gRPC transport for the load generator: one HTTP/2 connection driven by hyper directly,
/// without the request queue (and its task hand-offs) of tonic's `Channel`, so that more of the
/// machine is left to the server under test.
mod h2 {
    use std::{
        future::Future,
        pin::Pin,
        task::{Context, Poll},
    };

    use hyper::client::conn::http2::SendRequest;
    use hyper_util::rt::{TokioExecutor, TokioIo};

    /// One HTTP/2 connection; clones share it.
    #[derive(Clone)]
    pub struct Connection(SendRequest<tonic::body::Body>);

    /// Connects to `http://host:port`.
    pub async fn connect(origin: &str) -> anyhow::Result<Connection> {
        let address = origin.trim_start_matches("http://");
        let stream = tokio::net::TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        let (send, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Connection(send))
    }

    impl tower::Service<http::Request<tonic::body::Body>> for Connection {
        type Response = http::Response<hyper::body::Incoming>;
        type Error = hyper::Error;
        type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            self.0.poll_ready(cx)
        }

        fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
            Box::pin(self.0.send_request(request))
        }
    }
}

mod tempfile_dir {
    /// A temporary directory removed on drop.
    pub struct Dir(pub std::path::PathBuf);

    impl Dir {
        pub fn new() -> std::io::Result<Self> {
            let path = std::env::temp_dir().join(format!("sigil-bench-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&path)?;
            Ok(Self(path))
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The sign-in limits of the benchmark's server: counted, never reached.
const BENCH_SIGN_IN_LIMIT: &str = "1000000000/1s";

impl Server {
    async fn start(binary: &PathBuf, database_url: String) -> anyhow::Result<Self> {
        Self::start_in(binary, database_url, tempfile_dir::Dir::new()?).await
    }

    /// Stops the server and starts it again in the same directory (so on the same SQLite file).
    async fn restart(mut self, binary: &PathBuf, database_url: String) -> anyhow::Result<Self> {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        Self::start_in(binary, database_url, self._dir).await
    }

    async fn start_in(
        binary: &PathBuf,
        database_url: String,
        dir: tempfile_dir::Dir,
    ) -> anyhow::Result<Self> {
        let binary = std::fs::canonicalize(binary)
            .with_context(|| format!("{} (build it with cargo build --release)", binary.display()))?;
        let grpc_port = free_port()?;
        let http_port = free_port()?;
        let child = Command::new(&binary)
            .arg("serve")
            .current_dir(&dir.0)
            .env_clear()
            .env("SIGIL_DATABASE_URL", &database_url)
            .env("SIGIL_GRPC_ADDR", format!("127.0.0.1:{grpc_port}"))
            .env("SIGIL_HTTP_ADDR", format!("127.0.0.1:{http_port}"))
            .env("SIGIL_BOOTSTRAP_CLIENT_ID", CLIENT_ID)
            .env("SIGIL_BOOTSTRAP_SECRET", SECRET)
            .env("SIGIL_SHUTDOWN_DELAY", "0s")
            // The load comes from one address and a few accounts: far past any sign-in limit an
            // operator would set, and the limits are not what is measured.
            .env("SIGIL_SIGN_IN_LIMIT_PER_ACCOUNT", BENCH_SIGN_IN_LIMIT)
            .env("SIGIL_SIGN_IN_LIMIT_PER_ADDRESS", BENCH_SIGN_IN_LIMIT)
            .envs(std::env::vars().filter(|(k, _)| k == "SIGIL_DATABASE_MAX_CONNECTIONS" || k == "SIGIL_LOG"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let pid = child.id().context("server pid")?;
        let grpc = format!("http://127.0.0.1:{grpc_port}");
        let server = Self {
            child,
            pid,
            grpc,
            http: format!("http://127.0.0.1:{http_port}"),
            _dir: dir,
        };
        server.wait_serving().await?;
        Ok(server)
    }

    async fn wait_serving(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(channel) = Channel::from_shared(self.grpc.clone())?.connect().await {
                let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
                if let Ok(response) = health
                    .check(tonic_health::pb::HealthCheckRequest {
                        service: String::new(),
                    })
                    .await
                    && response.into_inner().status == 1
                {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the server did not become SERVING")
    }

    /// Resident and peak resident memory, in KiB.
    fn memory(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// CPU time the server has spent so far, user and system, from `/proc/<pid>/stat`.
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
        // Fields after the command name (which may hold spaces) start at the state, field 3;
        // utime and stime are fields 14 and 15, in clock ticks.
        let ticks: u64 = stat
            .rsplit_once(')')
            .map(|(_, rest)| {
                rest.split_whitespace()
                    .skip(11)
                    .take(2)
                    .filter_map(|v| v.parse::<u64>().ok())
                    .sum()
            })
            .unwrap_or(0);
        Duration::from_secs_f64(ticks as f64 / USER_HZ)
    }

    async fn channel(&self) -> anyhow::Result<Channel> {
        Ok(Channel::from_shared(self.grpc.clone())?.connect().await?)
    }

    async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// The unit of process times in `/proc`: Linux reports them to user space in ticks of 1/100 s
/// (`USER_HZ`, what `getconf CLK_TCK` prints) whatever the kernel's own tick rate.
const USER_HZ: f64 = 100.0;

async fn fresh_postgres(server: &str) -> anyhow::Result<String> {
    let name = format!("sigil_bench_{}", uuid::Uuid::new_v4().simple());
    let admin = sea_orm::Database::connect(server).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await?;
    admin.close().await?;
    let mut url = url::Url::parse(server)?;
    url.set_path(&name);
    Ok(url.into())
}

fn sqlite_url() -> String {
    "sqlite://sigil.db?mode=rwc".into()
}

fn bearer<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    if let Ok(value) = format!("Bearer {token}").parse() {
        request.metadata_mut().insert("authorization", value);
    }
    request
}

/// Creates a tenant and `n` activated users with the bootstrap credentials; returns their emails.
async fn seed_users(channel: &Channel, n: usize) -> anyhow::Result<Vec<String>> {
    load::seed(channel, CLIENT_ID, SECRET, n).await
}

async fn login(channel: &Channel, email: &str) -> anyhow::Result<pb::AuthenticationResponse> {
    AuthServiceClient::new(channel.clone())
        .login(pb::LoginRequest {
            email: email.into(),
            password: PASSWORD.into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .authentication
        .context("no authentication")
}

/// Runs `workers` loops of `op` for `duration` and gathers counts, latencies and memory.
async fn drive<S, F, Fut>(server: &Server, states: Vec<S>, duration: Duration, op: F) -> anyhow::Result<Run>
where
    S: Send + 'static,
    F: Fn(S) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = (S, bool)> + Send,
{
    // Let set-up work (password hashing above all) settle before calling the server idle.
    tokio::time::sleep(Duration::from_secs(3)).await;
    drive_now(server, states, duration, op).await
}

/// [`drive`] without the settling pause.
async fn drive_now<S, F, Fut>(
    server: &Server,
    states: Vec<S>,
    duration: Duration,
    op: F,
) -> anyhow::Result<Run>
where
    S: Send + 'static,
    F: Fn(S) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = (S, bool)> + Send,
{
    Ok(drive_keep(server, states, duration, op).await?.0)
}

/// [`drive_now`], handing the workers' states back (their connections, for the next slice). Each
/// worker finishes the call it has in flight when the time is up.
async fn drive_keep<S, F, Fut>(
    server: &Server,
    states: Vec<S>,
    duration: Duration,
    op: F,
) -> anyhow::Result<(Run, Vec<S>)>
where
    S: Send + 'static,
    F: Fn(S) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = (S, bool)> + Send,
{
    let (rss_idle_kib, _) = server.memory();
    let cpu_before = server.cpu();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut handles = Vec::new();
    for state in states {
        let stop = stop.clone();
        let op = op.clone();
        handles.push(tokio::spawn(async move {
            let mut histogram =
                Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("histogram bounds");
            let (mut ops, mut errors) = (0u64, 0u64);
            let mut state = state;
            while !stop.load(Ordering::Relaxed) {
                let at = Instant::now();
                let (next, ok) = op(state).await;
                state = next;
                let _ = histogram.record(at.elapsed().as_nanos() as u64);
                if ok {
                    ops += 1;
                } else {
                    errors += 1;
                }
            }
            (ops, errors, histogram, state)
        }));
    }
    let mut peak = 0;
    while started.elapsed() < duration {
        tokio::time::sleep(Duration::from_millis(200)).await;
        peak = peak.max(server.memory().0);
    }
    stop.store(true, Ordering::Relaxed);
    let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3)?;
    let (mut ops, mut errors) = (0, 0);
    let mut states = Vec::new();
    for handle in handles {
        let (o, e, h, state) = handle.await?;
        ops += o;
        errors += e;
        latency.add(h)?;
        states.push(state);
    }
    let elapsed = started.elapsed();
    let server_cpu = server.cpu().saturating_sub(cpu_before);
    Ok((
        Run {
            ops,
            errors,
            elapsed,
            latency,
            rss_idle_kib,
            rss_peak_kib: peak,
            server_cpu,
        },
        states,
    ))
}

/// Connections the ValidateToken load uses, and calls in flight on each (HTTP/2 multiplexing).
const VALIDATE_CONNECTIONS: usize = 4;
const VALIDATE_STREAMS: usize = 4;

/// ValidateToken under load. Hot: 64 sessions' tokens, validated again and again, as a service
/// mesh does. Cold: every call carries a token the server has not validated before (tokens are
/// minted beforehand by refresh chains), so each call verifies an RSA signature.
/// The permission the permission-checking ValidateToken runs ask for: every seeded user holds
/// it (the built-in ReadOnly and Admin roles grant it).
const CHECKED_PERMISSION: &str = "fe.secure.read.users";

async fn validate_run(args: &Args, cold: bool, checking: bool) -> anyhow::Result<Run> {
    let server = Server::start(&args.server, sqlite_url()).await?;
    let setup = server.channel().await?;
    let sessions = if cold { 16 } else { 64 };
    let emails = seed_users(&setup, sessions).await?;
    let mut tokens = Vec::new();
    let mut refresh = Vec::new();
    for email in &emails {
        let auth = login(&setup, email).await?;
        tokens.push(auth.access_token);
        refresh.push(auth.refresh_token);
    }
    if cold {
        // Well over the 8192 tokens the server remembers; walked in order, each comes round
        // again only after the server's memory has been emptied since its last use.
        let wanted = 20_000;
        let mut minting = Vec::new();
        for refresh in refresh {
            let channel = setup.clone();
            let per_chain = wanted / sessions;
            minting.push(tokio::spawn(async move {
                let mut client = AuthServiceClient::new(channel);
                let mut refresh = refresh;
                let mut minted = Vec::with_capacity(per_chain);
                for _ in 0..per_chain {
                    let auth = client
                        .refresh_token(pb::RefreshTokenRequest {
                            refresh_token: refresh,
                        })
                        .await?
                        .into_inner()
                        .authentication
                        .context("no authentication")?;
                    refresh = auth.refresh_token;
                    minted.push(auth.access_token);
                }
                Ok::<_, anyhow::Error>(minted)
            }));
        }
        tokens.clear();
        for chain in minting {
            tokens.extend(chain.await??);
        }
    }
    let tokens = Arc::new(tokens);
    let mut states = Vec::new();
    for connection in 0..VALIDATE_CONNECTIONS {
        let h2 = h2::connect(&server.grpc).await?;
        for stream in 0..VALIDATE_STREAMS {
            let worker = connection * VALIDATE_STREAMS + stream;
            let client = TokenServiceClient::with_origin(h2.clone(), server.grpc.parse()?);
            states.push((
                client,
                tokens.clone(),
                worker,
                VALIDATE_CONNECTIONS * VALIDATE_STREAMS,
            ));
        }
    }
    let run = drive(
        &server,
        states,
        Duration::from_secs(args.seconds),
        move |(mut client, tokens, next, step): (
            TokenServiceClient<h2::Connection>,
            Arc<Vec<String>>,
            usize,
            usize,
        )| async move {
            // Workers walk the token list in an interleaved order, so no token repeats until all
            // have been used.
            let token = tokens[next % tokens.len()].clone();
            let any_of_permissions = if checking {
                vec![CHECKED_PERMISSION.to_owned()]
            } else {
                Vec::new()
            };
            let ok = client
                .validate_token(pb::ValidateTokenRequest {
                    access_token: token,
                    any_of_permissions,
                    ..Default::default()
                })
                .await
                .is_ok();
            ((client, tokens, next + step, step), ok)
        },
    )
    .await?;
    server.stop().await;
    Ok(run)
}

async fn refresh_run(args: &Args) -> anyhow::Result<Run> {
    let database = fresh_postgres(&args.postgres).await?;
    let server = Server::start(&args.server, database.clone()).await?;
    let setup = server.channel().await?;
    let emails = seed_users(&setup, refresh_chains()).await?;
    let mut states = Vec::new();
    let mut h2 = h2::connect(&server.grpc).await?;
    for (i, email) in emails.iter().enumerate() {
        if i % 8 == 7 {
            h2 = h2::connect(&server.grpc).await?;
        }
        let refresh = login(&setup, email).await?.refresh_token;
        states.push((
            AuthServiceClient::with_origin(h2.clone(), server.grpc.parse()?),
            refresh,
        ));
    }
    let run = drive(
        &server,
        states,
        Duration::from_secs(args.seconds),
        |(mut client, token): (AuthServiceClient<h2::Connection>, String)| async move {
            match client
                .refresh_token(pb::RefreshTokenRequest {
                    refresh_token: token.clone(),
                })
                .await
            {
                Ok(response) => match response.into_inner().authentication {
                    Some(auth) => ((client, auth.refresh_token), true),
                    None => ((client, token), false),
                },
                Err(_) => ((client, token), false),
            }
        },
    )
    .await?;
    server.stop().await;
    drop_postgres(&args.postgres, &database).await?;
    Ok(run)
}

async fn drop_postgres(server: &str, database: &str) -> anyhow::Result<()> {
    let name = url::Url::parse(database)?
        .path()
        .trim_start_matches('/')
        .to_owned();
    let admin = sea_orm::Database::connect(server).await?;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await?;
    admin.close().await?;
    Ok(())
}

async fn memory(args: &Args) -> anyhow::Result<()> {
    let mib = |kib: u64| kib as f64 / 1024.0;
    let server = Server::start(&args.server, sqlite_url()).await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let at_start = server.memory().0;
    let channel = server.channel().await?;
    let emails = seed_users(&channel, 32).await?;
    let states: Vec<_> = emails.into_iter().map(|email| (channel.clone(), email)).collect();
    let run = drive(
        &server,
        states,
        Duration::from_secs(args.seconds),
        |(channel, email): (Channel, String)| async move {
            let ok = login(&channel, &email).await.is_ok();
            ((channel, email), ok)
        },
    )
    .await?;
    let mut after = Vec::new();
    for _ in 0..15 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        after.push(server.memory().0);
    }
    if std::env::var_os("SIGIL_BENCH_DEBUG_MEMORY").is_some() {
        let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid)).unwrap_or_default();
        for line in status
            .lines()
            .filter(|l| l.starts_with("Rss") || l.starts_with("Threads"))
        {
            println!("  {line}");
        }
    }
    // A first start also migrates a new database and makes the first signing key; a replica
    // restarted on its database does neither, and that is how most of them start.
    let server = server.restart(&args.server, sqlite_url()).await?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let at_restart = server.memory().0;
    println!(
        "memory: at rest after start {:.1} MiB; login flood peak {:.1} MiB; at rest after it: {}; \
         at rest after a restart on the same database {:.1} MiB",
        mib(at_start),
        mib(run.rss_peak_kib),
        after
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 3 == 0)
            .map(|(i, kib)| format!("{}s {:.1} MiB", i + 1, mib(*kib)))
            .collect::<Vec<_>>()
            .join(", "),
        mib(at_restart),
    );
    server.stop().await;
    Ok(())
}

fn report(name: &str, runs: Vec<Run>) -> Run {
    let all: Vec<f64> = runs.iter().map(Run::throughput).collect();
    let cpus: Vec<String> = runs
        .iter()
        .map(|run| format!("{:.1}", run.server_cpu_per_call()))
        .collect();
    let run = median(runs, Run::throughput);
    println!(
        "{name}: {:.0}/s (runs: {}), p50 {:.2} ms, p99 {:.2} ms, errors {}, server CPU {:.1} µs/call (runs: {}), server RSS idle {:.1} MiB, peak under load {:.1} MiB",
        run.throughput(),
        all.iter()
            .map(|t| format!("{t:.0}"))
            .collect::<Vec<_>>()
            .join(", "),
        run.micros(0.5) / 1000.0,
        run.micros(0.99) / 1000.0,
        run.errors,
        run.server_cpu_per_call(),
        cpus.join(", "),
        run.rss_idle_kib as f64 / 1024.0,
        run.rss_peak_kib as f64 / 1024.0,
    );
    run
}

/// Runs a login scenario `--repeat` times and prints its figures: the raw argon2id rate of its
/// slices, the logins, their ratio, and the failures by kind.
async fn login_scenario(args: &Args, over: login::Over, name: &str, ratio_name: &str) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut runs = Vec::new();
    let mut all_ratios = Vec::new();
    let mut all_raws = Vec::new();
    let mut failures = std::collections::BTreeMap::<String, (u64, String)>::new();
    let mut reconnects = 0;
    for _ in 0..args.repeat {
        let run = login::login_run(args, over).await?;
        runs.push(run.run);
        all_ratios.extend(run.ratios);
        all_raws.extend(run.raws);
        for (kind, (n, said)) in run.failures {
            failures.entry(kind).or_insert((0, said)).0 += n;
        }
        reconnects += run.reconnects;
    }
    println!(
        "argon2id raw verify ({cores} threads, 3 s slices): median {:.1}/s over {} slices",
        median(all_raws.clone(), |r| *r),
        all_raws.len()
    );
    report(name, runs);
    println!(
        "{ratio_name} / raw argon2id over {} slice pairs: median {:.3} (min {:.3}, max {:.3})",
        all_ratios.len(),
        median(all_ratios.clone(), |r| *r),
        all_ratios.iter().cloned().fold(f64::INFINITY, f64::min),
        all_ratios.iter().cloned().fold(0.0, f64::max),
    );
    for (kind, (n, said)) in &failures {
        println!("  failed logins, {kind}: {n} (the first: {said})");
    }
    if reconnects > 0 {
        println!("  connections the server closed and the load generator opened again: {reconnects}");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Scenario::Load(load) = &args.scenario {
        return load::run(&args, load).await;
    }
    if let Scenario::Scale(scale) = &args.scenario {
        return scale::run(&args, scale).await;
    }
    let wants = |s: Scenario| args.scenario == s || args.scenario == Scenario::All;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    println!(
        "machine: {cores} cores; {} s per run, median of {} runs",
        args.seconds, args.repeat
    );

    if wants(Scenario::Argon2) && !wants(Scenario::Login) {
        let raw: Vec<f64> = (0..args.repeat)
            .map(|_| login::argon2_rate(Duration::from_secs(args.seconds)))
            .collect();
        println!(
            "argon2id raw verify ({cores} threads): {:.1}/s (runs: {})",
            median(raw.clone(), |r| *r),
            raw.iter()
                .map(|r| format!("{r:.1}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if wants(Scenario::Login) {
        login_scenario(
            &args,
            login::Over::Grpc,
            "login (SQLite, 32 users signing in at once)",
            "login",
        )
        .await?;
    }
    if wants(Scenario::RestLogin) {
        for connections in [4, 16] {
            login_scenario(
                &args,
                login::Over::Rest { connections },
                &format!("login over REST (SQLite, HTTP/1.1 JSON, {connections} keep-alive connections)"),
                &format!("REST login ({connections} connections)"),
            )
            .await?;
        }
    }
    if wants(Scenario::LoginRoles) {
        roles::run(&args).await?;
    }
    if wants(Scenario::RoleListing) {
        roles::listing(&args).await?;
    }
    if wants(Scenario::Memory) {
        memory(&args).await?;
    }
    if wants(Scenario::Startup) {
        startup(&args).await?;
    }
    if wants(Scenario::Validate) {
        let in_flight = VALIDATE_CONNECTIONS * VALIDATE_STREAMS;
        for cold in [false, true] {
            let mut runs = Vec::new();
            for _ in 0..args.repeat {
                runs.push(validate_run(&args, cold, false).await?);
            }
            let name = if cold {
                format!("ValidateToken, cold: every token new ({in_flight} in flight)")
            } else {
                format!("ValidateToken, hot: 64 sessions' tokens ({in_flight} in flight)")
            };
            report(&name, runs);
        }
        // Plain and permission-checking hot runs in alternation, so each pair shares the
        // machine's state of the moment; the median of the pairs' ratios is the figure.
        let (mut plain, mut checking, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..args.repeat {
            let without = validate_run(&args, false, false).await?;
            let with = validate_run(&args, false, true).await?;
            ratios.push(with.throughput() / without.throughput());
            plain.push(without);
            checking.push(with);
        }
        report(
            &format!("ValidateToken, hot, plain (paired; {in_flight} in flight)"),
            plain,
        );
        report(
            &format!("ValidateToken, hot, requiring {CHECKED_PERMISSION} (paired; {in_flight} in flight)"),
            checking,
        );
        println!(
            "ValidateToken requiring a permission / plain, hot, over {} pairs: median {:.3} (runs: {})",
            ratios.len(),
            median(ratios.clone(), |r| *r),
            ratios
                .iter()
                .map(|r| format!("{r:.3}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if wants(Scenario::Refresh) {
        let mut runs = Vec::new();
        for _ in 0..args.repeat {
            runs.push(refresh_run(&args).await?);
        }
        report(
            &format!("refresh (PostgreSQL, {} chains)", refresh_chains()),
            runs,
        );
    }
    Ok(())
}

/// Starts the server in `dir` on its SQLite database and returns how long it took from the spawn
/// to the first SERVING answer of gRPC health, polled every 2 ms.
async fn time_to_serving(binary: &PathBuf, dir: &std::path::Path) -> anyhow::Result<Duration> {
    let grpc_port = free_port()?;
    let http_port = free_port()?;
    let origin = format!("http://127.0.0.1:{grpc_port}");
    let started = Instant::now();
    let mut child = Command::new(binary)
        .arg("serve")
        .current_dir(dir)
        .env_clear()
        .env("SIGIL_DATABASE_URL", sqlite_url())
        .env("SIGIL_GRPC_ADDR", format!("127.0.0.1:{grpc_port}"))
        .env("SIGIL_HTTP_ADDR", format!("127.0.0.1:{http_port}"))
        .env("SIGIL_BOOTSTRAP_CLIENT_ID", CLIENT_ID)
        .env("SIGIL_BOOTSTRAP_SECRET", SECRET)
        .env("SIGIL_SHUTDOWN_DELAY", "0s")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let took = loop {
        if let Ok(channel) = Channel::from_shared(origin.clone())?.connect().await
            && let Ok(response) = tonic_health::pb::health_client::HealthClient::new(channel)
                .check(tonic_health::pb::HealthCheckRequest::default())
                .await
            && response.into_inner().status == 1
        {
            break started.elapsed();
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!("the server did not become SERVING within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    let _ = child.start_kill();
    let _ = child.wait().await;
    Ok(took)
}

/// Start-up time to SERVING on SQLite, a new database each run (migrations, first signing keys,
/// bootstrap) and a restart on it.
async fn startup(args: &Args) -> anyhow::Result<()> {
    let binary = std::fs::canonicalize(&args.server)
        .with_context(|| format!("{} (build it with cargo build --release)", args.server.display()))?;
    let runs = args.repeat.max(5);
    let (mut fresh, mut again) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let dir = tempfile_dir::Dir::new()?;
        fresh.push(time_to_serving(&binary, &dir.0).await?.as_secs_f64() * 1000.0);
        again.push(time_to_serving(&binary, &dir.0).await?.as_secs_f64() * 1000.0);
    }
    for (name, runs) in [("new database", fresh), ("restart", again)] {
        println!(
            "start-up to SERVING (SQLite, {name}): median {:.0} ms, min {:.0} ms, max {:.0} ms over {} runs",
            median(runs.clone(), |r| *r),
            runs.iter().cloned().fold(f64::INFINITY, f64::min),
            runs.iter().cloned().fold(0.0, f64::max),
            runs.len()
        );
    }
    Ok(())
}

fn refresh_chains() -> usize {
    std::env::var("BENCH_CHAINS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12)
}
