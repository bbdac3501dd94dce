//! Starts the sigil binary on SQLite in a temporary directory, on free loopback ports, with
//! bootstrap credentials, as compat/lib/sigil.js does for the JS suite; stops it when dropped.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::Stdio,
    time::{Duration, Instant},
};

use tokio::process::{Child, Command};

pub struct Sigil {
    pub url: String,
    pub client_id: String,
    pub secret: String,
    child: Child,
    _dir: TempDir,
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn binary() -> PathBuf {
    match std::env::var_os("SIGIL_BIN") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/debug/sigil"),
    }
}

impl Sigil {
    pub async fn start() -> Self {
        let binary = binary();
        assert!(
            binary.exists(),
            "no sigil at {}: run `cargo build` or set SIGIL_BIN",
            binary.display()
        );
        let dir = std::env::temp_dir().join(format!("sigil-compat-rust-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let dir = TempDir(dir);
        let client_id = uuid::Uuid::new_v4().to_string();
        let secret = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        // A port found free may be taken before sigil binds it: try again with new ones.
        for _ in 0..3 {
            let (http, grpc) = (free_port(), free_port());
            let url = format!("http://127.0.0.1:{http}");
            let mut child = Command::new(&binary)
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env(
                    "SIGIL_DATABASE_URL",
                    format!("sqlite://{}/sigil.db?mode=rwc", dir.0.display()),
                )
                .env("SIGIL_HTTP_ADDR", format!("127.0.0.1:{http}"))
                .env("SIGIL_GRPC_ADDR", format!("127.0.0.1:{grpc}"))
                .env("SIGIL_PUBLIC_URL", &url)
                .env("SIGIL_BOOTSTRAP_CLIENT_ID", &client_id)
                .env("SIGIL_BOOTSTRAP_SECRET", &secret)
                .env("SIGIL_COOKIE_SECURE", "false")
                .env("SIGIL_SHUTDOWN_DELAY", "0s")
                .env(
                    "SIGIL_LOG",
                    std::env::var("SIGIL_LOG").unwrap_or_else(|_| "warn".into()),
                )
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .expect("sigil starts");
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                let ready = reqwest::get(format!("{url}/readyz")).await;
                if ready.is_ok_and(|r| r.status().is_success()) {
                    return Self {
                        url,
                        client_id,
                        secret,
                        child,
                        _dir: dir,
                    };
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let _ = child.kill().await;
        }
        panic!("sigil did not become ready");
    }

    /// Frontegg's client, configured for this sigil by its base URL alone.
    pub fn client(&self) -> frontegg::Client {
        frontegg::Client::builder()
            .with_vendor_endpoint(self.url.parse().unwrap())
            .build(frontegg::ClientConfig {
                client_id: self.client_id.clone(),
                secret_key: self.secret.clone(),
            })
    }
}

impl Drop for Sigil {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
