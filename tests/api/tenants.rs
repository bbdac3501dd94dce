//! Tenant management over gRPC.

use sigil::transport::grpc::pb;
use tonic::Code;

use crate::helpers::{Tenants, assert_error, assert_invalid, invitee, spawn_app, tenant};

async fn create(tenants: &mut Tenants, request: pb::CreateTenantRequest) -> pb::Tenant {
    tenants
        .create_tenant(request)
        .await
        .unwrap()
        .into_inner()
        .tenant
        .unwrap()
}

async fn list(tenants: &mut Tenants, request: pb::ListTenantsRequest) -> pb::ListTenantsResponse {
    tenants.list_tenants(request).await.unwrap().into_inner()
}

#[tokio::test]
async fn a_created_tenant_can_be_read_back_with_every_field() {
    let app = spawn_app().await;
    let (mut tenants, _) = app.clients().await;
    let created = create(
        &mut tenants,
        pb::CreateTenantRequest {
            tenant_id: "acme".into(),
            name: "Acme Corp".into(),
            status: "active".into(),
            website: "https://acme.test".into(),
            application_url: "https://app.acme.test".into(),
            logo_url: "https://acme.test/logo.png".into(),
            address: "1 Main St".into(),
            timezone: "Europe/Paris".into(),
            currency: "EUR".into(),
            creator_name: "Ann".into(),
            creator_email: "Ann@Acme.test".into(),
            is_reseller: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(created.tenant_id, "acme");
    assert_eq!(created.creator_email, "ann@acme.test");
    assert_eq!(created.metadata, "{}");
    assert!(created.created_at.is_some());
    let fetched = tenants
        .get_tenant(pb::GetTenantRequest {
            tenant_id: "acme".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .tenant
        .unwrap();
    assert_eq!(fetched, created);
}

#[tokio::test]
async fn a_tenant_without_an_id_gets_a_generated_one() {
    let app = spawn_app().await;
    let (mut tenants, _) = app.clients().await;
    let created = create(&mut tenants, tenant("", "Nameless Id")).await;
    assert!(uuid::Uuid::parse_str(&created.tenant_id).is_ok());
}

#[tokio::test]
async fn bad_tenant_fields_are_invalid_arguments_naming_the_field() {
    let app = spawn_app().await;
    let (mut tenants, _) = app.clients().await;
    let cases = [
        (tenant("ok", ""), "name"),
        (tenant("ok", &"n".repeat(256)), "name"),
        (tenant("has space", "x"), "tenant_id"),
        (tenant("has/slash", "x"), "tenant_id"),
        (tenant(&"t".repeat(256), "x"), "tenant_id"),
        (
            pb::CreateTenantRequest {
                website: "not a url".into(),
                ..tenant("ok", "x")
            },
            "website",
        ),
        (
            pb::CreateTenantRequest {
                creator_email: "nobody".into(),
                ..tenant("ok", "x")
            },
            "creator_email",
        ),
        (
            pb::CreateTenantRequest {
                parent_tenant_id: "missing".into(),
                ..tenant("ok", "x")
            },
            "parent_tenant_id",
        ),
    ];
    for (request, field) in cases {
        let status = tenants.create_tenant(request).await.unwrap_err();
        assert_invalid(&status, field);
    }
    assert_eq!(app.count("tenants", "1=1").await, 0, "nothing written");
}

#[tokio::test]
async fn a_duplicate_tenant_id_already_exists() {
    let app = spawn_app().await;
    let (mut tenants, _) = app.clients().await;
    create(&mut tenants, tenant("acme", "Acme")).await;
    let status = tenants.create_tenant(tenant("acme", "Other")).await.unwrap_err();
    assert_error(&status, Code::AlreadyExists, "TENANT_ALREADY_EXISTS");
}

#[tokio::test]
async fn unknown_tenants_are_not_found_everywhere() {
    let app = spawn_app().await;
    let (mut tenants, _) = app.clients().await;
    let id = || "missing".to_string();
    let statuses = [
        tenants
            .get_tenant(pb::GetTenantRequest { tenant_id: id() })
            .await
            .unwrap_err(),
        tenants
            .update_tenant(pb::UpdateTenantRequest {
                tenant_id: id(),
                name: Some("x".into()),
                ..Default::default()
            })
            .await
            .unwrap_err(),
        tenants
            .delete_tenant(pb::DeleteTenantRequest { tenant_id: id() })
            .await
            .unwrap_err(),
        tenants
            .add_tenant_metadata(pb::AddTenantMetadataRequest {
                tenant_id: id(),
                metadata: "{}".into(),
            })
            .await
            .unwrap_err(),
        tenants
            .delete_tenant_metadata(pb::DeleteTenantMetadataRequest {
                tenant_id: id(),
                key: "k".into(),
            })
            .await
            .unwrap_err(),
    ];
    for status in statuses {
        assert_error(&status, Code::NotFound, "TENANT_NOT_FOUND");
    }
}

#[tokio::test]
async fn updates_change_only_the_fields_that_are_set() {
    let app = spawn_app().await;
    let (mut tenants, _) = app.clients().await;
    create(
        &mut tenants,
        pb::CreateTenantRequest {
            website: "https://acme.test".into(),
            currency: "EUR".into(),
            ..tenant("acme", "Acme")
        },
    )
    .await;
    let updated = tenants
        .update_tenant(pb::UpdateTenantRequest {
            tenant_id: "acme".into(),
            name: Some("Acme Renamed".into()),
            currency: Some(String::new()),
            is_reseller: Some(true),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .tenant
        .unwrap();
    assert_eq!(updated.name, "Acme Renamed");
    assert_eq!(updated.website, "https://acme.test");
    assert_eq!(updated.currency, "", "an empty string clears a field");
    assert!(updated.is_reseller);

    let status = tenants
        .update_tenant(pb::UpdateTenantRequest {
            tenant_id: "acme".into(),
            name: Some("  ".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&status, "name");
    let status = tenants
        .update_tenant(pb::UpdateTenantRequest {
            tenant_id: "acme".into(),
            logo_url: Some("ftp://x".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&status, "logo_url");
}

#[tokio::test]
async fn metadata_merges_keys_and_deletes_one_key() {
    let app = spawn_app().await;
    let (mut tenants, _) = app.clients().await;
    create(&mut tenants, tenant("acme", "Acme")).await;
    let add = |metadata: &str| pb::AddTenantMetadataRequest {
        tenant_id: "acme".into(),
        metadata: metadata.into(),
    };
    tenants
        .add_tenant_metadata(add(r#"{"plan":"free","seats":5}"#))
        .await
        .unwrap();
    let merged = tenants
        .add_tenant_metadata(add(r#"{"plan":"pro","region":{"name":"eu"}}"#))
        .await
        .unwrap()
        .into_inner()
        .tenant
        .unwrap();
    let metadata: serde_json::Value = serde_json::from_str(&merged.metadata).unwrap();
    assert_eq!(
        metadata,
        serde_json::json!({"plan": "pro", "seats": 5, "region": {"name": "eu"}})
    );

    let trimmed = tenants
        .delete_tenant_metadata(pb::DeleteTenantMetadataRequest {
            tenant_id: "acme".into(),
            key: "seats".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .tenant
        .unwrap();
    let metadata: serde_json::Value = serde_json::from_str(&trimmed.metadata).unwrap();
    assert_eq!(
        metadata,
        serde_json::json!({"plan": "pro", "region": {"name": "eu"}})
    );

    // Serialized JSON of any kind is metadata; what is not JSON is refused.
    for bad in ["{not json", ""] {
        let status = tenants.add_tenant_metadata(add(bad)).await.unwrap_err();
        assert_invalid(&status, "metadata");
    }
    let status = tenants
        .delete_tenant_metadata(pb::DeleteTenantMetadataRequest {
            tenant_id: "acme".into(),
            key: String::new(),
        })
        .await
        .unwrap_err();
    assert_invalid(&status, "key");
}

#[tokio::test]
async fn deleting_a_tenant_removes_its_sole_members_and_keeps_shared_ones() {
    let app = spawn_app().await;
    let (mut tenants, mut users) = app.clients().await;
    create(&mut tenants, tenant("acme", "Acme")).await;
    create(&mut tenants, tenant("other", "Other")).await;
    let sole = users
        .create_user(invitee("acme", "sole@acme.test"))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    let shared = users
        .create_user(invitee("acme", "shared@acme.test"))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    users
        .add_user_to_tenant(pb::AddUserToTenantRequest {
            user_id: shared.id.clone(),
            tenant_id: "other".into(),
        })
        .await
        .unwrap();

    tenants
        .delete_tenant(pb::DeleteTenantRequest {
            tenant_id: "acme".into(),
        })
        .await
        .unwrap();

    let status = tenants
        .get_tenant(pb::GetTenantRequest {
            tenant_id: "acme".into(),
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "TENANT_NOT_FOUND");
    let status = users
        .get_user(pb::GetUserRequest { user_id: sole.id })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "USER_NOT_FOUND");
    let kept = users
        .get_user(pb::GetUserRequest { user_id: shared.id })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(kept.tenant_ids, vec!["other".to_string()]);
    assert_eq!(
        kept.tenant_id, "other",
        "the current tenant moves to a remaining one"
    );
    let status = tenants
        .delete_tenant(pb::DeleteTenantRequest {
            tenant_id: "acme".into(),
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "TENANT_NOT_FOUND");
}

#[tokio::test]
async fn sub_tenants_move_to_the_grandparent_when_their_parent_is_deleted() {
    let app = spawn_app().await;
    let (mut tenants, _) = app.clients().await;
    create(&mut tenants, tenant("root", "Root")).await;
    create(
        &mut tenants,
        pb::CreateTenantRequest {
            parent_tenant_id: "root".into(),
            ..tenant("middle", "Middle")
        },
    )
    .await;
    create(
        &mut tenants,
        pb::CreateTenantRequest {
            parent_tenant_id: "middle".into(),
            ..tenant("leaf", "Leaf")
        },
    )
    .await;
    tenants
        .delete_tenant(pb::DeleteTenantRequest {
            tenant_id: "middle".into(),
        })
        .await
        .unwrap();
    let leaf = tenants
        .get_tenant(pb::GetTenantRequest {
            tenant_id: "leaf".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .tenant
        .unwrap();
    assert_eq!(leaf.parent_tenant_id, "root");
}

#[tokio::test]
async fn creating_a_deleted_tenant_id_revives_it_fresh() {
    let app = spawn_app().await;
    let (mut tenants, _) = app.clients().await;
    let first = create(&mut tenants, tenant("acme", "Acme")).await;
    tenants
        .add_tenant_metadata(pb::AddTenantMetadataRequest {
            tenant_id: "acme".into(),
            metadata: r#"{"old":true}"#.into(),
        })
        .await
        .unwrap();
    tenants
        .delete_tenant(pb::DeleteTenantRequest {
            tenant_id: "acme".into(),
        })
        .await
        .unwrap();
    let revived = create(&mut tenants, tenant("acme", "Acme Reborn")).await;
    assert_eq!(revived.id, first.id);
    assert_eq!(revived.name, "Acme Reborn");
    assert_eq!(revived.metadata, "{}");
    let listed = list(&mut tenants, pb::ListTenantsRequest::default()).await;
    assert_eq!(listed.items.len(), 1);
}

#[tokio::test]
async fn listing_pages_through_tenants_at_the_edges() {
    let app = spawn_app().await;
    let (mut tenants, _) = app.clients().await;
    let page = |limit: i32, offset: i32| pb::ListTenantsRequest {
        limit,
        offset,
        sort_by: pb::TenantSortBy::TenantId.into(),
        ..Default::default()
    };

    let empty = list(&mut tenants, page(2, 0)).await;
    assert!(empty.items.is_empty());
    assert_eq!(
        empty.metadata,
        Some(pb::PaginationMetadata {
            total_items: 0,
            total_pages: 0
        })
    );

    create(&mut tenants, tenant("t1", "One")).await;
    let one = list(&mut tenants, page(2, 0)).await;
    assert_eq!(one.items.len(), 1);
    assert_eq!(
        one.metadata,
        Some(pb::PaginationMetadata {
            total_items: 1,
            total_pages: 1
        })
    );

    for id in ["t2", "t3", "t4"] {
        create(&mut tenants, tenant(id, id)).await;
    }
    // Exactly two full pages of two.
    let first = list(&mut tenants, page(2, 0)).await;
    let second = list(&mut tenants, page(2, 2)).await;
    let beyond = list(&mut tenants, page(2, 4)).await;
    let ids = |r: &pb::ListTenantsResponse| r.items.iter().map(|t| t.tenant_id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&first), ["t1", "t2"]);
    assert_eq!(ids(&second), ["t3", "t4"]);
    assert!(beyond.items.is_empty());
    assert_eq!(
        first.metadata,
        Some(pb::PaginationMetadata {
            total_items: 4,
            total_pages: 2
        })
    );

    let descending = list(
        &mut tenants,
        pb::ListTenantsRequest {
            order: pb::SortOrder::Desc.into(),
            ..page(3, 0)
        },
    )
    .await;
    assert_eq!(ids(&descending), ["t4", "t3", "t2"]);
    assert_eq!(descending.metadata.unwrap().total_pages, 2);

    let default_limit = list(&mut tenants, pb::ListTenantsRequest::default()).await;
    assert_eq!(default_limit.items.len(), 4);

    for (limit, offset, field) in [(201, 0, "limit"), (-1, 0, "limit"), (10, -1, "offset")] {
        let status = tenants.list_tenants(page(limit, offset)).await.unwrap_err();
        assert_invalid(&status, field);
    }
}

#[tokio::test]
async fn listing_filters_by_text_and_by_ids() {
    let app = spawn_app().await;
    let (mut tenants, _) = app.clients().await;
    create(&mut tenants, tenant("acme-eu", "Acme Europe")).await;
    create(&mut tenants, tenant("acme-us", "ACME America")).await;
    create(&mut tenants, tenant("globex", "Globex 100%")).await;
    let filtered = |filter: &str| pb::ListTenantsRequest {
        filter: filter.into(),
        sort_by: pb::TenantSortBy::Name.into(),
        ..Default::default()
    };
    let names = |r: pb::ListTenantsResponse| r.items.into_iter().map(|t| t.name).collect::<Vec<_>>();
    assert_eq!(
        names(list(&mut tenants, filtered("acme")).await),
        ["ACME America", "Acme Europe"]
    );
    assert_eq!(
        names(list(&mut tenants, filtered("GLOBEX")).await),
        ["Globex 100%"]
    );
    assert_eq!(names(list(&mut tenants, filtered("100%")).await), ["Globex 100%"]);
    assert!(
        names(list(&mut tenants, filtered("0%x")).await).is_empty(),
        "% is literal"
    );
    let by_ids = list(
        &mut tenants,
        pb::ListTenantsRequest {
            tenant_ids: vec!["globex".into(), "acme-eu".into(), "missing".into()],
            sort_by: pb::TenantSortBy::TenantId.into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        by_ids
            .items
            .iter()
            .map(|t| t.tenant_id.as_str())
            .collect::<Vec<_>>(),
        ["acme-eu", "globex"]
    );
}
