use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("tenants")
                    .if_not_exists()
                    .col(text("id").primary_key())
                    .col(text("environment_id"))
                    .col(text("tenant_id"))
                    .col(text("name"))
                    .col(text_null("status"))
                    .col(text_null("website"))
                    .col(text_null("application_url"))
                    .col(text_null("logo"))
                    .col(text_null("logo_url"))
                    .col(text_null("address"))
                    .col(text_null("timezone"))
                    .col(text_null("currency"))
                    .col(text_null("creator_name"))
                    .col(text_null("creator_email"))
                    .col(boolean("is_reseller"))
                    .col(text_null("parent_tenant_id"))
                    // A JSON object, serialized.
                    .col(text("metadata"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    // Deleted tenants keep their row so that creating the id again revives them.
                    .col(timestamp_with_time_zone_null("deleted_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tenants_environment")
                            .from("tenants", "environment_id")
                            .to("environments", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_tenants_environment_tenant_id")
                    .table("tenants")
                    .col("environment_id")
                    .col("tenant_id")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_tenants_environment_created")
                    .table("tenants")
                    .col("environment_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("tenants").to_owned())
            .await
    }
}
