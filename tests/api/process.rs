//! The built `sigil` binary as a child process, for what only a whole process shows: signals,
//! exit codes, and the process-wide trace pipeline and logs.

use std::{
    net::SocketAddr,
    process::{ExitStatus, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::helpers::{CLIENT_ID, SECRET, TestDatabase};

/// A port free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `sigil serve`.
pub struct Process {
    child: Child,
    pub grpc_addr: SocketAddr,
    pub http_addr: SocketAddr,
    pub database: TestDatabase,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

/// Collects the lines of a child's output as they come.
fn collect(
    stream: impl tokio::io::AsyncRead + Unpin + Send + 'static,
) -> (Arc<Mutex<Vec<String>>>, tokio::task::JoinHandle<()>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let reader = tokio::spawn(async move {
        let mut stream = BufReader::new(stream).lines();
        while let Ok(Some(line)) = stream.next_line().await {
            sink.lock().unwrap().push(line);
        }
    });
    (lines, reader)
}

impl Process {
    /// Starts sigil on a fresh database with the test credentials, no drain delay, and `env`
    /// on top (nothing else of this process's environment is passed on), and waits until it
    /// reports SERVING. Ports are picked free, but another test may take one before sigil binds
    /// it: then sigil exits at once, and it is started again on other ports.
    pub async fn start(env: &[(&str, &str)]) -> Self {
        Self::start_on(TestDatabase::new().await, env, None).await
    }

    /// As [`Process::start`], under a limit (soft and hard) of `open_files` open files.
    pub async fn start_with_open_files(open_files: u64, env: &[(&str, &str)]) -> Self {
        Self::launch(TestDatabase::new().await, env, None, Some(open_files)).await
    }

    /// [`Process::start`] on `database`, as the user with id `uid` when one is given (and its
    /// group of the same id).
    pub async fn start_on(database: TestDatabase, env: &[(&str, &str)], uid: Option<u32>) -> Self {
        Self::launch(database, env, uid, None).await
    }

    async fn launch(
        mut database: TestDatabase,
        env: &[(&str, &str)],
        uid: Option<u32>,
        open_files: Option<u64>,
    ) -> Self {
        for _ in 0..5 {
            let mut process = Self::spawn(database, env, uid, open_files);
            if process.wait_serving().await {
                return process;
            }
            let output = process.output();
            assert!(
                output.contains("Address already in use"),
                "sigil did not report SERVING; its output:\n{output}"
            );
            database = std::mem::replace(&mut process.database, TestDatabase::existing(""));
        }
        panic!("no free ports for sigil after 5 tries");
    }

    fn spawn(
        database: TestDatabase,
        env: &[(&str, &str)],
        uid: Option<u32>,
        open_files: Option<u64>,
    ) -> Self {
        let grpc_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let http_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let mut command = match open_files {
            // The shell's `ulimit -n` sets the soft and the hard limit, which sigil cannot raise.
            Some(limit) => {
                let mut command = Command::new("/bin/sh");
                command
                    .arg("-c")
                    .arg(format!("ulimit -n {limit} && exec \"$0\" serve"))
                    .arg(env!("CARGO_BIN_EXE_sigil"));
                command
            }
            None => {
                let mut command = Command::new(env!("CARGO_BIN_EXE_sigil"));
                command.arg("serve");
                command
            }
        };
        if let Some(uid) = uid {
            command.uid(uid).gid(uid);
        }
        let mut child = command
            .env_clear()
            .env("SIGIL_DATABASE_URL", &database.url)
            .env("SIGIL_GRPC_ADDR", grpc_addr.to_string())
            .env("SIGIL_HTTP_ADDR", http_addr.to_string())
            .env("SIGIL_BOOTSTRAP_CLIENT_ID", CLIENT_ID)
            .env("SIGIL_BOOTSTRAP_SECRET", SECRET)
            .env("SIGIL_SHUTDOWN_DELAY", "0s")
            // As in-process tests: many sign-ins from one address and account.
            .env("SIGIL_SIGN_IN_LIMIT_PER_ACCOUNT", "off")
            .env("SIGIL_SIGN_IN_LIMIT_PER_ADDRESS", "off")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the sigil binary");
        let (stdout, out_reader) = collect(child.stdout.take().unwrap());
        let (stderr, err_reader) = collect(child.stderr.take().unwrap());
        Self {
            child,
            grpc_addr,
            http_addr,
            database,
            stdout,
            stderr,
            readers: vec![out_reader, err_reader],
        }
    }

    /// Whether sigil reports SERVING within 15 s; false as soon as it has exited.
    async fn wait_serving(&mut self) -> bool {
        for _ in 0..300 {
            if let Ok(channel) = Channel::from_shared(format!("http://{}", self.grpc_addr))
                .unwrap()
                .connect()
                .await
                && let Ok(response) = HealthClient::new(channel)
                    .check(HealthCheckRequest::default())
                    .await
                && response.into_inner().status == 1
            {
                return true;
            }
            if self.child.try_wait().unwrap().is_some() {
                for reader in std::mem::take(&mut self.readers) {
                    let _ = tokio::time::timeout(Duration::from_secs(5), reader).await;
                }
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("sigil did not report SERVING; its output:\n{}", self.output());
    }

    /// A connection to the gRPC port.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.grpc_addr))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    /// A URL on the HTTP port.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http_addr)
    }

    /// Sends the process `signal` (such as `TERM` or `INT`).
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("still running");
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// Waits for the process to exit, at most `limit`, and for the last of its output.
    pub async fn wait(&mut self, limit: Duration) -> ExitStatus {
        let status = match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(status) => status.unwrap(),
            Err(_) => panic!(
                "sigil did not exit within {limit:?}; its output:\n{}",
                self.output()
            ),
        };
        for reader in std::mem::take(&mut self.readers) {
            let _ = tokio::time::timeout(Duration::from_secs(5), reader).await;
        }
        status
    }

    /// The log lines so far (sigil logs to standard output).
    pub fn log_lines(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// Everything written so far, for failure messages.
    pub fn output(&self) -> String {
        let mut lines = self.log_lines();
        lines.extend(self.stderr.lock().unwrap().iter().cloned());
        lines.join("\n")
    }
}

/// Runs `sigil` with `args` to its end (one-off commands such as `keys rotate`), with only `env`
/// for environment, and returns what it printed and its exit status.
pub async fn run(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let run = Command::new(env!("CARGO_BIN_EXE_sigil"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("sigil finished within a minute")
        .expect("run the sigil binary")
}
