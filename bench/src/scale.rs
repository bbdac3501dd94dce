//! `sigil-bench scale`: what a listing, a lookup, a creation and a sign-in cost on a large
//! database (1,000,000 users by default: one big tenant and a tenant of 1,000) against the same
//! calls on a database of 1,000 users in all (that tenant alone), in the same run, over REST.
//!
//!   sigil-bench scale --users 1000000 --database sqlite,postgres
//!
//! Seeding a million users through the API would take hours (each creation is a transaction,
//! each password an argon2id hash), so the server creates the tenants and one template user per
//! tenant, then stops, and the users are cloned from the templates in bulk SQL (multi-row
//! INSERTs, thousands of rows per transaction): every clone copies its template's columns,
//! password hash included, except its id, email and timestamps. Copying the columns the database
//! has, rather than naming them, keeps the seeding working when migrations add columns.

mod seed;

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use bytes::Bytes;
use hdrhistogram::Histogram;
use http::{Method, Request, StatusCode, header};
use http_body_util::Full;
use sigil::transport::grpc::pb::{
    self, environment_auth_service_client::EnvironmentAuthServiceClient,
    tenant_service_client::TenantServiceClient, user_service_client::UserServiceClient,
};
use tonic::transport::Channel;

use super::{
    Args, CLIENT_ID, PASSWORD, SECRET, Server, bearer, drop_postgres, fresh_postgres, load::Database, rest,
    tempfile_dir,
};

/// Settings of the `scale` command.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct ScaleArgs {
    /// Users of the large database, in all: the small tenant's and the big tenant's.
    #[arg(long, default_value_t = 1_000_000)]
    users: u64,
    /// Users of the small tenant. The reference database holds this tenant alone.
    #[arg(long, default_value_t = 1_000)]
    small: u64,
    /// Databases to measure, comma-separated: sqlite, postgres (a fresh database on the
    /// --postgres server, dropped afterwards).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "sqlite")]
    database: Vec<Database>,
    /// Users per page of the listings (`_limit`).
    #[arg(long, default_value_t = 50)]
    page_size: u64,
}

/// The big tenant: every user of the large database outside the small tenant.
const BIG: &str = "scale-big";
/// The tenant of `--small` users, in both databases.
const SMALL: &str = "scale-small";
/// The tenant the creations go to, so that they change neither tenant measured.
const CREATED: &str = "scale-created";

/// Unmeasured requests before each measurement; the first one's answer is checked.
const WARM_UP: u64 = 2;
/// Requests measured at least, however long they take.
const MIN_SAMPLES: u64 = 3;

/// A tenant whose listing is measured.
#[derive(Debug, Clone, Copy)]
enum Tenant {
    /// The big tenant; in the reference database, which has none, the small tenant.
    Big,
    Small,
}

/// Which page of a listing.
#[derive(Debug, Clone, Copy)]
enum PageAt {
    First,
    Last,
}

/// How a page is asked for.
#[derive(Debug, Clone, Copy)]
enum Paging {
    /// `_offset`, a page number.
    Offset,
    /// `_cursor`, the `_nextCursor` of the page before: taken once, before the measured
    /// requests, from an answer to the page before asked by offset.
    Cursor,
}

/// One kind of measured request.
#[derive(Debug, Clone, Copy)]
enum Probe {
    /// `GET /identity/resources/users/v3` of a tenant (by `frontegg-tenant-id`), or of the
    /// whole environment.
    List {
        tenant: Option<Tenant>,
        at: PageAt,
        paging: Paging,
    },
    /// `GET /identity/resources/users/v1/{id}` with the user's tenant.
    GetById,
    /// `GET /identity/resources/users/v1/email?email=`.
    GetByEmail,
    /// `POST /identity/resources/users/v2`, without a password, so no hashing.
    Create,
    /// `POST /identity/resources/auth/v1/user`: the lookup and the argon2id verification.
    Login,
}

