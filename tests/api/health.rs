//! Health checking and probes.

use std::time::Duration;

use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::helpers::{TestClock, TestDatabase, spawn_app, spawn_with, test_config};

async fn status(channel: tonic::transport::Channel, service: &str) -> ServingStatus {
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .unwrap()
        .into_inner();
    ServingStatus::try_from(response.status).unwrap()
}

#[tokio::test]
async fn a_started_server_reports_serving_for_itself_and_each_service() {
    let app = spawn_app().await;
    for service in [
        "",
        "identity.v1.TenantService",
        "identity.v1.UserService",
        "identity.v1.EnvironmentAuthService",
        "identity.v1.EnvironmentAdminService",
    ] {
        assert_eq!(
            status(app.channel.clone(), service).await,
            ServingStatus::Serving,
            "{service}"
        );
    }
    let ready = reqwest::get(format!("http://{}/readyz", app.http_addr))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let live = reqwest::get(format!("http://{}/livez", app.http_addr))
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
}

#[tokio::test]
async fn a_stopping_server_reports_not_serving_while_it_drains() {
    let database = TestDatabase::new().await;
    let mut config = test_config(&database);
    config.shutdown_delay = Duration::from_secs(3);
    let mut app = spawn_with(database, config, TestClock::new()).await;
    assert_eq!(status(app.channel.clone(), "").await, ServingStatus::Serving);
    app.signal_stop();
    let mut seen = ServingStatus::Serving;
    for _ in 0..100 {
        seen = status(app.channel.clone(), "").await;
        if seen == ServingStatus::NotServing {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(seen, ServingStatus::NotServing);
    assert_eq!(
        status(app.channel.clone(), "identity.v1.UserService").await,
        ServingStatus::NotServing
    );
    let ready = reqwest::get(format!("http://{}/readyz", app.http_addr))
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(ready.headers()["retry-after"], "1");
    app.stop().await;
}

#[tokio::test]
async fn liveness_stays_serving_while_readiness_turns_away_traffic() {
    let database = TestDatabase::new().await;
    let mut config = test_config(&database);
    config.shutdown_delay = Duration::from_secs(3);
    let mut app = spawn_with(database, config, TestClock::new()).await;
    assert_eq!(
        status(app.channel.clone(), sigil::app::LIVENESS).await,
        ServingStatus::Serving
    );
    app.signal_stop();
    for _ in 0..100 {
        if status(app.channel.clone(), "").await == ServingStatus::NotServing {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(status(app.channel.clone(), "").await, ServingStatus::NotServing);
    // Kubernetes must not restart a pod for not being ready (draining here; elsewhere, a
    // database outage): the liveness probe's service still answers SERVING.
    assert_eq!(
        status(app.channel.clone(), sigil::app::LIVENESS).await,
        ServingStatus::Serving
    );
    app.stop().await;
}
