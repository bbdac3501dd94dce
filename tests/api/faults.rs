//! The fault suite: the built binary, under load, through an operator's bad day (disk full, files
//! write-protected, PostgreSQL stopped, kill -9). Each test then checks, in the database itself
//! after a restart, that every acknowledged write is there and every refused one changed nothing,
//! and it prints what it measured (recovery times, slowest refusal) for RELIABILITY.md.
//!
//! These tests mount file systems, change file owners and stop the machine's PostgreSQL, so they
//! are ignored by a plain `cargo test`; `.ci/run` runs them as root, one at a time, after the main
//! suites:
//! `cargo test --test api faults:: -- --ignored --test-threads=1`. `SIGIL_FAULT_ROUNDS` (default
//! 3) sets how many times each fault is repeated, `SIGIL_FAULT_SECONDS` (default 3) how long each
//! lasts, `SIGIL_FAULT_POSTGRES_URL` the server (default the local one).

use std::{
    collections::BTreeMap,
    path::Path,
    process::Command,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, Database};
use sigil::transport::grpc::pb;
use tonic::{Code, Status, service::interceptor::InterceptedService, transport::Channel};
use tonic_types::StatusExt;

use crate::{
    helpers::{Bearer, CLIENT_ID, SECRET, TestDatabase, invitee},
    process::Process,
};

const PASSWORD: &str = "a long enough password";
/// Writers running at once in every workload.
const WRITERS: usize = 4;

