//! What Frontegg's published clients call and parse beyond the OpenAPI documents: the Rust
//! crate's unpaged tenant listing, array-shaped tenant reads, metadata of any JSON kind and the
//! v1 user listing; the Python SDK's trailing slashes and required claims; the phrase search.

use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sigil::transport::grpc::pb;
use tonic::Code;

use crate::{
    helpers::{CLIENT_ID, SECRET, spawn_app},
    http::{Api, invalid, ok, sign_in},
};

const TENANTS_V1: &str = "/tenants/resources/tenants/v1";
const USERS_V1: &str = "/identity/resources/users/v1";

#[tokio::test]
async fn tenants_list_unpaged_read_as_arrays_and_keep_metadata_of_any_kind() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    for (id, metadata) in [
        ("t-b", json!({"tenant_number": 1})),
        ("t-a", json!(42)),
        ("t-c", json!(r#"{"plan":"pro"}"#)),
        ("t-d", Value::Null),
    ] {
        let created = api
            .post(
                TENANTS_V1,
                json!({"tenantId": id, "name": id, "metadata": metadata}),
            )
            .await;
        ok(created, StatusCode::CREATED).await;
    }
    let listed = ok(api.get(TENANTS_V1).await, StatusCode::OK).await;
    let ids: Vec<_> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tenantId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["t-a", "t-b", "t-c", "t-d"], "every tenant, by tenant id");
    let metadata: Vec<_> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["metadata"].as_str().unwrap())
        .collect();
    assert_eq!(
        metadata,
        ["42", r#"{"tenant_number":1}"#, r#"{"plan":"pro"}"#, "{}"]
    );
    assert!(listed[0]["deletedAt"].is_null() && listed[0].get("deletedAt").is_some());

    let read = ok(api.get(&format!("{TENANTS_V1}/t-b")).await, StatusCode::OK).await;
    assert_eq!(read.as_array().unwrap().len(), 1, "v1 answers an array: {read}");
    assert_eq!(read[0]["tenantId"], "t-b");
    let v2 = ok(api.get("/tenants/resources/tenants/v2/t-b").await, StatusCode::OK).await;
    assert_eq!(v2["tenantId"], "t-b", "v2 answers the object");

    // Objects merge into objects; any other value replaces the metadata, and an object replaces it back.
    let merged = api
        .post(
            &format!("{TENANTS_V1}/t-b/metadata"),
            json!({"metadata": {"name": "x"}}),
        )
        .await;
    assert_eq!(
        ok(merged, StatusCode::CREATED).await["metadata"],
        r#"{"name":"x","tenant_number":1}"#
    );
    let replaced = api
        .post(
            &format!("{TENANTS_V1}/t-a/metadata"),
            json!({"metadata": {"k": true}}),
        )
        .await;
    assert_eq!(
        ok(replaced, StatusCode::CREATED).await["metadata"],
        r#"{"k":true}"#
    );
    let number = api
        .post(&format!("{TENANTS_V1}/t-a/metadata"), json!({"metadata": 7}))
        .await;
    assert_eq!(ok(number, StatusCode::CREATED).await["metadata"], "7");
    let removed = api.delete(&format!("{TENANTS_V1}/t-a/metadata/k")).await;
    assert_eq!(
        ok(removed, StatusCode::OK).await["metadata"],
        "7",
        "no key to remove from a number"
    );

    // Over gRPC, metadata of any kind too.
    let (mut tenants, _) = app.clients().await;
    let created = tenants
        .create_tenant(pb::CreateTenantRequest {
            tenant_id: "g".into(),
            name: "G".into(),
            metadata: "[1,2]".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.tenant.unwrap().metadata, "[1,2]");
    let bad = tenants
        .create_tenant(pb::CreateTenantRequest {
            tenant_id: "h".into(),
            name: "H".into(),
            metadata: "{".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    let huge = tenants
        .create_tenant(pb::CreateTenantRequest {
            tenant_id: "i".into(),
            name: "I".into(),
            metadata: format!("\"{}\"", "x".repeat(70_000)),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(huge.code(), Code::InvalidArgument, "{huge:?}");
}

#[tokio::test]
async fn users_list_at_v1_by_the_tenant_header_and_accept_object_metadata() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    api.create_tenant("one", "One").await;
    api.create_tenant("two", "Two").await;
    for (tenant, email) in [
        ("one", "a@x.example"),
        ("one", "b@x.example"),
        ("two", "c@x.example"),
    ] {
        let created = api
            .request(Method::POST, USERS_V1)
            .header("frontegg-tenant-id", tenant)
            .json(&json!({"email": email, "name": email, "metadata": {"n": 1}, "skipInviteEmail": true}))
            .send()
            .await
            .unwrap();
        let created = ok(created, StatusCode::CREATED).await;
        assert_eq!(created["metadata"], r#"{"n":1}"#);
        assert!(created["roles"].is_array() && created["permissions"].is_array());
    }
    let page = api
        .request(Method::GET, &format!("{USERS_V1}?_limit=1&_offset=1"))
        .header("frontegg-tenant-id", "one")
        .send()
        .await
        .unwrap();
    let page = ok(page, StatusCode::OK).await;
    assert_eq!(page["_metadata"]["totalPages"], 2);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let all = ok(api.get(USERS_V1).await, StatusCode::OK).await;
    assert_eq!(all["_metadata"]["totalItems"], 3);
}

#[tokio::test]
async fn paths_answer_with_a_trailing_slash() {
    let app = spawn_app().await;
    let anonymous = Api::anonymous(&app);
    let vendor = anonymous
        .post("/auth/vendor/", json!({"clientId": CLIENT_ID, "secret": SECRET}))
        .await;
    let token = ok(vendor, StatusCode::OK).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let api = Api::bearer(&app, &token);
    let config = ok(
        api.get("/identity/resources/configurations/v1/").await,
        StatusCode::OK,
    )
    .await;
    assert!(config["publicKey"].as_str().unwrap().contains("PUBLIC KEY"));
    ok(
        api.get("/frontegg/tenants/resources/tenants/v1/").await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn access_tokens_carry_the_claims_frontegg_clients_require() {
    let app = spawn_app().await;
    app.active_user("claims@x.example", "a long password 1").await;
    let token = sign_in(&app, "claims@x.example", "a long password 1").await;
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["applicationId"], claims["aud"], "{claims}");
    assert!(claims.get("profilePictureUrl").is_some(), "{claims}");
    let validated = app.validate(&token).await.unwrap();
    assert_eq!(validated.application_id, claims["aud"].as_str().unwrap());
}

#[tokio::test]
async fn users_are_found_by_words_over_rest_and_grpc() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    api.create_tenant("acme", "Acme").await;
    for (email, name) in [
        ("ann.smith@acme.example", "Ann Smith"),
        ("bob@acme.example", "Bob Smith"),
        ("carol@other.example", "Carol Jones"),
    ] {
        let created = api
            .post(
                "/identity/resources/vendor-only/users/v1",
                json!({"tenantId": "acme", "email": email, "name": name}),
            )
            .await;
        ok(created, StatusCode::CREATED).await;
    }
    let emails = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["email"].as_str().unwrap().to_owned())
            .collect()
    };
    let phrase = format!("{USERS_V1}/query/phrase");
    let smiths = ok(
        api.get(&format!("{phrase}?_phraseSearchContains=SMITH&_sortBy=email"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(emails(&smiths), ["ann.smith@acme.example", "bob@acme.example"]);
    let not_ann = ok(
        api.get(&format!(
            "{phrase}?_phraseSearchContains=smith&_phraseSearchExcludes=ann"
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(emails(&not_ann), ["bob@acme.example"]);
    let either = ok(
        api.get(&format!(
            "{phrase}?_phraseSearchOptional=carol,bob&_sortBy=email&_order=DESC"
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(emails(&either), ["carol@other.example", "bob@acme.example"]);
    let wildcard = ok(
        api.get(&format!("{phrase}?_phraseSearchContains=%25")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        emails(&wildcard),
        Vec::<String>::new(),
        "LIKE wildcards match literally"
    );
    invalid(
        api.get(&format!("{phrase}?_phraseSearchApproximate=true")).await,
        "_phraseSearchApproximate",
    )
    .await;
    invalid(api.get(&format!("{phrase}?_sortBy=shoeSize")).await, "_sortBy").await;

    let (_, mut users) = app.clients().await;
    let found = users
        .search_users(pb::SearchUsersRequest {
            listing: Some(pb::ListUsersRequest {
                sort_by: pb::UserSortBy::Email.into(),
                ..Default::default()
            }),
            contains: vec!["smith".into()],
            excludes: vec!["bob".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let found: Vec<_> = found.items.iter().map(|u| u.email.as_str()).collect();
    assert_eq!(found, ["ann.smith@acme.example"]);
}

#[tokio::test]
async fn grpc_listings_refuse_unknown_sorts_and_unbounded_lists() {
    let app = spawn_app().await;
    let (mut tenants, mut users) = app.clients().await;
    let unknown_sort = users
        .list_users(pb::ListUsersRequest {
            sort_by: 99,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(unknown_sort.code(), Code::InvalidArgument, "{unknown_sort:?}");
    assert!(unknown_sort.message().contains("sort_by"), "{unknown_sort:?}");
    let unknown_order = tenants
        .list_tenants(pb::ListTenantsRequest {
            order: 7,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(unknown_order.code(), Code::InvalidArgument);
    let too_many = users
        .list_users(pb::ListUsersRequest {
            ids: vec!["x".into(); 1001],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(too_many.code(), Code::InvalidArgument, "{too_many:?}");
    let too_many = tenants
        .list_tenants(pb::ListTenantsRequest {
            tenant_ids: vec!["x".into(); 1001],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(too_many.code(), Code::InvalidArgument, "{too_many:?}");
}