/// Every measurement, in order: reads first, so creations do not change what they read.
const PROBES: [(&str, Probe); 11] = [
    (
        "list, small tenant, first page",
        Probe::List {
            tenant: Some(Tenant::Small),
            at: PageAt::First,
            paging: Paging::Offset,
        },
    ),
    (
        "list, small tenant, last page",
        Probe::List {
            tenant: Some(Tenant::Small),
            at: PageAt::Last,
            paging: Paging::Offset,
        },
    ),
    (
        "list, small tenant, last page by cursor",
        Probe::List {
            tenant: Some(Tenant::Small),
            at: PageAt::Last,
            paging: Paging::Cursor,
        },
    ),
    (
        "list, big tenant, first page",
        Probe::List {
            tenant: Some(Tenant::Big),
            at: PageAt::First,
            paging: Paging::Offset,
        },
    ),
    (
        "list, big tenant, last page",
        Probe::List {
            tenant: Some(Tenant::Big),
            at: PageAt::Last,
            paging: Paging::Offset,
        },
    ),
    (
        "list, big tenant, last page by cursor",
        Probe::List {
            tenant: Some(Tenant::Big),
            at: PageAt::Last,
            paging: Paging::Cursor,
        },
    ),
    (
        "list, whole environment, first page",
        Probe::List {
            tenant: None,
            at: PageAt::First,
            paging: Paging::Offset,
        },
    ),
    ("get user by id", Probe::GetById),
    ("get user by email", Probe::GetByEmail),
    ("create user (no password)", Probe::Create),
    ("login (password)", Probe::Login),
];

/// A seeded user the lookups and sign-ins pick.
#[derive(Debug, Clone)]
pub struct Sampled {
    pub id: String,
    pub email: String,
    pub tenant: &'static str,
}

/// A server on a seeded database.
struct Deployment {
    server: Server,
    /// The SQLite file's directory.
    _dir: Option<tempfile_dir::Dir>,
    /// The PostgreSQL database to drop at the end.
    postgres: Option<String>,
    /// An environment token.
    token: String,
    /// Users in all.
    total: u64,
    /// Members of the big tenant, if there is one.
    big: Option<u64>,
    /// Members of the small tenant.
    small: u64,
    sample: Vec<Sampled>,
    /// Time of the bulk SQL, and of the whole set-up (servers' starts and the API calls too).
    seeding: Duration,
    setup: Duration,
    /// Numbers the requests, so each creation has a new email.
    next: AtomicU64,
    /// Unique to this run, for the emails of created users.
    run: String,
}

/// What one measurement gathered.
struct Measured {
    latency: Histogram<u64>,
    samples: u64,
    errors: u64,
    first_error: Option<String>,
    elapsed: Duration,
}

impl Measured {
    fn ms(&self, quantile: f64) -> f64 {
        self.latency.value_at_quantile(quantile) as f64 / 1e6
    }
}

/// Runs the `scale` command.
pub async fn run(args: &Args, scale: &ScaleArgs) -> anyhow::Result<()> {
    if scale.small < 2 || scale.users < scale.small {
        bail!("--small must be at least 2 (the lookups pick seeded users) and --users at least --small");
    }
    if !(1..=200).contains(&scale.page_size) {
        bail!("--page-size must be between 1 and 200");
    }
    let duration = Duration::from_secs(args.seconds.max(1));
    for database in &scale.database {
        let name = match database {
            Database::Sqlite => "SQLite",
            Database::Postgres => "PostgreSQL",
        };
        println!(
            "scale on {name}: {} users against {} users; {} s per measurement (at least {MIN_SAMPLES} requests), one request at a time over one HTTP/1.1 keep-alive connection",
            thousands(scale.users),
            thousands(scale.small),
            duration.as_secs()
        );
        let mut deployments = Vec::new();
        let measured = compare(args, scale, *database, name, duration, &mut deployments).await;
        for deployment in deployments {
            deployment.server.stop().await;
            if let Some(database) = deployment.postgres {
                drop_postgres(&args.postgres, &database).await?;
            }
        }
        measured?;
    }
    Ok(())
}

