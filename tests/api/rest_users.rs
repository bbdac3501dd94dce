//! User management over the REST gateway at the contract's paths.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    helpers::spawn_app,
    http::{Api, error, invalid, ok, sign_in},
};

const USERS_V1: &str = "/identity/resources/users/v1";
const USERS_V3: &str = "/identity/resources/users/v3";
const VENDOR: &str = "/identity/resources/vendor-only/users/v1";
const PASSWORD: &str = "correct horse battery";

/// POST with the `frontegg-tenant-id` header.
async fn post_in(api: &Api<'_>, path: &str, tenant_id: &str, body: Value) -> reqwest::Response {
    api.request(Method::POST, path)
        .header("frontegg-tenant-id", tenant_id)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn get_in(api: &Api<'_>, path: &str, tenant_id: &str) -> reqwest::Response {
    api.request(Method::GET, path)
        .header("frontegg-tenant-id", tenant_id)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn users_are_created_in_the_tenant_of_the_header() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    api.create_tenant("acme", "Acme").await;

    for (n, path) in [USERS_V1, "/identity/resources/users/v2"].into_iter().enumerate() {
        let email = format!("invitee{n}@example.com");
        let created = post_in(
            &api,
            path,
            "acme",
            json!({"email": email.to_uppercase(), "name": "Ivy"}),
        )
        .await;
        let created = ok(created, StatusCode::CREATED).await;
        assert_eq!(created["email"], email, "emails are stored in lower case");
        assert_eq!(created["name"], "Ivy");
        assert_eq!(created["activatedForTenant"], false, "no password: invited");
        assert_eq!(created["verified"], false);
        // The tenant's first member is its admin; the next gets the default role.
        let expected = if n == 0 { "Admin" } else { "ReadOnly" };
        assert_eq!(created["roles"][0]["key"], expected);
        assert_eq!(created["roles"].as_array().unwrap().len(), 1);
        assert!(created["lastLogin"].is_null());
    }

    let with_password = post_in(
        &api,
        USERS_V1,
        "acme",
        json!({
            "email": "ann@example.com",
            "password": PASSWORD,
            "provider": "local",
            "metadata": "{\"team\": \"blue\"}",
            "skipInviteEmail": true,
            "roleIds": [],
            "emailMetadata": {"x": 1}
        }),
    )
    .await;
    let ann = ok(with_password, StatusCode::CREATED).await;
    assert_eq!(ann["activatedForTenant"], true);
    assert_eq!(ann["metadata"], "{\"team\":\"blue\"}");
    sign_in(&app, "ann@example.com", PASSWORD).await;

    let fetched = ok(
        get_in(
            &api,
            &format!("{USERS_V1}/{}", ann["id"].as_str().unwrap()),
            "acme",
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(fetched["tenantId"], "acme");
    assert_eq!(fetched["tenantIds"], json!(["acme"]));
    assert_eq!(fetched["tenants"][0]["tenantId"], "acme");
    // Two members were invited before: Ann gets the default role.
    assert_eq!(fetched["tenants"][0]["roles"][0]["key"], "ReadOnly");
    assert_eq!(fetched["roles"][0]["key"], "ReadOnly");
    assert_eq!(fetched["sub"], ann["id"]);
    assert_eq!(fetched["provider"], "local");
    assert_eq!(fetched["vendorMetadata"], "{}");
    assert_eq!(fetched["subAccountAccessAllowed"], false);
}

#[tokio::test]
async fn bad_user_input_is_a_4xx_naming_the_field() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    api.create_tenant("acme", "Acme").await;
    api.create_user("acme", "ann@example.com", None).await;

    invalid(
        api.post(USERS_V1, json!({"email": "bob@example.com"})).await,
        "frontegg-tenant-id",
    )
    .await;
    let cases = [
        (json!({"email": "nope"}), "email"),
        (json!({}), "email"),
        (json!({"username": "bob"}), "username"),
        (
            json!({"email": "bob@example.com", "provider": "saml"}),
            "provider",
        ),
        (
            json!({"email": "bob@example.com", "roleIds": ["admin"]}),
            "roleIds",
        ),
        (
            json!({"email": "bob@example.com", "expirationInSeconds": 600}),
            "expirationInSeconds",
        ),
        (json!({"email": "bob@example.com", "metadata": "[1]"}), "metadata"),
        (
            json!({"email": "bob@example.com", "password": "short"}),
            "password",
        ),
        (
            json!({"email": "bob@example.com", "phoneNumber": "call me"}),
            "phoneNumber",
        ),
        (
            json!({"email": "bob@example.com", "profilePictureUrl": "ftp://x"}),
            "profilePictureUrl",
        ),
    ];
    for (body, field) in cases {
        invalid(post_in(&api, USERS_V1, "acme", body).await, field).await;
    }
    for wrong_type in [
        json!({"email": "bob@example.com", "provider": "myspace"}),
        json!({"email": "bob@example.com", "metadata": [1]}),
        json!({"email": 7}),
        json!({"email": "bob@example.com", "roleIds": "admin"}),
    ] {
        error(
            post_in(&api, USERS_V1, "acme", wrong_type).await,
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
        )
        .await;
    }
    error(
        post_in(&api, USERS_V1, "ghost", json!({"email": "bob@example.com"})).await,
        StatusCode::NOT_FOUND,
        "TENANT_NOT_FOUND",
    )
    .await;
    error(
        post_in(&api, USERS_V1, "acme", json!({"email": "ANN@example.com"})).await,
        StatusCode::CONFLICT,
        "USER_ALREADY_EXISTS",
    )
    .await;

    error(
        api.post(VENDOR, json!({"email": "bob@example.com"})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
    )
    .await;
    invalid(
        api.post(
            VENDOR,
            json!({"tenantId": "acme", "email": "bob@example.com", "vendorMetadata": "x"}),
        )
        .await,
        "vendorMetadata",
    )
    .await;
    invalid(
        api.post(
            VENDOR,
            json!({"tenantId": "acme", "email": "b@example.com", "roleIds": ["r"]}),
        )
        .await,
        "roleIds",
    )
    .await;
    error(
        api.post(
            VENDOR,
            json!({"tenantId": "acme", "email": "bob@example.com", "mfaBypass": "no"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
    )
    .await;
}

#[tokio::test]
async fn the_vendor_routes_create_and_read_users_with_environment_only_fields() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    api.create_tenant("acme", "Acme").await;
    let created = api
        .post(
            VENDOR,
            json!({
                "tenantId": "acme",
                "email": "ann@example.com",
                "name": "Ann",
                "vendorMetadata": "{\"tier\": 1}",
                "externalId": "crm-7",
                "mfaBypass": true,
                "phoneNumber": "+15550100"
            }),
        )
        .await;
    let created = ok(created, StatusCode::CREATED).await;
    assert_eq!(created["vendorMetadata"], "{\"tier\":1}");
    assert_eq!(created["externalId"], "crm-7");
    assert_eq!(created["mfaBypass"], true);
    assert_eq!(created["phoneNumber"], "+15550100");
    assert_eq!(created["tenantId"], "acme");
    let id = created["id"].as_str().unwrap();

    let read = ok(api.get(&format!("{VENDOR}/{id}")).await, StatusCode::OK).await;
    assert_eq!(read, created);
    error(
        api.get(&format!("{VENDOR}/ghost")).await,
        StatusCode::NOT_FOUND,
        "USER_NOT_FOUND",
    )
    .await;

    let by_email = ok(
        api.get(&format!("{USERS_V1}/email?email=ANN%40example.com"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(by_email["id"], id);
    invalid(api.get(&format!("{USERS_V1}/email")).await, "email").await;
    invalid(api.get(&format!("{USERS_V1}/email?email=nope")).await, "email").await;
    error(
        api.get(&format!("{USERS_V1}/email?email=bob%40example.com"))
            .await,
        StatusCode::NOT_FOUND,
        "USER_NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn a_user_is_read_only_in_a_tenant_it_belongs_to() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    api.create_tenant("acme", "Acme").await;
    api.create_tenant("globex", "Globex").await;
    let ann = api.create_user("acme", "ann@example.com", None).await;
    let path = format!("{USERS_V1}/{}", ann["id"].as_str().unwrap());

    ok(get_in(&api, &path, "acme").await, StatusCode::OK).await;
    invalid(api.get(&path).await, "frontegg-tenant-id").await;
    error(
        get_in(&api, &path, "globex").await,
        StatusCode::NOT_FOUND,
        "USER_NOT_FOUND",
    )
    .await;
    error(
        get_in(&api, &format!("{USERS_V1}/ghost"), "acme").await,
        StatusCode::NOT_FOUND,
        "USER_NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn users_are_updated_globally_or_in_their_tenant() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    api.create_tenant("acme", "Acme").await;
    api.create_tenant("globex", "Globex").await;
    let ann = api.create_user("acme", "ann@example.com", None).await;
    let id = ann["id"].as_str().unwrap();
    let path = format!("{USERS_V1}/{id}");

    let updated = api
        .put(
            &path,
            json!({
                "name": "Ann",
                "phoneNumber": "+15550100",
                "profilePictureUrl": "https://pics.example/ann.png",
                "vendorMetadata": "{\"tier\": 2}",
                "externalId": "crm-1",
                "mfaBypass": true
            }),
        )
        .await;
    let updated = ok(updated, StatusCode::OK).await;
    assert_eq!(updated["name"], "Ann");
    assert_eq!(updated["profilePictureUrl"], "https://pics.example/ann.png");
    assert_eq!(updated["vendorMetadata"], "{\"tier\":2}");
    assert_eq!(updated["mfaBypass"], true);

    let cleared = ok(
        api.put(&path, json!({"profilePictureUrl": null})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(cleared["profilePictureUrl"], "");
    assert_eq!(cleared["name"], "Ann", "fields not given stay");

    invalid(
        api.put(&path, json!({"phoneNumber": "call me"})).await,
        "phoneNumber",
    )
    .await;
    invalid(api.put(&path, json!({"metadata": "nope"})).await, "metadata").await;
    error(
        api.put(&path, json!({"mfaBypass": "yes"})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
    )
    .await;
    error(
        api.put(&format!("{USERS_V1}/ghost"), json!({"name": "x"})).await,
        StatusCode::NOT_FOUND,
        "USER_NOT_FOUND",
    )
    .await;

    let in_tenant = |tenant: &'static str, user: &str| {
        api.request(Method::PUT, USERS_V1)
            .header("frontegg-tenant-id", tenant)
            .header("frontegg-user-id", user.to_owned())
    };
    let renamed = in_tenant("acme", id)
        .json(&json!({"name": "Annie", "metadata": "{\"a\":1}"}))
        .send()
        .await
        .unwrap();
    let renamed = ok(renamed, StatusCode::OK).await;
    assert_eq!(renamed["name"], "Annie");
    assert_eq!(renamed["metadata"], "{\"a\":1}");
    assert_eq!(renamed["vendorMetadata"], "{\"tier\":2}");
    let elsewhere = in_tenant("globex", id)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    error(elsewhere, StatusCode::NOT_FOUND, "USER_NOT_FOUND").await;
    let no_user = api
        .request(Method::PUT, USERS_V1)
        .header("frontegg-tenant-id", "acme")
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    invalid(no_user, "frontegg-user-id").await;
}

#[tokio::test]
async fn memberships_are_added_and_removed_and_users_deleted() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    api.create_tenant("acme", "Acme").await;
    api.create_tenant("globex", "Globex").await;
    let ann = api.create_user("acme", "ann@example.com", None).await;
    let id = ann["id"].as_str().unwrap();
    let path = format!("{USERS_V1}/{id}");

    let joined = ok(
        api.post(
            &format!("{path}/tenant"),
            json!({"tenantId": "globex", "skipInviteEmail": true}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(joined["tenantIds"], json!(["acme", "globex"]));
    assert_eq!(joined["tenantId"], "globex");
    error(
        api.post(&format!("{path}/tenant"), json!({"tenantId": "globex"}))
            .await,
        StatusCode::CONFLICT,
        "MEMBERSHIP_ALREADY_EXISTS",
    )
    .await;
    error(
        api.post(&format!("{path}/tenant"), json!({"tenantId": "ghost"}))
            .await,
        StatusCode::NOT_FOUND,
        "TENANT_NOT_FOUND",
    )
    .await;
    error(
        api.post(&format!("{path}/tenant"), json!({})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
    )
    .await;
    error(
        api.post(&format!("{USERS_V1}/ghost/tenant"), json!({"tenantId": "acme"}))
            .await,
        StatusCode::NOT_FOUND,
        "USER_NOT_FOUND",
    )
    .await;

    // With the tenant header, DELETE ends one membership; the user stays.
    let remove_from = |tenant: &'static str| {
        api.request(Method::DELETE, &path)
            .header("frontegg-tenant-id", tenant)
            .send()
    };
    ok(remove_from("globex").await.unwrap(), StatusCode::OK).await;
    let ann = ok(api.get(&format!("{VENDOR}/{id}")).await, StatusCode::OK).await;
    assert_eq!(ann["tenantIds"], json!(["acme"]));
    error(
        remove_from("globex").await.unwrap(),
        StatusCode::NOT_FOUND,
        "MEMBERSHIP_NOT_FOUND",
    )
    .await;
    error(
        remove_from("ghost").await.unwrap(),
        StatusCode::NOT_FOUND,
        "TENANT_NOT_FOUND",
    )
    .await;

    // Without it, the user is deleted everywhere.
    ok(api.delete(&path).await, StatusCode::OK).await;
    error(
        api.get(&format!("{VENDOR}/{id}")).await,
        StatusCode::NOT_FOUND,
        "USER_NOT_FOUND",
    )
    .await;
    error(api.delete(&path).await, StatusCode::NOT_FOUND, "USER_NOT_FOUND").await;
}

#[tokio::test]
async fn lock_unlock_verify_and_activation_links() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    api.create_tenant("acme", "Acme").await;
    let ann = api.create_user("acme", "ann@example.com", Some(PASSWORD)).await;
    let path = format!("{USERS_V1}/{}", ann["id"].as_str().unwrap());
    let login = json!({"email": "ann@example.com", "password": PASSWORD});
    let anonymous = Api::anonymous(&app);

    ok(api.post(&format!("{path}/lock"), json!({})).await, StatusCode::OK).await;
    let locked = ok(
        api.get(&format!("{VENDOR}/{}", ann["id"].as_str().unwrap()))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(locked["isLocked"], true);
    let refused = anonymous
        .post("/identity/resources/auth/v1/user", login.clone())
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    ok(
        api.post(&format!("{path}/unlock"), json!({})).await,
        StatusCode::OK,
    )
    .await;
    sign_in(&app, "ann@example.com", PASSWORD).await;

    ok(
        api.post(&format!("{path}/verify"), json!({})).await,
        StatusCode::OK,
    )
    .await;
    let verified = ok(
        api.get(&format!("{VENDOR}/{}", ann["id"].as_str().unwrap()))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(verified["verified"], true);

    // An activated user has no activation to issue.
    error(
        api.post(&format!("{path}/links/generate-activation-token"), json!({}))
            .await,
        StatusCode::BAD_REQUEST,
        "USER_ALREADY_ACTIVATED",
    )
    .await;
    let bob = api.create_user("acme", "bob@example.com", None).await;
    let bob_id = bob["id"].as_str().unwrap();
    let issued = api
        .request(
            Method::POST,
            &format!("{USERS_V1}/{bob_id}/links/generate-activation-token"),
        )
        .send()
        .await
        .unwrap();
    let issued = ok(issued, StatusCode::CREATED).await;
    assert_eq!(issued["userId"], bob_id);
    let token = issued["token"].as_str().unwrap();
    assert!(issued["link"].as_str().unwrap().contains(token));
    let activated = anonymous
        .post(
            "/identity/resources/users/v1/activate",
            json!({"userId": bob_id, "token": token, "password": PASSWORD}),
        )
        .await;
    ok(activated, StatusCode::OK).await;

    for action in ["lock", "unlock", "verify", "links/generate-activation-token"] {
        error(
            api.post(&format!("{USERS_V1}/ghost/{action}"), json!({})).await,
            StatusCode::NOT_FOUND,
            "USER_NOT_FOUND",
        )
        .await;
    }
}

fn emails(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn user_listings_page_sort_and_filter() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    api.create_tenant("acme", "Acme").await;
    api.create_tenant("globex", "Globex").await;
    let mut ids = Vec::new();
    for (tenant, email) in [
        ("acme", "dora@example.com"),
        ("acme", "ann@example.com"),
        ("globex", "carl@other.example"),
        ("acme", "bob@example.com"),
        ("globex", "eve@example.com"),
    ] {
        ids.push(
            api.create_user(tenant, email, None).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        // Distinct creation times make the default order certain.
        app.clock.advance(Duration::from_secs(1));
    }

    let all = ok(api.get(USERS_V3).await, StatusCode::OK).await;
    assert_eq!(
        emails(&all),
        [
            "dora@example.com",
            "ann@example.com",
            "carl@other.example",
            "bob@example.com",
            "eve@example.com"
        ]
    );
    assert_eq!(all["_metadata"], json!({"totalItems": 5, "totalPages": 1}));

    let second = ok(
        api.get(&format!("{USERS_V3}?_limit=2&_offset=1")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(emails(&second), ["carl@other.example", "bob@example.com"]);
    assert_eq!(second["_metadata"], json!({"totalItems": 5, "totalPages": 3}));
    assert_eq!(second["_links"]["prev"], "?_limit=2&_offset=0");
    assert_eq!(second["_links"]["next"], "?_limit=2&_offset=2");
    let beyond = ok(
        api.get(&format!("{USERS_V3}?_limit=2&_offset=3")).await,
        StatusCode::OK,
    )
    .await;
    assert!(emails(&beyond).is_empty());

    let sorted = ok(
        api.get(&format!("{USERS_V3}?_sortBy=email&_order=ASC")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        emails(&sorted),
        [
            "ann@example.com",
            "bob@example.com",
            "carl@other.example",
            "dora@example.com",
            "eve@example.com"
        ]
    );
    let by_tenant = ok(
        api.get(&format!("{USERS_V3}?_sortBy=tenantId&_order=DESC")).await,
        StatusCode::OK,
    )
    .await;
    assert!(by_tenant["items"][0]["tenantId"] == "globex" && by_tenant["items"][4]["tenantId"] == "acme");
    for field in ["createdAt", "name", "id", "verified", "isLocked", "provider"] {
        ok(
            api.get(&format!("{USERS_V3}?_sortBy={field}")).await,
            StatusCode::OK,
        )
        .await;
    }

    let other = ok(
        api.get(&format!("{USERS_V3}?_email=OTHER.example")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(emails(&other), ["carl@other.example"]);
    let in_globex = ok(
        api.get(&format!("{USERS_V3}?_tenantId=globex")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(emails(&in_globex), ["carl@other.example", "eve@example.com"]);
    assert!(
        in_globex["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["tenantId"] == "globex")
    );
    let by_header = ok(get_in(&api, USERS_V3, "globex").await, StatusCode::OK).await;
    assert_eq!(emails(&by_header), emails(&in_globex));
    let nowhere = ok(
        api.get(&format!("{USERS_V3}?_tenantId=ghost")).await,
        StatusCode::OK,
    )
    .await;
    assert!(emails(&nowhere).is_empty());
    let picked = ok(
        api.get(&format!("{USERS_V3}?ids={},{}", ids[4], ids[1])).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(emails(&picked), ["ann@example.com", "eve@example.com"]);
    ok(
        api.get(&format!("{USERS_V3}?_includeSubTenants=false")).await,
        StatusCode::OK,
    )
    .await;

    for (query, field) in [
        ("_sortBy=age", "_sortBy"),
        ("_order=up", "_order"),
        ("_limit=500", "_limit"),
        ("_limit=x", "_limit"),
        ("_offset=-2", "_offset"),
        ("_includeSubTenants=maybe", "_includeSubTenants"),
        ("_namePrefix=a", "_namePrefix"),
        ("_identifier=a&_identifierType=email", "_identifier"),
        ("_externalIds=a", "_externalIds"),
    ] {
        invalid(api.get(&format!("{USERS_V3}?{query}")).await, field).await;
    }
}

#[tokio::test]
async fn user_routes_need_a_valid_environment_token() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    api.create_tenant("acme", "Acme").await;
    let ann = api.create_user("acme", "ann@example.com", Some(PASSWORD)).await;
    let id = ann["id"].as_str().unwrap();
    let user_token = sign_in(&app, "ann@example.com", PASSWORD).await;
    let other = spawn_app().await;
    let foreign = other.env_token().await;

    for (token, code) in [
        (None, "MISSING_TOKEN"),
        (Some("garbage".to_owned()), "INVALID_TOKEN"),
        // A user's token is a valid credential, of a kind these routes do not take.
        (Some(user_token), "CALLER_NOT_ALLOWED"),
        (Some(foreign), "INVALID_TOKEN"),
    ] {
        let caller = match &token {
            Some(token) => Api::bearer(&app, token),
            None => Api::anonymous(&app),
        };
        let calls = [
            caller.get(USERS_V3).await,
            get_in(&caller, &format!("{USERS_V1}/{id}"), "acme").await,
            caller.get(&format!("{VENDOR}/{id}")).await,
            caller
                .get(&format!("{USERS_V1}/email?email=ann%40example.com"))
                .await,
            post_in(&caller, USERS_V1, "acme", json!({"email": "x@example.com"})).await,
            post_in(
                &caller,
                "/identity/resources/users/v2",
                "acme",
                json!({"email": "x@example.com"}),
            )
            .await,
            caller
                .post(VENDOR, json!({"tenantId": "acme", "email": "x@example.com"}))
                .await,
            caller
                .put(&format!("{USERS_V1}/{id}"), json!({"name": "x"}))
                .await,
            caller.delete(&format!("{USERS_V1}/{id}")).await,
            caller
                .post(&format!("{USERS_V1}/{id}/tenant"), json!({"tenantId": "acme"}))
                .await,
            caller.post(&format!("{USERS_V1}/{id}/lock"), json!({})).await,
            caller.post(&format!("{USERS_V1}/{id}/unlock"), json!({})).await,
            caller.post(&format!("{USERS_V1}/{id}/verify"), json!({})).await,
            caller
                .post(
                    &format!("{USERS_V1}/{id}/links/generate-activation-token"),
                    json!({}),
                )
                .await,
        ];
        let status = if code == "CALLER_NOT_ALLOWED" {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::UNAUTHORIZED
        };
        for response in calls {
            error(response, status, code).await;
        }
    }
    // Nothing changed.
    let ann = ok(api.get(&format!("{VENDOR}/{id}")).await, StatusCode::OK).await;
    assert_eq!(ann["isLocked"], false);
    assert_eq!(ann["verified"], false);
}

#[tokio::test]
async fn a_users_answer_names_its_roles_in_every_one_of_its_tenants() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    api.create_tenant("acme", "Acme").await;
    api.create_tenant("globex", "Globex").await;
    api.create_user("acme", "ann@example.com", None).await;
    let bob = api.create_user("acme", "bob@example.com", None).await;
    let id = bob["id"].as_str().unwrap();
    // Ann was first in acme; Bob is first in globex.
    ok(
        api.post(
            &format!("{USERS_V1}/{id}/tenant"),
            json!({"tenantId": "globex", "skipInviteEmail": true}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let roles_in = |user: &Value, tenant: &str| -> Vec<String> {
        let membership = user["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["tenantId"] == tenant)
            .unwrap_or_else(|| panic!("no membership in {tenant}: {user}"));
        membership["roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["key"].as_str().unwrap().to_owned())
            .collect()
    };

    let fetched = ok(
        get_in(&api, &format!("{USERS_V1}/{id}"), "acme").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(roles_in(&fetched, "acme"), ["ReadOnly"]);
    assert_eq!(roles_in(&fetched, "globex"), ["Admin"]);
    assert_eq!(fetched["roles"][0]["key"], "ReadOnly");

    let listed = ok(get_in(&api, USERS_V1, "acme").await, StatusCode::OK).await;
    let items = listed["items"].as_array().unwrap();
    let listed_bob = items.iter().find(|u| u["id"] == id).unwrap();
    assert_eq!(roles_in(listed_bob, "acme"), ["ReadOnly"]);
    assert_eq!(roles_in(listed_bob, "globex"), ["Admin"]);
    assert_eq!(listed_bob["roles"][0]["key"], "ReadOnly");
    let listed_ann = items.iter().find(|u| u["email"] == "ann@example.com").unwrap();
    assert_eq!(roles_in(listed_ann, "acme"), ["Admin"]);
}