fn rounds() -> usize {
    std::env::var("SIGIL_FAULT_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3)
}

fn fault_length() -> Duration {
    let seconds = std::env::var("SIGIL_FAULT_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok());
    Duration::from_secs(seconds.unwrap_or(3))
}

fn postgres_server() -> String {
    std::env::var("SIGIL_FAULT_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Runs a command of the machine, which must succeed. The tests run on a multi-threaded runtime
/// and commands are run as blocking there, so the workload's answers are taken as they come (a
/// blocked single thread would make a quick answer look slow).
fn sh(program: &str, args: &[&str]) {
    let status = run(Command::new(program).args(args));
    assert!(status.success(), "{program} {args:?} failed: {status}");
}

/// Runs `command` as blocking work of the runtime.
fn run(command: &mut Command) -> std::process::ExitStatus {
    tokio::task::block_in_place(|| command.status()).unwrap_or_else(|e| panic!("{command:?}: {e}"))
}

/// A gRPC caller of one sigil process, with an environment token.
#[derive(Clone)]
struct Caller {
    channel: Channel,
    bearer: Bearer,
}

type Users = pb::user_service_client::UserServiceClient<InterceptedService<Channel, Bearer>>;

impl Caller {
    async fn new(process: &Process) -> Self {
        let channel = process.channel().await;
        let token = pb::environment_auth_service_client::EnvironmentAuthServiceClient::new(channel.clone())
            .authenticate_vendor(pb::AuthenticateVendorRequest {
                client_id: CLIENT_ID.into(),
                secret: SECRET.into(),
            })
            .await
            .expect("authenticate")
            .into_inner()
            .token;
        Self {
            channel,
            bearer: Bearer::token(&token),
        }
    }

    fn users(&self) -> Users {
        pb::user_service_client::UserServiceClient::with_interceptor(
            self.channel.clone(),
            self.bearer.clone(),
        )
    }

    async fn create_tenant(&self) {
        let created = pb::tenant_service_client::TenantServiceClient::with_interceptor(
            self.channel.clone(),
            self.bearer.clone(),
        )
        .create_tenant(crate::helpers::tenant("acme", "Acme"))
        .await;
        if let Err(status) = created {
            assert_eq!(
                status.code(),
                Code::AlreadyExists,
                "create the tenant: {status:?}"
            );
        }
    }

    async fn create_user(&self, email: &str, password: bool) -> Result<(), Status> {
        let request = pb::CreateUserRequest {
            password: password.then(|| PASSWORD.into()),
            ..invitee("acme", email)
        };
        self.users().create_user(request).await.map(drop)
    }

    async fn login(&self, email: &str) -> Result<String, Status> {
        self.sign_in(email).await.map(|a| a.refresh_token)
    }

    async fn sign_in(&self, email: &str) -> Result<pb::AuthenticationResponse, Status> {
        pb::auth_service_client::AuthServiceClient::new(self.channel.clone())
            .login(pb::LoginRequest {
                email: email.into(),
                password: PASSWORD.into(),
                ..Default::default()
            })
            .await
            .map(|r| r.into_inner().authentication.unwrap())
    }

    async fn validate(&self, access_token: &str) -> Result<(), Status> {
        pb::token_service_client::TokenServiceClient::new(self.channel.clone())
            .validate_token(pb::ValidateTokenRequest {
                access_token: access_token.into(),
                ..Default::default()
            })
            .await
            .map(drop)
    }

    async fn refresh(&self, token: &str) -> Result<String, Status> {
        pb::auth_service_client::AuthServiceClient::new(self.channel.clone())
            .refresh_token(pb::RefreshTokenRequest {
                refresh_token: token.into(),
            })
            .await
            .map(|r| r.into_inner().authentication.unwrap().refresh_token)
    }

    /// Creates users until one is acknowledged; how long that took.
    async fn until_a_write_succeeds(&self, prefix: &str, limit: Duration) -> Duration {
        let started = Instant::now();
        let mut n = 0;
        while self
            .create_user(&format!("{prefix}-{n}@probe.test"), false)
            .await
            .is_err()
        {
            assert!(started.elapsed() < limit, "no write succeeded within {limit:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
            n += 1;
        }
        started.elapsed()
    }
}

/// What the workload was told, to check against the database afterwards.
#[derive(Default)]
struct Ledger {
    /// Emails whose creation was acknowledged.
    created: Vec<String>,
    /// Emails whose creation was refused.
    refused: Vec<String>,
    /// Each writer's session: the refresh token it holds now.
    tokens: Vec<String>,
    /// Answers other than OK, by code.
    failures: BTreeMap<String, usize>,
    /// UNAVAILABLE answers without a retry delay.
    without_retry_info: usize,
    /// The longest time a refused request took.
    slowest_refusal: Duration,
    /// Acknowledged refreshes.
    refreshed: usize,
}

impl Ledger {
    fn refused(&mut self, status: &Status, took: Duration) {
        *self.failures.entry(format!("{:?}", status.code())).or_default() += 1;
        if status.code() == Code::Unavailable && status.get_details_retry_info().is_none() {
            self.without_retry_info += 1;
        }
        self.slowest_refusal = self.slowest_refusal.max(took);
    }

    /// Asserts that every refusal was UNAVAILABLE with a retry delay.
    fn assert_refusals_retryable(&self) {
        let other: usize = self
            .failures
            .iter()
            .filter(|(code, _)| code.as_str() != "Unavailable")
            .map(|(_, n)| n)
            .sum();
        assert_eq!(other, 0, "refusals other than UNAVAILABLE: {:?}", self.failures);
        assert_eq!(self.without_retry_info, 0, "UNAVAILABLE without RetryInfo");
    }
}

/// Writers creating users and refreshing their sessions until told to stop.
struct Workload {
    stop: tokio::sync::watch::Sender<bool>,
    writers: Vec<tokio::task::JoinHandle<()>>,
    ledger: Arc<Mutex<Ledger>>,
}

impl Workload {
    /// Makes tenant "acme" if needed and one signed-in user per writer, then starts them.
    async fn start(caller: &Caller, name: &str, ledger: Arc<Mutex<Ledger>>) -> Self {
        caller.create_tenant().await;
        let first = ledger.lock().unwrap().tokens.len();
        for writer in 0..WRITERS {
            let email = format!("{name}-writer-{writer}@faults.test");
            caller.create_user(&email, true).await.expect("seed a user");
            let token = caller.login(&email).await.expect("sign in");
            let mut ledger = ledger.lock().unwrap();
            ledger.created.push(email);
            ledger.tokens.push(token);
        }
        let (stop, _) = tokio::sync::watch::channel(false);
        let writers = (0..WRITERS)
            .map(|writer| {
                let caller = caller.clone();
                let ledger = ledger.clone();
                let stop = stop.subscribe();
                let name = format!("{name}-{}", uuid::Uuid::new_v4().simple());
                tokio::spawn(async move {
                    for n in 0.. {
                        if *stop.borrow() {
                            return;
                        }
                        let started = Instant::now();
                        if n % 2 == 0 {
                            let email = format!("{name}-{writer}-{n}@faults.test");
                            let outcome = caller.create_user(&email, false).await;
                            let mut ledger = ledger.lock().unwrap();
                            match outcome {
                                Ok(()) => ledger.created.push(email),
                                Err(status) => {
                                    ledger.refused(&status, started.elapsed());
                                    ledger.refused.push(email);
                                }
                            }
                        } else {
                            let token = ledger.lock().unwrap().tokens[first + writer].clone();
                            let outcome = caller.refresh(&token).await;
                            let mut ledger = ledger.lock().unwrap();
                            match outcome {
                                Ok(next) => {
                                    ledger.tokens[first + writer] = next;
                                    ledger.refreshed += 1;
                                }
                                Err(status) => ledger.refused(&status, started.elapsed()),
                            }
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                })
            })
            .collect();
        Self {
            stop,
            writers,
            ledger,
        }
    }

    /// Lets the writers run a moment past the last fault, stops them and sigil, and returns what
    /// they were told, every refusal checked to have been UNAVAILABLE with a retry delay.
    async fn settle(self, process: Process) -> Ledger {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let ledger = self.finish().await;
        stop(process).await;
        let ledger = std::mem::take(&mut *ledger.lock().unwrap());
        ledger.assert_refusals_retryable();
        ledger
    }

    /// Stops the writers once their requests in flight are answered.
    async fn finish(self) -> Arc<Mutex<Ledger>> {
        self.stop.send_replace(true);
        for writer in self.writers {
            writer.await.expect("a writer panicked");
        }
        self.ledger
    }
}

/// Checks the database at `url` against the ledger: every acknowledged user is there, no refused
/// one is. Then, through a restarted sigil, every session's latest token still refreshes.
async fn verify(url: &str, ledger: &Ledger, env: &[(&str, &str)], uid: Option<u32>) {
    let db = Database::connect(url).await.expect("open the database");
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT email FROM users",
        ))
        .await
        .expect("read the users");
    let stored: std::collections::HashSet<String> = rows
        .iter()
        .map(|row| row.try_get::<String>("", "email").unwrap())
        .collect();
    db.close().await.ok();
    let lost: Vec<_> = ledger.created.iter().filter(|e| !stored.contains(*e)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged users lost: {lost:?}",
        lost.len()
    );
    let half_written: Vec<_> = ledger.refused.iter().filter(|e| stored.contains(*e)).collect();
    assert!(
        half_written.is_empty(),
        "{} refused users stored: {half_written:?}",
        half_written.len()
    );
    let process = Process::start_on(TestDatabase::existing(url), env, uid).await;
    let caller = Caller::new(&process).await;
    for token in &ledger.tokens {
        caller
            .refresh(token)
            .await
            .expect("the latest acknowledged refresh token of a session still refreshes");
    }
    println!(
        "verified: {} users acknowledged and stored, {} refused and absent, {} refreshes, {} sessions live; \
         refusals {:?}, slowest {:?}",
        ledger.created.len(),
        ledger.refused.len(),
        ledger.refreshed,
        ledger.tokens.len(),
        ledger.failures,
        ledger.slowest_refusal
    );
}

/// Stops sigil with SIGTERM and waits for it to exit cleanly.
async fn stop(mut process: Process) {
    process.signal("TERM");
    let status = process.wait(Duration::from_secs(30)).await;
    assert!(
        status.success(),
        "sigil exited with {status}; output:\n{}",
        process.output()
    );
}

/// A small tmpfs, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_str().unwrap();
        sh(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0777"),
                "tmpfs",
                path,
            ],
        );
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the file system to the last byte.
    fn fill(&self) {
        for (bs, file) in [("1M", "fill"), ("4k", "fill-4k"), ("512", "fill-512")] {
            let mut dd = Command::new("dd");
            dd.args([
                "if=/dev/zero",
                &format!("of={}", self.path().join(file).display()),
                &format!("bs={bs}"),
            ])
            .stderr(std::process::Stdio::null());
            // dd ends in failure, once the file system is full.
            run(&mut dd);
        }
    }

    fn free(&self) {
        for file in ["fill", "fill-4k", "fill-512"] {
            let _ = std::fs::remove_file(self.path().join(file));
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("sigil.db").display())
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "fault suite: needs root; .ci/run runs it"]
async fn faults_sqlite_disk_full_loses_no_acknowledged_write_and_heals_at_once() {
    let tmpfs = Tmpfs::mount("24m");
    let url = sqlite_url(tmpfs.path());
    let env = [("SIGIL_DATABASE_URL", url.as_str())];
    let process = Process::start_on(TestDatabase::existing(&url), &env, None).await;
    let caller = Caller::new(&process).await;
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let workload = Workload::start(&caller, "full", ledger.clone()).await;
    let mut recoveries = Vec::new();
    for round in 0..rounds() {
        tokio::time::sleep(Duration::from_millis(500)).await;
        tmpfs.fill();
        tokio::time::sleep(fault_length()).await;
        tmpfs.free();
        let recovery = caller
            .until_a_write_succeeds(&format!("full-probe-{round}"), Duration::from_secs(30))
            .await;
        recoveries.push(recovery);
    }
    let ledger = workload.settle(process).await;
    println!(
        "disk full: {} rounds, write recovery {recoveries:?}, median {:?}",
        rounds(),
        median(recoveries.clone())
    );
    assert!(
        recoveries.iter().all(|r| *r <= Duration::from_secs(1)),
        "writes must work again within 1 s of the space coming back: {recoveries:?}"
    );
    verify(&url, &ledger, &env, None).await;
}

/// Nobody's user and group id: root ignores file modes.
const NOBODY: u32 = 65534;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "fault suite: needs root; .ci/run runs it"]
async fn faults_sqlite_read_only_files_leave_no_read_only_connection_behind() {
    let dir = tempfile::tempdir().unwrap();
    sh(
        "chown",
        &[&format!("{NOBODY}:{NOBODY}"), dir.path().to_str().unwrap()],
    );
    let url = sqlite_url(dir.path());
    let env = [
        ("SIGIL_DATABASE_URL", url.as_str()),
        ("SIGIL_DATABASE_MAX_CONNECTIONS", "8"),
    ];
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut recoveries = Vec::new();
    let mut failed_after_recovery = 0;
    for round in 0..rounds() {
        // A new process each round, so its pool opens connections while the files are protected.
        let process = Process::start_on(TestDatabase::existing(&url), &env, Some(NOBODY)).await;
        let caller = Caller::new(&process).await;
        let files: Vec<_> = ["sigil.db", "sigil.db-wal", "sigil.db-shm"]
            .iter()
            .map(|f| dir.path().join(f))
            .filter(|f| f.exists())
            .collect();
        let workload = Workload::start(&caller, &format!("ro-{round}"), ledger.clone()).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        for file in &files {
            std::fs::set_permissions(file, std::os::unix::fs::PermissionsExt::from_mode(0o444)).unwrap();
        }
        tokio::time::sleep(fault_length()).await;
        for file in &files {
            std::fs::set_permissions(file, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
        }
        recoveries.push(
            caller
                .until_a_write_succeeds(&format!("ro-probe-{round}"), Duration::from_secs(30))
                .await,
        );
        // Once writes work, every one works: no connection opened read-only is left to fail.
        let before = ledger.lock().unwrap().failures.values().sum::<usize>();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let failed = ledger.lock().unwrap().failures.values().sum::<usize>() - before;
        if failed > 0 {
            let output = process.output();
            let errors: Vec<_> = output
                .lines()
                .filter(|l| l.contains("ERROR") || l.contains("WARN"))
                .collect();
            println!(
                "round {round}: {failed} writes failed after recovery; sigil said:\n{}",
                errors[errors.len().saturating_sub(8)..].join("\n")
            );
        }
        failed_after_recovery += failed;
        workload.finish().await;
        stop(process).await;
    }
    let ledger = std::mem::take(&mut *ledger.lock().unwrap());
    ledger.assert_refusals_retryable();
    println!(
        "read-only: {} rounds, write recovery {recoveries:?}, median {:?}, refusals after recovery {failed_after_recovery}",
        rounds(),
        median(recoveries.clone())
    );
    assert_eq!(
        failed_after_recovery, 0,
        "writes failed after the files were writable again"
    );
    assert!(
        recoveries.iter().all(|r| *r <= Duration::from_secs(1)),
        "{recoveries:?}"
    );
    verify(&url, &ledger, &env, Some(NOBODY)).await;
}

/// The local PostgreSQL cluster, started again when dropped (also when a test fails).
struct Cluster {
    version: String,
}

impl Cluster {
    fn local() -> Self {
        let version = std::fs::read_dir("/etc/postgresql")
            .expect("a local PostgreSQL cluster")
            .next()
            .unwrap()
            .unwrap()
            .file_name()
            .into_string()
            .unwrap();
        Self { version }
    }

    /// Writes a checkpoint, so that a shutdown right after need not wait for a spread one.
    fn checkpoint(&self) {
        run(Command::new("psql").args([&postgres_server(), "-qc", "CHECKPOINT"]));
    }

    /// Stops the server (fast: sessions are cut, the shutdown checkpoint written).
    fn stop(&self) {
        sh(
            "pg_ctlcluster",
            &[
                "--skip-systemctl-redirect",
                &self.version,
                "main",
                "stop",
                "-m",
                "fast",
            ],
        );
    }

    /// Starts the server and waits until it accepts connections.
    fn start(&self) {
        assert!(self.started(), "PostgreSQL did not start again");
    }

    /// Whether the server, started, accepts connections within two minutes.
    fn started(&self) -> bool {
        tokio::task::block_in_place(|| {
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(120) {
                let _ = Command::new("pg_ctlcluster")
                    .args(["--skip-systemctl-redirect", &self.version, "main", "start"])
                    .stderr(std::process::Stdio::null())
                    .status();
                for _ in 0..20 {
                    if Command::new("pg_isready")
                        .args(["-q", "-h", "127.0.0.1"])
                        .status()
                        .is_ok_and(|s| s.success())
                    {
                        return true;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            false
        })
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // No panic here: this may run while a failed test unwinds.
        if !self.started() {
            eprintln!("PostgreSQL did not start again");
        }
    }
}

/// A new database on the PostgreSQL server of the fault suite.
async fn postgres_database() -> String {
    let server = postgres_server();
    let name = format!("sigil_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&server).await.expect("connect to PostgreSQL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
    admin.close().await.ok();
    let mut url = url::Url::parse(&server).unwrap();
    url.set_path(&name);
    url.into()
}

async fn ready(process: &Process) -> bool {
    reqwest::get(process.url("/readyz"))
        .await
        .is_ok_and(|r| r.status().is_success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "fault suite: needs root and stops the local PostgreSQL; .ci/run runs it"]
async fn faults_postgres_stopped_answers_503_at_once_and_heals_when_it_returns() {
    let cluster = Cluster::local();
    let url = postgres_database().await;
    let env = [("SIGIL_DATABASE_URL", url.as_str())];
    let process = Process::start_on(TestDatabase::existing(&url), &env, None).await;
    let caller = Caller::new(&process).await;
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let workload = Workload::start(&caller, "pg", ledger.clone()).await;
    let access_token = caller
        .sign_in("pg-writer-0@faults.test")
        .await
        .unwrap()
        .access_token;
    let (mut unready_after, mut recoveries) = (Vec::new(), Vec::new());
    for round in 0..rounds() {
        tokio::time::sleep(Duration::from_millis(500)).await;
        cluster.checkpoint();
        let stopped = Instant::now();
        cluster.stop();
        while ready(&process).await {
            assert!(
                stopped.elapsed() < Duration::from_secs(10),
                "readiness never turned"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        unready_after.push(stopped.elapsed());
        // Tokens are checked from memory: validation goes on without the database.
        caller
            .validate(&access_token)
            .await
            .expect("an access token validates while the database is down");
        // Past the 10 s the environments read last are fresh for, so that validation below
        // serves from what it read before the outage.
        let outage = fault_length().max(Duration::from_secs(11));
        tokio::time::sleep(outage.saturating_sub(stopped.elapsed())).await;
        caller
            .validate(&access_token)
            .await
            .expect("an access token validates at the end of the outage");
        cluster.start();
        recoveries.push(
            caller
                .until_a_write_succeeds(&format!("pg-probe-{round}"), Duration::from_secs(30))
                .await,
        );
        let back = Instant::now();
        while !ready(&process).await {
            assert!(
                back.elapsed() < Duration::from_secs(5),
                "readiness did not come back"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let ledger = workload.settle(process).await;
    println!(
        "postgres stopped: {} rounds, not ready after {unready_after:?} (median {:?}), \
         write recovery {recoveries:?} (median {:?}), slowest refusal {:?}",
        rounds(),
        median(unready_after.clone()),
        median(recoveries.clone()),
        ledger.slowest_refusal
    );
    assert!(
        unready_after.iter().all(|d| *d <= Duration::from_secs(2)),
        "{unready_after:?}"
    );
    assert!(
        recoveries.iter().all(|d| *d <= Duration::from_secs(2)),
        "{recoveries:?}"
    );
    assert!(
        ledger.slowest_refusal <= Duration::from_millis(2500),
        "a refusal took {:?}, more than the acquire bound + 0.5 s",
        ledger.slowest_refusal
    );
    verify(&url, &ledger, &env, None).await;
    drop(cluster);
}

/// kill -9 while writers run, `rounds()` times, then every acknowledged write is there.
async fn killed_under_writes(url: String) {
    let env = [("SIGIL_DATABASE_URL", url.as_str())];
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    for round in 0..rounds() {
        let process = Process::start_on(TestDatabase::existing(&url), &env, None).await;
        let caller = Caller::new(&process).await;
        let workload = Workload::start(&caller, &format!("kill-{round}"), ledger.clone()).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        process.signal("KILL");
        workload.finish().await;
        // Requests in flight when the process died were neither acknowledged nor refused by it:
        // their users may or may not exist, and a refresh cut short may have used its token.
        let mut ledger = ledger.lock().unwrap();
        ledger.refused.clear();
        ledger.tokens.clear();
        ledger.failures.clear();
        drop(process);
    }
    let ledger = std::mem::take(&mut *ledger.lock().unwrap());
    println!("kill -9: {} rounds", rounds());
    verify(&url, &ledger, &env, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "fault suite: .ci/run runs it"]
async fn faults_sqlite_kill_9_under_writes_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    killed_under_writes(sqlite_url(dir.path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "fault suite: .ci/run runs it"]
async fn faults_postgres_kill_9_under_writes_loses_nothing_acknowledged() {
    killed_under_writes(postgres_database().await).await;
}

/// The 99th percentile of `samples`.
fn p99(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[(samples.len() * 99).div_ceil(100) - 1]
}

/// `count` REST sign-ins one after another on one kept-alive connection; how long each took.
async fn sign_in_times(process: &Process, email: &str, count: usize) -> Vec<Duration> {
    let client = reqwest::Client::new();
    let url = process.url("/identity/resources/auth/v1/user");
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        let response = client
            .post(&url)
            .json(&serde_json::json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        times.push(started.elapsed());
    }
    times
}

/// Connects to `addr` and sends a request head a byte every half second until sigil closes the
/// connection; how long after the first byte that was. Again and again until `stop`.
async fn slowloris(addr: std::net::SocketAddr, stop: tokio::sync::watch::Receiver<bool>) -> Vec<Duration> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut closed_after = Vec::new();
    while !*stop.borrow() {
        let Ok(stream) = tokio::net::TcpStream::connect(addr).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let (mut reader, mut writer) = stream.into_split();
        let started = Instant::now();
        let trickle = tokio::spawn(async move {
            let head = b"POST /identity/resources/auth/v1/user HTTP/1.1\r\nHost: sigil.test\r\nX-Slow: ";
            for byte in head.iter().chain(std::iter::repeat(&b'a')) {
                if writer.write_all(&[*byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
        let mut buf = [0u8; 1024];
        while let Ok(read) = reader.read(&mut buf).await {
            if read == 0 {
                break;
            }
        }
        closed_after.push(started.elapsed());
        trickle.abort();
    }
    closed_after
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "fault suite: .ci/run runs it"]
async fn faults_slowloris_is_cut_at_the_header_timeout_and_sign_ins_keep_their_pace() {
    const SLOW_CLIENTS: usize = 300;
    const SIGN_INS: usize = 100;
    // This test's own sockets must not run out first.
    sigil::transport::connections::raise_open_file_limit().unwrap();
    let header_timeout = Duration::from_secs(2);
    let process = Process::start(&[("SIGIL_HTTP_HEADER_TIMEOUT", "2s")]).await;
    let caller = Caller::new(&process).await;
    caller.create_tenant().await;
    caller.create_user("pace@faults.test", true).await.unwrap();
    sign_in_times(&process, "pace@faults.test", 10).await;
    let idle = p99(sign_in_times(&process, "pace@faults.test", SIGN_INS).await);

    let (enough, stopped) = tokio::sync::watch::channel(false);
    let slow: Vec<_> = (0..SLOW_CLIENTS)
        .map(|_| tokio::spawn(slowloris(process.http_addr, stopped.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let abused = p99(sign_in_times(&process, "pace@faults.test", SIGN_INS).await);
    enough.send_replace(true);
    let mut closed_after = Vec::new();
    for slow in slow {
        closed_after.extend(slow.await.unwrap());
    }
    stop(process).await;
    let slowest = closed_after.iter().max().copied().unwrap_or_default();
    println!(
        "slowloris: {} slow connections ({SLOW_CLIENTS} at once) closed after {:?} at the median, \
         {slowest:?} at most (header timeout {header_timeout:?}); sign-in p99 {idle:?} idle, \
         {abused:?} under the abuse ({:.2}x)",
        closed_after.len(),
        median(closed_after.clone()),
        abused.as_secs_f64() / idle.as_secs_f64()
    );
    assert!(
        slowest <= header_timeout + Duration::from_secs(1),
        "a slow head held {slowest:?}"
    );
    assert!(
        abused <= idle * 2 + Duration::from_millis(5),
        "sign-in p99 {abused:?} under abuse against {idle:?} idle"
    );
}
