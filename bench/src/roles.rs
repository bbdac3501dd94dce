//! Roles on the hot paths. Sign-in of users who hold 50 roles of 20 permissions each, against
//! users who hold none, in alternating runs: the access a token carries is read in one statement,
//! so the roles should cost next to nothing beside the password hash. And the paged role listing
//! over 10,000 roles, a page at a time: filtered, sorted and paged by the database.

use std::time::Instant;

use anyhow::Context;
use hdrhistogram::Histogram;
use sigil::transport::grpc::pb::{
    self, auth_service_client::AuthServiceClient,
    environment_auth_service_client::EnvironmentAuthServiceClient,
    permission_service_client::PermissionServiceClient, role_service_client::RoleServiceClient,
    user_service_client::UserServiceClient,
};
use tonic::transport::Channel;

use super::{
    Args, CLIENT_ID, PASSWORD, Run, SECRET, Server, bearer, drive, fresh_postgres, h2, median, report,
    seed_users, sqlite_url,
};

/// Users signing in at once, each on its own stream.
const USERS: usize = 32;
/// Roles each heavy user holds.
const ROLES: usize = 50;
/// Permissions each of those roles grants (all distinct).
const PERMISSIONS_PER_ROLE: usize = 20;

/// Runs the scenario `--repeat` times and reports both kinds and the median ratio of the pairs.
pub(super) async fn run(args: &Args) -> anyhow::Result<()> {
    let (mut none, mut heavy, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..args.repeat {
        let without = login_run(args, false).await?;
        let with = login_run(args, true).await?;
        ratios.push(with.throughput() / without.throughput());
        none.push(without);
        heavy.push(with);
    }
    report(&format!("login (SQLite, {USERS} users holding no role)"), none);
    report(
        &format!("login (SQLite, {USERS} users holding {ROLES} roles of {PERMISSIONS_PER_ROLE} permissions)"),
        heavy,
    );
    println!(
        "login with {ROLES} roles x {PERMISSIONS_PER_ROLE} permissions / with none, over {} pairs: median {:.3} (runs: {})",
        ratios.len(),
        median(ratios.clone(), |r| *r),
        ratios
            .iter()
            .map(|r| format!("{r:.3}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

/// One run: users holding no role, or `ROLES` roles each, sign in for `--seconds`.
async fn login_run(args: &Args, holding: bool) -> anyhow::Result<Run> {
    let server = Server::start(&args.server, sqlite_url()).await?;
    let channel = server.channel().await?;
    let emails = seed_users(&channel, USERS).await?;
    give_roles(&channel, &emails, holding).await?;
    let h2 = h2::connect(&server.grpc).await?;
    let mut states = Vec::new();
    for email in emails {
        states.push((
            AuthServiceClient::with_origin(h2.clone(), server.grpc.parse()?),
            email,
        ));
    }
    drive(
        &server,
        states,
        std::time::Duration::from_secs(args.seconds),
        |(mut client, email): (AuthServiceClient<h2::Connection>, String)| async move {
            let ok = client
                .login(pb::LoginRequest {
                    email: email.clone(),
                    password: PASSWORD.into(),
                    ..Default::default()
                })
                .await
                .is_ok();
            ((client, email), ok)
        },
    )
    .await
}

/// Takes the built-in roles every seeded user got, and, when `holding`, gives each `ROLES` roles
/// of `PERMISSIONS_PER_ROLE` permissions each.
async fn give_roles(channel: &Channel, emails: &[String], holding: bool) -> anyhow::Result<()> {
    let token = environment_token(channel).await?;
    let tenant = emails[0]
        .split_once('@')
        .and_then(|(_, domain)| domain.strip_suffix(".load.test"))
        .context("a seeded email names its tenant")?
        .to_owned();
    let mut roles = RoleServiceClient::new(channel.clone());
    let built_in: Vec<String> = roles
        .list_roles(bearer(pb::ListRolesRequest::default(), &token))
        .await?
        .into_inner()
        .roles
        .into_iter()
        .map(|r| r.id)
        .collect();
    let mut granted = Vec::new();
    if holding {
        let permissions: Vec<String> = PermissionServiceClient::new(channel.clone())
            .create_permissions(bearer(
                pb::CreatePermissionsRequest {
                    permissions: (0..ROLES * PERMISSIONS_PER_ROLE)
                        .map(|i| pb::NewPermission {
                            key: format!("bench.things-{i}.read"),
                            name: format!("Read things {i}"),
                            ..Default::default()
                        })
                        .collect(),
                },
                &token,
            ))
            .await?
            .into_inner()
            .permissions
            .into_iter()
            .map(|p| p.id)
            .collect();
        let created = roles
            .create_roles(bearer(
                pb::CreateRolesRequest {
                    roles: (0..ROLES)
                        .map(|i| pb::NewRole {
                            key: format!("bench-role-{i}"),
                            name: format!("Bench role {i}"),
                            level: 10,
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                },
                &token,
            ))
            .await?
            .into_inner()
            .roles;
        for (role, permission_ids) in created.iter().zip(permissions.chunks(PERMISSIONS_PER_ROLE)) {
            roles
                .set_role_permissions(bearer(
                    pb::SetRolePermissionsRequest {
                        role_id: role.id.clone(),
                        permission_ids: permission_ids.to_vec(),
                    },
                    &token,
                ))
                .await?;
        }
        granted = created.into_iter().map(|r| r.id).collect();
    }
    let mut users = UserServiceClient::new(channel.clone());
    for email in emails {
        let user_id = users
            .get_user_by_email(bearer(pb::GetUserByEmailRequest { email: email.clone() }, &token))
            .await?
            .into_inner()
            .user
            .context("the seeded user")?
            .id;
        roles
            .unassign_user_roles(bearer(
                pb::UnassignUserRolesRequest {
                    user_id: user_id.clone(),
                    tenant_id: tenant.clone(),
                    role_ids: built_in.clone(),
                },
                &token,
            ))
            .await?;
        if holding {
            let held = roles
                .assign_user_roles(bearer(
                    pb::AssignUserRolesRequest {
                        user_id,
                        tenant_id: tenant.clone(),
                        role_ids: granted.clone(),
                    },
                    &token,
                ))
                .await?
                .into_inner()
                .roles;
            anyhow::ensure!(held.len() == ROLES, "a user holds {} roles", held.len());
        }
    }
    Ok(())
}

/// Roles in the environment of the listing scenario.
const LISTED_ROLES: usize = 10_000;
/// Roles per page of the listing.
const PAGE: i32 = 100;

/// Pages through `LISTED_ROLES` roles, `PAGE` at a time, in several orders, on SQLite and on
/// PostgreSQL, one call at a time; reports the latency of a page call (p50, p99, max) per
/// database over `--repeat` walks.
pub(super) async fn listing(args: &Args) -> anyhow::Result<()> {
    for (database, url) in [
        ("SQLite", sqlite_url()),
        ("PostgreSQL", fresh_postgres(&args.postgres).await?),
    ] {
        let server = Server::start(&args.server, url.clone()).await?;
        let channel = server.channel().await?;
        let token = environment_token(&channel).await?;
        let mut roles = RoleServiceClient::new(channel.clone());
        for batch in 0..LISTED_ROLES / 1000 {
            roles
                .create_roles(bearer(
                    pb::CreateRolesRequest {
                        roles: (batch * 1000..(batch + 1) * 1000)
                            .map(|i| pb::NewRole {
                                key: format!("listed-{i:05}"),
                                name: format!("Listed role {}", (i * 7919) % LISTED_ROLES),
                                description: format!("Role number {i} of the listing benchmark"),
                                level: (i % 50) as i32,
                                ..Default::default()
                            })
                            .collect(),
                        ..Default::default()
                    },
                    &token,
                ))
                .await?;
        }
        if database == "PostgreSQL" {
            // What autovacuum does within a minute of a bulk import (PostgreSQL 13 and later
            // vacuum after inserts too): without the analysis the planner still believes the
            // table empty, and without the visibility map every index-only read visits the heap.
            let db = sea_orm::Database::connect(url.as_str()).await?;
            sea_orm::ConnectionTrait::execute_unprepared(&db, "VACUUM (ANALYZE) roles").await?;
            db.close().await?;
        }
        let mut latency = Histogram::<u64>::new(3)?;
        let mut pages = 0;
        let orders = [
            pb::RoleSortBy::CreatedAt,
            pb::RoleSortBy::Name,
            pb::RoleSortBy::Level,
            pb::RoleSortBy::Permissions,
        ];
        let mut by_order: Vec<Histogram<u64>> = orders
            .iter()
            .map(|_| Histogram::new(3))
            .collect::<Result<_, _>>()?;
        for _ in 0..args.repeat {
            for (sort_by, of_order) in orders.iter().copied().zip(by_order.iter_mut()) {
                let mut offset = 0;
                loop {
                    let started = Instant::now();
                    let page = roles
                        .list_roles_paged(bearer(
                            pb::ListRolesPagedRequest {
                                limit: PAGE,
                                offset,
                                sort_by: sort_by.into(),
                                ..Default::default()
                            },
                            &token,
                        ))
                        .await?
                        .into_inner();
                    let took = started.elapsed().as_micros() as u64;
                    latency.record(took)?;
                    of_order.record(took)?;
                    pages += 1;
                    anyhow::ensure!(
                        page.total_items as usize >= LISTED_ROLES,
                        "{} roles listed",
                        page.total_items
                    );
                    offset += PAGE;
                    if offset as i64 >= page.total_items {
                        break;
                    }
                }
            }
        }
        let ms = |quantile: f64| latency.value_at_quantile(quantile) as f64 / 1000.0;
        println!(
            "role listing ({database}, {LISTED_ROLES} roles, {PAGE} a page, 4 orders, {pages} pages): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            ms(0.5),
            ms(0.99),
            latency.max() as f64 / 1000.0
        );
        for (sort_by, of_order) in orders.iter().zip(&by_order) {
            println!(
                "  by {sort_by:?}: p50 {:.2} ms, p99 {:.2} ms",
                of_order.value_at_quantile(0.5) as f64 / 1000.0,
                of_order.value_at_quantile(0.99) as f64 / 1000.0
            );
        }
        server.stop().await;
    }
    Ok(())
}

/// A token of the benchmark's environment.
async fn environment_token(channel: &Channel) -> anyhow::Result<String> {
    Ok(EnvironmentAuthServiceClient::new(channel.clone())
        .authenticate_vendor(pb::AuthenticateVendorRequest {
            client_id: CLIENT_ID.into(),
            secret: SECRET.into(),
        })
        .await?
        .into_inner()
        .token)
}
