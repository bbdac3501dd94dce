//! Password login throughput against the raw argon2id rate of the same machine, over gRPC (HTTP/2,
//! as sigil's own clients call) and over REST (HTTP/1.1 JSON, as browsers and Frontegg's SDKs do).

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context;
use bytes::Bytes;
use http::{Method, StatusCode, header};
use http_body_util::Full;
use sigil::{
    domain::password::{self, Password},
    transport::grpc::pb::{self, auth_service_client::AuthServiceClient},
};

use super::{Args, PASSWORD, Run, Server, drive_keep, h2, rest, seed_users, sqlite_url};

/// Users signing in (at least one per REST connection); gRPC gives each its own stream, REST
/// connections take turns with them.
const USERS: usize = 32;

/// How the load generator signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Over {
    /// gRPC `Login`: one stream per user, all on one HTTP/2 connection.
    Grpc,
    /// `POST /identity/resources/auth/v1/user` over this many HTTP/1.1 keep-alive connections,
    /// each sending its next request when the previous answer has arrived (as wrk does).
    Rest { connections: usize },
}

/// Verifications per second of argon2id at sigil's parameters, one thread per core, each reusing
/// its working memory: the machine's best rate, with nothing else to do.
pub fn argon2_rate(duration: Duration) -> f64 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let hash = password::hash(&Password::new(PASSWORD)).unwrap_or_default();
    let started = Instant::now();
    let threads: Vec<_> = (0..cores)
        .map(|_| {
            let hash = hash.clone();
            std::thread::spawn(move || {
                let mut workspace = password::Workspace::default();
                let mut n = 0u64;
                while started.elapsed() < duration {
                    let _ = password::verify_in(&Password::new(PASSWORD), &hash, &mut workspace);
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = threads.into_iter().map(|t| t.join().unwrap_or(0)).sum();
    total as f64 / started.elapsed().as_secs_f64()
}

/// Failed sign-ins by kind (gRPC code, HTTP status, or connection failure): how many, and what
/// the first one said.
pub type Failures = Arc<Mutex<BTreeMap<String, (u64, String)>>>;

fn fail(failures: &Failures, kind: String, said: impl FnOnce() -> String) {
    let mut failures = failures.lock().unwrap_or_else(|e| e.into_inner());
    let entry = failures.entry(kind).or_insert_with(|| (0, said()));
    entry.0 += 1;
}

/// One signing-in worker.
enum Caller {
    Grpc {
        client: AuthServiceClient<h2::Connection>,
        email: String,
    },
    Rest {
        connection: rest::Connection,
        /// The JSON bodies of the users this connection signs in, taken in turn.
        bodies: Vec<Bytes>,
        next: usize,
    },
}

impl Caller {
    async fn login(&mut self, failures: &Failures) -> bool {
        match self {
            Caller::Grpc { client, email } => {
                let answer = client
                    .login(pb::LoginRequest {
                        email: email.clone(),
                        password: PASSWORD.into(),
                        ..Default::default()
                    })
                    .await;
                match answer {
                    Ok(_) => true,
                    Err(status) => {
                        fail(failures, format!("gRPC {:?}", status.code()), || {
                            status.message().to_owned()
                        });
                        false
                    }
                }
            }
            Caller::Rest {
                connection,
                bodies,
                next,
            } => {
                let body = bodies[*next % bodies.len()].clone();
                *next += 1;
                let request = connection
                    .request(Method::POST, "/identity/resources/auth/v1/user")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Full::new(body));
                let request = match request {
                    Ok(request) => request,
                    Err(error) => {
                        fail(failures, "request".into(), || error.to_string());
                        return false;
                    }
                };
                match connection.send(request).await {
                    Ok(answer) if answer.status == StatusCode::OK => true,
                    Ok(answer) => {
                        fail(failures, format!("HTTP {}", answer.status.as_u16()), || {
                            answer.describe()
                        });
                        false
                    }
                    Err(error) => {
                        fail(failures, "connection".into(), || format!("{error:#}"));
                        false
                    }
                }
            }
        }
    }
}

/// One run of a login scenario.
pub struct LoginRun {
    /// The login slices together.
    pub run: Run,
    /// Login rate over raw argon2id rate, one per slice pair.
    pub ratios: Vec<f64>,
    /// Raw argon2id rate of each slice.
    pub raws: Vec<f64>,
    /// Failed sign-ins by kind: how many, and what the first one said.
    pub failures: BTreeMap<String, (u64, String)>,
    /// Connections the REST load generator had to open again because the server closed one.
    pub reconnects: u64,
}

/// Login throughput against the raw argon2id rate, measured in alternating slices of equal length
/// (raw hashing in this process while the server idles, then the login flood), so that drift in
/// the machine's speed falls on both alike. The callers (and their connections) are kept from
/// one slice to the next.
pub async fn login_run(args: &Args, over: Over) -> anyhow::Result<LoginRun> {
    const SLICE: Duration = Duration::from_secs(3);
    let server = Server::start(&args.server, sqlite_url()).await?;
    let channel = server.channel().await?;
    let users = match over {
        Over::Grpc => USERS,
        Over::Rest { connections } => USERS.max(connections),
    };
    let emails = seed_users(&channel, users).await?;
    let mut callers = Vec::new();
    match over {
        Over::Grpc => {
            let h2 = h2::connect(&server.grpc).await?;
            for email in &emails {
                callers.push(Caller::Grpc {
                    client: AuthServiceClient::with_origin(h2.clone(), server.grpc.parse()?),
                    email: email.clone(),
                });
            }
        }
        Over::Rest { connections } => {
            let connections = connections.max(1);
            for c in 0..connections {
                let bodies = emails
                    .iter()
                    .skip(c)
                    .step_by(connections)
                    .map(|email| {
                        Bytes::from(serde_json::json!({ "email": email, "password": PASSWORD }).to_string())
                    })
                    .collect();
                callers.push(Caller::Rest {
                    connection: rest::Connection::open(&server.http).await?,
                    bodies,
                    next: 0,
                });
            }
        }
    }
    let failures: Failures = Arc::default();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (rss_idle_kib, _) = server.memory();
    let rounds = (args.seconds as u32).div_ceil(SLICE.as_secs() as u32).max(1);
    let (mut ratios, mut raws) = (Vec::new(), Vec::new());
    let mut total: Option<Run> = None;
    let mut states: Vec<(Caller, Failures)> = callers.into_iter().map(|c| (c, failures.clone())).collect();
    for _ in 0..rounds {
        let raw = tokio::task::spawn_blocking(move || argon2_rate(SLICE)).await?;
        let (run, back) = drive_keep(
            &server,
            states,
            SLICE,
            |(mut caller, failures): (Caller, Failures)| async move {
                let ok = caller.login(&failures).await;
                ((caller, failures), ok)
            },
        )
        .await?;
        states = back;
        ratios.push(run.throughput() / raw);
        raws.push(raw);
        total = Some(match total {
            None => run,
            Some(mut sum) => {
                sum.ops += run.ops;
                sum.errors += run.errors;
                sum.elapsed += run.elapsed;
                sum.latency.add(&run.latency)?;
                sum.rss_peak_kib = sum.rss_peak_kib.max(run.rss_peak_kib);
                sum
            }
        });
    }
    let reconnects = states
        .iter()
        .map(|(caller, _)| match caller {
            Caller::Rest { connection, .. } => connection.reconnects,
            Caller::Grpc { .. } => 0,
        })
        .sum();
    drop(states);
    server.stop().await;
    let mut run = total.context("no rounds")?;
    run.rss_idle_kib = rss_idle_kib;
    let failures = failures.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Ok(LoginRun {
        run,
        ratios,
        raws,
        failures,
        reconnects,
    })
}