/// Seeds the reference and the large database (into `deployments`, which the caller stops and
/// drops whatever happens), measures both and prints the comparison.
async fn compare(
    args: &Args,
    scale: &ScaleArgs,
    database: Database,
    name: &str,
    duration: Duration,
    deployments: &mut Vec<Deployment>,
) -> anyhow::Result<()> {
    deployments.push(deploy(args, database, scale.small, scale.small).await?);
    print_seeding(name, &deployments[0]);
    deployments.push(deploy(args, database, scale.users, scale.small).await?);
    print_seeding(name, &deployments[1]);
    let (reference, large) = (&deployments[0], &deployments[1]);
    let mut rows = Vec::new();
    for (probe_name, probe) in PROBES {
        // The two databases take turns, so that drift in the machine's speed falls on both.
        let small = measure(reference, probe_name, probe, scale.page_size, duration).await?;
        let big = measure(large, probe_name, probe, scale.page_size, duration).await?;
        rows.push((probe_name, probe, small, big));
    }
    print_table(name, scale, reference, large, &rows);
    Ok(())
}

/// Starts a server on a new database of `total` users: a tenant of `small` users and, when
/// `total` is larger, a big tenant of the rest.
async fn deploy(args: &Args, database: Database, total: u64, small: u64) -> anyhow::Result<Deployment> {
    let started = Instant::now();
    match database {
        Database::Sqlite => {
            let dir = tempfile_dir::Dir::new()?;
            let url = format!("sqlite://{}?mode=rwc", dir.0.join("scale.db").display());
            let mut deployment = set_up(args, &url, total, small, started).await?;
            deployment._dir = Some(dir);
            Ok(deployment)
        }
        Database::Postgres => {
            let url = fresh_postgres(&args.postgres).await?;
            match set_up(args, &url, total, small, started).await {
                Ok(mut deployment) => {
                    deployment.postgres = Some(url);
                    Ok(deployment)
                }
                Err(error) => {
                    drop_postgres(&args.postgres, &url).await?;
                    Err(error)
                }
            }
        }
    }
}

/// Seeds the new database at `url` and starts a server on it.
async fn set_up(
    args: &Args,
    url: &str,
    total: u64,
    small: u64,
    started: Instant,
) -> anyhow::Result<Deployment> {
    // The server runs its migrations and creates the environment; the API creates the tenants
    // and one template user (with a password) per tenant.
    let server = Server::start(&args.server, url.to_owned()).await?;
    let channel = server.channel().await?;
    let token = vendor_token(&channel).await?;
    let big = total - small;
    let mut templates = Vec::new();
    if big > 0 {
        templates.push(seed::Template {
            tenant: BIG,
            user_id: template(&channel, &token, BIG).await?,
            clones: big - 1,
        });
    }
    templates.push(seed::Template {
        tenant: SMALL,
        user_id: template(&channel, &token, SMALL).await?,
        clones: small - 1,
    });
    create_tenant(&channel, &token, CREATED).await?;
    server.stop().await;

    let bulk = Instant::now();
    let sample = seed::clone_users(url, &templates).await?;
    let seeding = bulk.elapsed();

    let server = Server::start(&args.server, url.to_owned()).await?;
    let token = vendor_token(&server.channel().await?).await?;
    Ok(Deployment {
        server,
        _dir: None,
        postgres: None,
        token,
        total,
        big: (big > 0).then_some(big),
        small,
        sample,
        seeding,
        setup: started.elapsed(),
        next: AtomicU64::new(0),
        run: uuid::Uuid::new_v4().simple().to_string()[..8].to_owned(),
    })
}

async fn vendor_token(channel: &Channel) -> anyhow::Result<String> {
    Ok(EnvironmentAuthServiceClient::new(channel.clone())
        .authenticate_vendor(pb::AuthenticateVendorRequest {
            client_id: CLIENT_ID.into(),
            secret: SECRET.into(),
        })
        .await
        .context("authenticating with the environment's credentials")?
        .into_inner()
        .token)
}

