use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("user_tenants")
                    .if_not_exists()
                    .col(text("user_id"))
                    // The tenant's row id.
                    .col(text("tenant_ref"))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(Index::create().col("user_id").col("tenant_ref"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_tenants_user")
                            .from("user_tenants", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_tenants_tenant")
                            .from("user_tenants", "tenant_ref")
                            .to("tenants", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
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
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("user_tenants").to_owned())
            .await
    }
}
