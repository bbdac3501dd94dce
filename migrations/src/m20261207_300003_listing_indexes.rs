use sea_orm_migration::{prelude::*, schema::*};

/// Lets a tenant's users be listed a page at a time at the cost of the page, not of the tenant
/// or the environment: each membership carries its user's creation time (`user_created_at`, set
/// when the membership is made; a user's creation time never changes), and an index on
/// (tenant, user's creation time, user id) hands out a tenant's users in the default order, and
/// counts them without reading the users. It replaces the index on the tenant alone, which it
/// begins with. Names get an index for the environment-wide listing sorted by name.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("user_tenants")
                    .add_column(timestamp_with_time_zone_null("user_created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE user_tenants SET user_created_at = \
                 (SELECT created_at FROM users WHERE users.id = user_tenants.user_id)",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_user_tenants_tenant_user_created")
                    .table("user_tenants")
                    .col("tenant_ref")
                    .col("user_created_at")
                    .col("user_id")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_user_tenants_tenant")
                    .table("user_tenants")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_users_environment_name")
                    .table("users")
                    .col("environment_id")
                    .col("name_folded")
                    .col("id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_users_environment_name")
                    .table("users")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_user_tenants_tenant")
                    .table("user_tenants")
                    .col("tenant_ref")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_user_tenants_tenant_user_created")
                    .table("user_tenants")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("user_tenants")
                    .drop_column("user_created_at")
                    .to_owned(),
            )
            .await
    }
}
