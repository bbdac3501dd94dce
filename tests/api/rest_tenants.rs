//! Tenant management over the REST gateway at the contract's paths.

use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::{
    helpers::spawn_app,
    http::{Api, error, invalid, ok, sign_in},
};

const V1: &str = "/tenants/resources/tenants/v1";
const V2: &str = "/tenants/resources/tenants/v2";

#[tokio::test]
async fn a_tenant_is_created_read_updated_and_deleted() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;

    let created = api
        .post(
            V1,
            json!({
                "tenantId": "acme",
                "name": "Acme",
                "website": "https://acme.example",
                "creatorEmail": "Founder@Acme.example",
                "isReseller": true
            }),
        )
        .await;
    let created = ok(created, StatusCode::CREATED).await;
    assert_eq!(created["tenantId"], "acme");
    assert_eq!(created["name"], "Acme");
    assert_eq!(created["website"], "https://acme.example");
    assert_eq!(created["isReseller"], true);
    assert_eq!(created["metadata"], "{}");
    assert!(created["deletedAt"].is_null());
    assert!(created["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(created.get("address").is_none(), "unset fields are left out");

    let read = ok(api.get(&format!("{V1}/acme")).await, StatusCode::OK).await;
    assert_eq!(
        read,
        json!([created]),
        "v1 answers an array, as Frontegg's clients read it"
    );
    let read = ok(api.get(&format!("{V2}/acme")).await, StatusCode::OK).await;
    assert_eq!(read, created);

    let updated = api
        .put(
            &format!("{V1}/acme"),
            json!({"name": "Acme Inc", "address": "1 Road"}),
        )
        .await;
    let updated = ok(updated, StatusCode::OK).await;
    assert_eq!(updated["name"], "Acme Inc");
    assert_eq!(updated["address"], "1 Road");
    assert_eq!(
        updated["website"], "https://acme.example",
        "fields not given stay"
    );

    let cleared = api
        .put(&format!("{V2}/acme"), json!({"address": "", "isReseller": false}))
        .await;
    let cleared = ok(cleared, StatusCode::OK).await;
    assert!(cleared.get("address").is_none());
    assert_eq!(cleared["isReseller"], false);
    assert_eq!(cleared["name"], "Acme Inc");

    ok(api.delete(&format!("{V1}/acme")).await, StatusCode::OK).await;
    for version in [V1, V2] {
        error(
            api.get(&format!("{version}/acme")).await,
            StatusCode::NOT_FOUND,
            "TENANT_NOT_FOUND",
        )
        .await;
    }
    error(
        api.delete(&format!("{V1}/acme")).await,
        StatusCode::NOT_FOUND,
        "TENANT_NOT_FOUND",
    )
    .await;
    error(
        api.put(&format!("{V1}/acme"), json!({"name": "x"})).await,
        StatusCode::NOT_FOUND,
        "TENANT_NOT_FOUND",
    )
    .await;

    // A deleted id can be created again.
    api.create_tenant("acme", "Acme again").await;
}

#[tokio::test]
async fn a_tenant_without_an_id_gets_a_generated_one() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    let created = ok(
        api.post(V1, json!({"name": "Nameless"})).await,
        StatusCode::CREATED,
    )
    .await;
    let id = created["tenantId"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
}

#[tokio::test]
async fn bad_tenant_input_is_a_400_naming_the_field() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    api.create_tenant("acme", "Acme").await;

    invalid(api.post(V1, json!({"tenantId": "x"})).await, "name").await;
    invalid(api.post(V1, json!({"name": ""})).await, "name").await;
    invalid(
        api.post(V1, json!({"name": "A", "tenantId": "a/b"})).await,
        "tenantId",
    )
    .await;
    invalid(
        api.post(V1, json!({"name": "A", "creatorEmail": "nope"})).await,
        "creatorEmail",
    )
    .await;
    invalid(
        api.post(V1, json!({"name": "A", "website": "not a url"})).await,
        "website",
    )
    .await;
    invalid(
        api.post(V1, json!({"name": "A", "parentTenantId": "ghost"}))
            .await,
        "parentTenantId",
    )
    .await;
    for wrong_type in [
        json!({"name": 5}),
        json!({"name": "A", "isReseller": "yes"}),
        json!({"name": "A", "tenantId": ["x"]}),
        json!([1, 2]),
        json!("Acme"),
    ] {
        error(
            api.post(V1, wrong_type).await,
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
        )
        .await;
    }
    let malformed = api
        .request(Method::POST, V1)
        .header(header::CONTENT_TYPE, "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    error(malformed, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT").await;
    let not_json = api
        .request(Method::POST, V1)
        .body("name=Acme")
        .send()
        .await
        .unwrap();
    error(
        not_json,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;

    error(
        api.post(V1, json!({"tenantId": "acme", "name": "Twice"})).await,
        StatusCode::CONFLICT,
        "TENANT_ALREADY_EXISTS",
    )
    .await;

    invalid(api.put(&format!("{V1}/acme"), json!({})).await, "body").await;
    invalid(api.put(&format!("{V2}/acme"), json!({"name": ""})).await, "name").await;
    error(
        api.put(&format!("{V2}/acme"), json!({"name": 1})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
    )
    .await;
    // An id that is not valid UTF-8 once decoded is a bad path, not a server error.
    error(
        api.get(&format!("{V1}/%FF")).await,
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
    )
    .await;
    error(
        api.get(&format!("{V1}/no%20such")).await,
        StatusCode::NOT_FOUND,
        "TENANT_NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn tenant_routes_need_a_valid_environment_token() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    api.create_tenant("acme", "Acme").await;
    api.create_user("acme", "ann@example.com", Some("correct horse battery"))
        .await;
    let user_token = sign_in(&app, "ann@example.com", "correct horse battery").await;
    let other = spawn_app().await;
    let foreign = other.env_token().await;

    let tokens = [
        (None, "MISSING_TOKEN"),
        (Some("garbage".to_owned()), "INVALID_TOKEN"),
        // A user's token is a valid credential, of a kind these routes do not take.
        (Some(user_token), "CALLER_NOT_ALLOWED"),
        (Some(foreign), "INVALID_TOKEN"),
    ];
    for (token, code) in tokens {
        let caller = match &token {
            Some(token) => Api::bearer(&app, token),
            None => Api::anonymous(&app),
        };
        let calls = [
            caller.get(V2).await,
            caller.get(&format!("{V1}/acme")).await,
            caller.get(&format!("{V2}/acme")).await,
            caller.post(V1, json!({"name": "x"})).await,
            caller.put(&format!("{V1}/acme"), json!({"name": "x"})).await,
            caller.put(&format!("{V2}/acme"), json!({"name": "x"})).await,
            caller.delete(&format!("{V1}/acme")).await,
            caller
                .post(&format!("{V1}/acme/metadata"), json!({"metadata": {}}))
                .await,
            caller.delete(&format!("{V1}/acme/metadata/k")).await,
        ];
        for response in calls {
            if code == "CALLER_NOT_ALLOWED" {
                error(response, StatusCode::FORBIDDEN, code).await;
            } else {
                assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
                error(response, StatusCode::UNAUTHORIZED, code).await;
            }
        }
    }
    // Nothing changed.
    let acme = ok(api.get(&format!("{V2}/acme")).await, StatusCode::OK).await;
    assert_eq!(acme["name"], "Acme");
}

#[tokio::test]
async fn metadata_merges_objects_and_json_strings_and_removes_keys() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    api.create_tenant("acme", "Acme").await;
    let path = format!("{V1}/acme/metadata");

    let merged = api
        .post(&path, json!({"metadata": {"plan": "pro", "seats": 5}}))
        .await;
    let merged = ok(merged, StatusCode::CREATED).await;
    let metadata: Value = serde_json::from_str(merged["metadata"].as_str().unwrap()).unwrap();
    assert_eq!(metadata, json!({"plan": "pro", "seats": 5}));

    let merged = api
        .post(&path, json!({"metadata": "{\"seats\": 6, \"region\": \"eu\"}"}))
        .await;
    let merged = ok(merged, StatusCode::CREATED).await;
    let metadata: Value = serde_json::from_str(merged["metadata"].as_str().unwrap()).unwrap();
    assert_eq!(metadata, json!({"plan": "pro", "seats": 6, "region": "eu"}));

    let removed = ok(api.delete(&format!("{path}/plan")).await, StatusCode::OK).await;
    let metadata: Value = serde_json::from_str(removed["metadata"].as_str().unwrap()).unwrap();
    assert_eq!(metadata, json!({"seats": 6, "region": "eu"}));
    // Removing an absent key changes nothing.
    ok(api.delete(&format!("{path}/plan")).await, StatusCode::OK).await;

    // Too large to store; other JSON kinds are accepted (see tests/api/clients.rs).
    let half = "x".repeat(40_000);
    ok(
        api.post(&path, json!({"metadata": {"a": half}})).await,
        StatusCode::CREATED,
    )
    .await;
    invalid(
        api.post(&path, json!({"metadata": {"b": half}})).await,
        "metadata",
    )
    .await;
    ok(api.delete(&format!("{path}/a")).await, StatusCode::OK).await;
    error(
        api.post(&path, json!({})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
    )
    .await;
    error(
        api.post(&format!("{V1}/ghost/metadata"), json!({"metadata": {}}))
            .await,
        StatusCode::NOT_FOUND,
        "TENANT_NOT_FOUND",
    )
    .await;
    error(
        api.delete(&format!("{V1}/ghost/metadata/k")).await,
        StatusCode::NOT_FOUND,
        "TENANT_NOT_FOUND",
    )
    .await;
}

fn ids(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tenantId"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn tenant_listings_page_sort_and_filter() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    for (id, name) in [
        ("t1", "Delta"),
        ("t2", "Alpha"),
        ("t3", "Charlie"),
        ("t4", "Bravo"),
        ("t5", "Echo"),
    ] {
        api.create_tenant(id, name).await;
        // Distinct creation times make the default order certain.
        app.clock.advance(Duration::from_secs(1));
    }

    let all = ok(api.get(V2).await, StatusCode::OK).await;
    assert_eq!(
        ids(&all),
        ["t1", "t2", "t3", "t4", "t5"],
        "creation order by default"
    );
    assert_eq!(all["_metadata"], json!({"totalItems": 5, "totalPages": 1}));

    let first = ok(api.get(&format!("{V2}?_limit=2")).await, StatusCode::OK).await;
    assert_eq!(ids(&first), ["t1", "t2"]);
    assert_eq!(first["_metadata"], json!({"totalItems": 5, "totalPages": 3}));
    assert_eq!(first["_links"]["next"], "?_limit=2&_offset=1");
    assert_eq!(first["_links"]["prev"], "");
    assert_eq!(first["_links"]["last"], "?_limit=2&_offset=2");
    let last = ok(api.get(&format!("{V2}?_limit=2&_offset=2")).await, StatusCode::OK).await;
    assert_eq!(ids(&last), ["t5"]);
    assert_eq!(last["_links"]["next"], "");
    assert_eq!(last["_links"]["prev"], "?_limit=2&_offset=1");
    let beyond = ok(api.get(&format!("{V2}?_limit=2&_offset=9")).await, StatusCode::OK).await;
    assert!(ids(&beyond).is_empty());
    assert_eq!(beyond["_metadata"]["totalItems"], 5);

    let by_name = ok(
        api.get(&format!("{V2}?_sortBy=name&_order=DESC")).await,
        StatusCode::OK,
    )
    .await;
    let names: Vec<_> = by_name["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_lowercase())
        .collect();
    assert_eq!(names, ["echo", "delta", "charlie", "bravo", "alpha"]);
    let by_id = ok(
        api.get(&format!("{V2}?_sortBy=tenantId&_order=desc")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&by_id), ["t5", "t4", "t3", "t2", "t1"]);

    let filtered = ok(api.get(&format!("{V2}?_filter=ALPHA")).await, StatusCode::OK).await;
    assert_eq!(ids(&filtered), ["t2"]);
    let by_tenant_id = ok(api.get(&format!("{V2}?_filter=t4")).await, StatusCode::OK).await;
    assert_eq!(ids(&by_tenant_id), ["t4"]);
    let repeated = ok(
        api.get(&format!("{V2}?_tenantIds=t3&_tenantIds=t5")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&repeated), ["t3", "t5"]);
    let joined = ok(
        api.get(&format!("{V2}?_tenantIds=t1,t4,ghost")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&joined), ["t1", "t4"]);
    assert_eq!(joined["_metadata"]["totalItems"], 2);

    let too_many = format!("_tenantIds={}", vec!["t1"; 1001].join(","));
    for (query, field) in [
        ("_sortBy=website", "_sortBy"),
        ("_order=sideways", "_order"),
        ("_limit=201", "_limit"),
        ("_limit=-1", "_limit"),
        ("_limit=ten", "_limit"),
        ("_limit=1.5", "_limit"),
        ("_offset=-1", "_offset"),
        ("_offset=x", "_offset"),
        ("_limit=1&_limit=2", "_limit"),
        (too_many.as_str(), "_tenantIds"),
    ] {
        invalid(api.get(&format!("{V2}?{query}")).await, field).await;
    }
}
