//! Restarting on an existing database.

use sea_orm::ConnectionTrait;
use sigil::{domain::secret::Secret, transport::grpc::pb};

use crate::helpers::{
    Bearer, CLIENT_ID, SECRET, TestClock, TestDatabase, build, invitee, spawn_with, start, tenant,
    test_config,
};

#[tokio::test]
async fn data_credentials_and_tokens_survive_a_restart() {
    let clock = TestClock::new();
    let database = TestDatabase::new().await;
    let config = test_config(&database);
    let app = spawn_with(database, config.clone(), clock.clone()).await;
    let token = app.env_token().await;
    let (mut tenants, mut users) = app.clients().await;
    tenants.create_tenant(tenant("acme", "Acme")).await.unwrap();
    let ann = users
        .create_user(invitee("acme", "ann@example.com"))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    let database = app.stop().await;

    let app = spawn_with(database, config, clock).await;
    // The token from before the restart still verifies: the signing keys were kept.
    let mut users = app.users_with(Bearer::token(&token));
    let again = users
        .get_user(pb::GetUserRequest {
            user_id: ann.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(again, ann);
    app.env_token().await;
    assert_eq!(
        app.count("environments", "1=1").await,
        1,
        "bootstrap is idempotent"
    );
    assert_eq!(
        app.count("signing_keys", "1=1").await,
        1,
        "no new key without rotation"
    );
    assert_eq!(app.count("seaql_migrations", "1=1").await, migration_count());
}

/// How many migrations the code has.
fn migration_count() -> i64 {
    use migrations::MigratorTrait;
    migrations::Migrator::migrations().len() as i64
}

#[tokio::test]
async fn migrations_run_twice_or_side_by_side_are_a_no_op() {
    let database = TestDatabase::new().await;
    let a = sigil::store::connect(&database.url, 2, sigil::store::DEFAULT_WAIT)
        .await
        .unwrap();
    let b = sigil::store::connect(&database.url, 2, sigil::store::DEFAULT_WAIT)
        .await
        .unwrap();
    // Two replicas starting together.
    let (first, second) = tokio::join!(sigil::store::migrate(&a), sigil::store::migrate(&b));
    first.unwrap();
    second.unwrap();
    sigil::store::migrate(&a).await.unwrap();
    let applied = a
        .query_one_raw(sea_orm::Statement::from_string(
            a.get_database_backend(),
            "SELECT COUNT(*) AS n FROM seaql_migrations",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(applied, migration_count());
}

#[tokio::test]
async fn changed_bootstrap_credentials_replace_the_old_ones() {
    let database = TestDatabase::new().await;
    let config = test_config(&database);
    let clock = TestClock::new();
    let app = spawn_with(database, config.clone(), clock.clone()).await;
    let database = app.stop().await;

    let mut rotated = config.clone();
    rotated.bootstrap_client_id = Some("new-client".into());
    rotated.bootstrap_secret = Some(Secret::new("a-brand-new-secret"));
    let app = spawn_with(database, rotated, clock).await;
    let old = app
        .auth_client()
        .authenticate_vendor(pb::AuthenticateVendorRequest {
            client_id: CLIENT_ID.into(),
            secret: SECRET.into(),
        })
        .await;
    assert!(old.is_err(), "the old credentials no longer work");
    app.auth_client()
        .authenticate_vendor(pb::AuthenticateVendorRequest {
            client_id: "new-client".into(),
            secret: "a-brand-new-secret".into(),
        })
        .await
        .expect("the new credentials work");
    assert_eq!(app.count("environments", "1=1").await, 1);
}

#[tokio::test]
async fn a_first_start_without_credentials_generates_them_once() {
    let database = TestDatabase::new().await;
    let mut config = test_config(&database);
    config.bootstrap_client_id = None;
    config.bootstrap_secret = None;
    let clock = TestClock::new();

    let (app, mailer) = build(config.clone(), clock.clone()).await.unwrap();
    let generated = app
        .generated_credentials()
        .cloned()
        .expect("generated on a first start");
    let running = start(app, mailer, database, clock.clone()).await;
    running
        .auth_client()
        .authenticate_vendor(pb::AuthenticateVendorRequest {
            client_id: generated.client_id.clone(),
            secret: generated.secret.expose().into(),
        })
        .await
        .expect("the generated credentials work");
    let database = running.stop().await;

    let (app, mailer) = build(config, clock.clone()).await.unwrap();
    assert!(app.generated_credentials().is_none(), "shown only once");
    let running = start(app, mailer, database, clock).await;
    running
        .auth_client()
        .authenticate_vendor(pb::AuthenticateVendorRequest {
            client_id: generated.client_id,
            secret: generated.secret.expose().into(),
        })
        .await
        .expect("and they keep working");
}