async fn create_tenant(channel: &Channel, token: &str, tenant: &str) -> anyhow::Result<()> {
    TenantServiceClient::new(channel.clone())
        .create_tenant(bearer(
            pb::CreateTenantRequest {
                tenant_id: tenant.into(),
                name: tenant.into(),
                ..Default::default()
            },
            token,
        ))
        .await
        .with_context(|| format!("creating tenant {tenant}"))?;
    Ok(())
}

/// Creates `tenant` and its template user, whose password all its clones share; returns the
/// template's id.
async fn template(channel: &Channel, token: &str, tenant: &str) -> anyhow::Result<String> {
    create_tenant(channel, token, tenant).await?;
    UserServiceClient::new(channel.clone())
        .create_user(bearer(
            pb::CreateUserRequest {
                tenant_id: tenant.into(),
                email: format!("template@{tenant}.scale.test"),
                name: "Scale test user".into(),
                password: Some(PASSWORD.into()),
                ..Default::default()
            },
            token,
        ))
        .await
        .with_context(|| format!("creating the template user of {tenant}"))?
        .into_inner()
        .user
        .map(|user| user.id)
        .context("no user in the answer")
}

impl Deployment {
    /// Members of `tenant` (the small tenant stands in for a big one this database lacks).
    fn members(&self, tenant: Option<Tenant>) -> u64 {
        match tenant {
            None => self.total,
            Some(Tenant::Big) => self.big.unwrap_or(self.small),
            Some(Tenant::Small) => self.small,
        }
    }

    fn tenant_id(&self, tenant: Tenant) -> &'static str {
        match tenant {
            Tenant::Big if self.big.is_some() => BIG,
            _ => SMALL,
        }
    }

    /// The `n`th request of `probe`, and the status it must get; `cursor` is the cursor of the
    /// page a listing by cursor asks for (none for the first page).
    fn request(
        &self,
        connection: &rest::Connection,
        probe: Probe,
        page_size: u64,
        cursor: Option<&str>,
    ) -> anyhow::Result<(Request<Full<Bytes>>, StatusCode)> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let user = &self.sample[n as usize % self.sample.len()];
        let bearer = format!("Bearer {}", self.token);
        let (request, expected) = match probe {
            Probe::List { tenant, at, paging } => {
                let page = match at {
                    PageAt::First => 0,
                    PageAt::Last => self.members(tenant).saturating_sub(1) / page_size,
                };
                let query = match (paging, cursor) {
                    (Paging::Offset, _) => format!("_offset={page}"),
                    (Paging::Cursor, None) => "_offset=0".to_owned(),
                    (Paging::Cursor, Some(cursor)) => format!("_cursor={cursor}"),
                };
                (
                    self.listing(connection, tenant, page_size, &query)?,
                    StatusCode::OK,
                )
            }
            Probe::GetById => (
                connection
                    .request(Method::GET, &format!("/identity/resources/users/v1/{}", user.id))
                    .header(header::AUTHORIZATION, bearer)
                    .header("frontegg-tenant-id", user.tenant)
                    .body(Full::default())?,
                StatusCode::OK,
            ),
            Probe::GetByEmail => (
                connection
                    .request(
                        Method::GET,
                        &format!("/identity/resources/users/v1/email?email={}", user.email),
                    )
                    .header(header::AUTHORIZATION, bearer)
                    .body(Full::default())?,
                StatusCode::OK,
            ),
            Probe::Create => (
                connection
                    .request(Method::POST, "/identity/resources/users/v2")
                    .header(header::AUTHORIZATION, bearer)
                    .header(header::CONTENT_TYPE, "application/json")
                    .header("frontegg-tenant-id", CREATED)
                    .body(rest::json(&serde_json::json!({
                        "email": format!("new{n}-{}@{CREATED}.scale.test", self.run),
                        "name": "Created by the scale test",
                    })))?,
                StatusCode::CREATED,
            ),
            Probe::Login => (
                connection
                    .request(Method::POST, "/identity/resources/auth/v1/user")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(rest::json(
                        &serde_json::json!({ "email": user.email, "password": PASSWORD }),
                    ))?,
                StatusCode::OK,
            ),
        };
        Ok((request, expected))
    }

    /// A request for a page of `page_size` users of `tenant` (of the environment when none),
    /// where `query` says which.
    fn listing(
        &self,
        connection: &rest::Connection,
        tenant: Option<Tenant>,
        page_size: u64,
        query: &str,
    ) -> anyhow::Result<Request<Full<Bytes>>> {
        let mut request = connection
            .request(
                Method::GET,
                &format!("/identity/resources/users/v3?_limit={page_size}&{query}"),
            )
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token));
        if let Some(tenant) = tenant {
            request = request.header("frontegg-tenant-id", self.tenant_id(tenant));
        }
        Ok(request.body(Full::default())?)
    }

    /// Checks a listing's first answer against what was seeded: the total the server counts,
    /// and a full page (or the rest of the users on the last page).
    fn check(&self, probe: Probe, page_size: u64, answer: &rest::Answer) -> anyhow::Result<()> {
        let Probe::List { tenant, at, .. } = probe else {
            return Ok(());
        };
        let body = answer.json()?;
        let members = self.members(tenant);
        let total = body["_metadata"]["totalItems"].as_u64();
        let items = body["items"].as_array().map_or(0, Vec::len) as u64;
        let expected_items = match at {
            PageAt::First => members.min(page_size),
            PageAt::Last => members - (members.saturating_sub(1) / page_size) * page_size,
        };
        if total != Some(members) || items != expected_items {
            bail!(
                "the listing counts {total:?} users and shows {items} where {members} and {expected_items} were seeded"
            );
        }
        Ok(())
    }
}

