//! Frontegg's Rust client (`frontegg` on crates.io), unmodified, against sigil: tenants with
//! metadata of any JSON kind, users created, read, listed page by page and by tenant, deleted.
//! The sequence follows the crate's own integration test against Frontegg.

mod sigil;

use std::collections::HashSet;

use frontegg::{ApiError, Error, TenantRequest, UserListConfig, UserRequest};
use futures::TryStreamExt;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn tenants_and_users() {
    let sigil = sigil::Sigil::start().await;
    let client = sigil.client();

    let tenant_id_1 = Uuid::new_v4();
    let tenant_id_2 = Uuid::new_v4();
    client
        .create_tenant(&TenantRequest {
            id: tenant_id_1,
            name: "test tenant 1",
            metadata: json!({"tenant_number": 1}),
            creator_name: Some("tenant 1"),
            creator_email: Some("creator@tenant1.com"),
        })
        .await
        .unwrap();
    client
        .create_tenant(&TenantRequest {
            id: tenant_id_2,
            name: "test tenant 2",
            metadata: json!(42),
            ..Default::default()
        })
        .await
        .unwrap();

    let mut tenants = client.list_tenants().await.unwrap();
    let mut by_id = tenants.iter().map(|t| t.id).collect::<Vec<_>>();
    by_id.sort();
    assert_eq!(
        tenants.iter().map(|t| t.id).collect::<Vec<_>>(),
        by_id,
        "listed by tenant id"
    );
    tenants.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(tenants.len(), 2);
    assert_eq!(tenants[0].id, tenant_id_1);
    assert_eq!(tenants[1].id, tenant_id_2);
    assert_eq!(tenants[0].metadata, json!({"tenant_number": 1}));
    assert_eq!(tenants[1].metadata, json!(42));
    assert_eq!(tenants[0].creator_name.as_deref(), Some("tenant 1"));
    assert_eq!(tenants[1].creator_name, None);
    assert_eq!(tenants[0].creator_email.as_deref(), Some("creator@tenant1.com"));
    assert_eq!(tenants[0].deleted_at, None);

    let tenant = client.get_tenant(tenant_id_1).await.unwrap();
    assert_eq!(tenant.id, tenant_id_1);
    assert_eq!(tenant.name, "test tenant 1");

    client
        .set_tenant_metadata(tenant_id_1, &json!({"tenant_name": "test tenant 1"}))
        .await
        .unwrap();
    let tenant = client.get_tenant(tenant_id_1).await.unwrap();
    assert_eq!(
        tenant.metadata,
        json!({"tenant_name": "test tenant 1", "tenant_number": 1})
    );
    let set = client
        .set_tenant_metadata(tenant_id_1, &json!({"tenant_name": "set test"}))
        .await
        .unwrap();
    assert_eq!(
        set.metadata,
        json!({"tenant_name": "set test", "tenant_number": 1})
    );
    let deleted = client
        .delete_tenant_metadata(tenant_id_1, "tenant_name")
        .await
        .unwrap();
    assert_eq!(deleted.metadata, json!({"tenant_number": 1}));
    assert_eq!(
        client.get_tenant(tenant_id_1).await.unwrap().metadata,
        json!({"tenant_number": 1})
    );

    match client.get_tenant(Uuid::nil()).await {
        Err(Error::Api(ApiError { status_code, .. })) if status_code == StatusCode::NOT_FOUND => {}
        other => panic!("unexpected answer for an unknown tenant: {other:?}"),
    }

    let mut users = vec![];
    for (tenant_idx, tenant) in tenants.iter().enumerate() {
        for user_idx in 0..3 {
            let name = format!("user-{tenant_idx}-{user_idx}");
            let email = format!("frontegg-test-{tenant_idx}-{user_idx}@example.com");
            let created = client
                .create_user(&UserRequest {
                    tenant_id: tenant.id,
                    name: &name,
                    email: &email,
                    metadata: json!({"index": user_idx}),
                    skip_invite_email: true,
                })
                .await
                .unwrap();
            assert_eq!(created.name, name);
            assert_eq!(created.email, email);
            assert_eq!(created.metadata, json!({"index": user_idx}));
            let user = client.get_user(created.id).await.unwrap();
            assert_eq!(user.id, created.id);
            assert_eq!(user.name, name);
            assert_eq!(user.email, email);
            assert_eq!(user.tenants.len(), 1);
            assert_eq!(user.tenants[0].tenant_id, tenant.id);
            users.push(user);
        }
    }

    for page_size in [1, 2, 10] {
        let expected: HashSet<_> = users.iter().map(|u| u.id).collect();
        let actual: HashSet<_> = client
            .list_users(UserListConfig::default().page_size(page_size))
            .map_ok(|u| u.id)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(expected, actual, "page size {page_size}");
    }
    let expected: HashSet<_> = users.iter().take(3).map(|u| u.id).collect();
    let actual: HashSet<_> = client
        .list_users(UserListConfig::default().tenant_id(tenant_id_1).page_size(2))
        .map_ok(|u| u.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(expected, actual);

    for user in &users {
        client.delete_user(user.id).await.unwrap();
    }
    let left: Vec<_> = client.list_users(Default::default()).try_collect().await.unwrap();
    assert!(left.is_empty(), "{left:?}");

    client.delete_tenant(tenant_id_1).await.unwrap();
    client.delete_tenant(tenant_id_2).await.unwrap();
    assert!(client.list_tenants().await.unwrap().is_empty());
}
