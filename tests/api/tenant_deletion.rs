//! A tenant being deleted gains no member: joining it and deleting it, at the same time, end
//! with the tenant deleted and no membership of it left (PostgreSQL runs them concurrently; on
//! SQLite writers take turns).

use sigil::transport::grpc::pb;
use tonic::Code;

use crate::helpers::{invitee, spawn_app, tenant};

/// Rounds of the race: enough that, without the tenant read being share-locked, a membership
/// of a deleted tenant shows in nearly every run on PostgreSQL.
const ROUNDS: usize = 40;

#[tokio::test]
async fn users_added_while_their_tenant_is_deleted_do_not_stay_in_it() {
    let app = spawn_app().await;
    let (mut tenants, mut users) = app.clients().await;
    tenants.create_tenant(tenant("home", "Home")).await.unwrap();
    for round in 0..ROUNDS {
        let doomed = format!("doomed-{round}");
        tenants.create_tenant(tenant(&doomed, "Doomed")).await.unwrap();
        let member = users
            .create_user(invitee("home", &format!("member-{round}@example.com")))
            .await
            .unwrap()
            .into_inner()
            .user
            .unwrap();
        let (mut t, mut u1, mut u2) = (tenants.clone(), users.clone(), users.clone());
        let delete = {
            let doomed = doomed.clone();
            async move {
                t.delete_tenant(pb::DeleteTenantRequest { tenant_id: doomed })
                    .await
                    .map(|_| ())
            }
        };
        let add = {
            let doomed = doomed.clone();
            async move {
                u1.add_user_to_tenant(pb::AddUserToTenantRequest {
                    user_id: member.id,
                    tenant_id: doomed,
                })
                .await
                .map(|_| ())
            }
        };
        let create = {
            let request = invitee(&doomed, &format!("newcomer-{round}@example.com"));
            async move { u2.create_user(request).await.map(|_| ()) }
        };
        let (deleted, added, created) = tokio::join!(delete, add, create);
        deleted.expect("the deletion succeeds");
        for outcome in [added, created] {
            if let Err(status) = outcome {
                assert_eq!(status.code(), Code::NotFound, "{status:?}");
            }
        }
    }
    assert_eq!(
        app.count(
            "user_tenants",
            "tenant_ref IN (SELECT id FROM tenants WHERE deleted_at IS NOT NULL)"
        )
        .await,
        0,
        "memberships of deleted tenants"
    );
    assert_eq!(
        app.count("users", "id NOT IN (SELECT user_id FROM user_tenants)")
            .await,
        0,
        "users created into a deleted tenant and left in none"
    );
}