/// Times `probe` on `deployment` for `duration` (and at least [`MIN_SAMPLES`] requests), one
/// request at a time on one keep-alive connection, after [`WARM_UP`] unmeasured ones.
async fn measure(
    deployment: &Deployment,
    name: &str,
    probe: Probe,
    page_size: u64,
    duration: Duration,
) -> anyhow::Result<Measured> {
    let mut connection = rest::Connection::open(&deployment.server.http).await?;
    let cursor = cursor_of(deployment, &mut connection, probe, page_size)
        .await
        .with_context(|| format!("{name}, {} users: taking the cursor", thousands(deployment.total)))?;
    let cursor = cursor.as_deref();
    for i in 0..WARM_UP {
        let (request, expected) = deployment.request(&connection, probe, page_size, cursor)?;
        let answer = connection.send(request).await?;
        if answer.status != expected {
            bail!(
                "{name}, {} users: {} (expected {expected})",
                thousands(deployment.total),
                answer.describe()
            );
        }
        if i == 0 {
            deployment
                .check(probe, page_size, &answer)
                .with_context(|| format!("{name}, {} users", thousands(deployment.total)))?;
        }
    }
    let mut measured = Measured {
        latency: Histogram::new_with_bounds(1, 600_000_000_000, 3)?,
        samples: 0,
        errors: 0,
        first_error: None,
        elapsed: Duration::ZERO,
    };
    let started = Instant::now();
    while started.elapsed() < duration || measured.samples < MIN_SAMPLES {
        let (request, expected) = deployment.request(&connection, probe, page_size, cursor)?;
        let at = Instant::now();
        let answer = connection.send(request).await;
        let _ = measured.latency.record((at.elapsed().as_nanos() as u64).max(1));
        measured.samples += 1;
        let failure = match answer {
            Ok(answer) if answer.status == expected => None,
            Ok(answer) => Some(answer.describe()),
            Err(error) => Some(format!("connection: {error}")),
        };
        if let Some(failure) = failure {
            measured.errors += 1;
            measured.first_error.get_or_insert(failure);
        }
    }
    measured.elapsed = started.elapsed();
    Ok(measured)
}

/// For a listing of the last page by cursor, the cursor of that page: the `_nextCursor` of the
/// page before, asked by offset. `None` for other probes, and when the last page is the first.
async fn cursor_of(
    deployment: &Deployment,
    connection: &mut rest::Connection,
    probe: Probe,
    page_size: u64,
) -> anyhow::Result<Option<String>> {
    let Probe::List {
        tenant,
        at: PageAt::Last,
        paging: Paging::Cursor,
    } = probe
    else {
        return Ok(None);
    };
    let last = deployment.members(tenant).saturating_sub(1) / page_size;
    if last == 0 {
        return Ok(None);
    }
    let request = deployment.listing(connection, tenant, page_size, &format!("_offset={}", last - 1))?;
    let answer = connection.send(request).await?;
    if answer.status != StatusCode::OK {
        bail!("{}", answer.describe());
    }
    let cursor = answer.json()?["_nextCursor"]
        .as_str()
        .map(str::to_owned)
        .context("the page before the last has no _nextCursor")?;
    Ok(Some(cursor))
}

fn print_seeding(database: &str, d: &Deployment) {
    println!(
        "seeded {} users ({database}): {:.1} s of bulk SQL ({} users/s), {:.1} s with the servers' start-ups and the API calls",
        thousands(d.total),
        d.seeding.as_secs_f64(),
        thousands((d.total as f64 / d.seeding.as_secs_f64().max(1e-9)) as u64),
        d.setup.as_secs_f64()
    );
}

/// Prints the comparison as a Markdown table.
fn print_table(
    database: &str,
    scale: &ScaleArgs,
    reference: &Deployment,
    large: &Deployment,
    rows: &[(&str, Probe, Measured, Measured)],
) {
    let (r, l) = (thousands(reference.total), thousands(large.total));
    let big = large.big.map_or_else(|| "none".to_owned(), thousands);
    println!(
        "\nscale, {database}, over REST, pages of {}: {r} users (one tenant of {r}) against {l} users (a tenant of {} and a big tenant of {big}); in the {r}-user database the big tenant's rows ask for its one tenant",
        scale.page_size,
        thousands(large.small),
    );
    let mut table = String::new();
    let _ = writeln!(
        table,
        "| operation | {r} users: p50 / p99 | {l} users: p50 / p99 | ratio of p50 / p99 | requests |"
    );
    let _ = writeln!(table, "|---|---|---|---|---|");
    let mut errors = BTreeMap::new();
    for (name, probe, small, big) in rows {
        let name = match probe {
            Probe::List {
                tenant: Some(tenant),
                at: PageAt::Last,
                ..
            } => format!(
                "{name} (page {} / page {})",
                reference.members(Some(*tenant)).saturating_sub(1) / scale.page_size,
                large.members(Some(*tenant)).saturating_sub(1) / scale.page_size,
            ),
            _ => (*name).to_owned(),
        };
        let _ = writeln!(
            table,
            "| {name} | {:.2} / {:.2} ms | {:.2} / {:.2} ms | {:.1}x / {:.1}x | {} / {} |",
            small.ms(0.5),
            small.ms(0.99),
            big.ms(0.5),
            big.ms(0.99),
            big.ms(0.5) / small.ms(0.5).max(1e-6),
            big.ms(0.99) / small.ms(0.99).max(1e-6),
            small.samples,
            big.samples,
        );
        for (label, m) in [(&r, small), (&l, big)] {
            if m.errors > 0 {
                errors.insert(
                    format!("{name}, {label} users"),
                    format!(
                        "{} of {} in {:.1} s (first: {})",
                        m.errors,
                        m.samples,
                        m.elapsed.as_secs_f64(),
                        m.first_error.as_deref().unwrap_or("")
                    ),
                );
            }
        }
    }
    print!("{table}");
    if errors.is_empty() {
        println!("errors: none");
    }
    for (what, error) in errors {
        println!("errors: {what}: {error}");
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
