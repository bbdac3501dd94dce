use sea_orm_migration::{prelude::*, schema::*};

/// Policy documents: per environment (`tenant_ref` empty) and, where a kind allows it, per tenant
/// (`tenant_ref` the tenant's row id). A document holds only the fields that were written, as a
/// JSON object; the rest follow the level below.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("policies")
                    .col(text("environment_id"))
                    .col(text("tenant_ref"))
                    .col(text("kind"))
                    .col(text("document"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .primary_key(
                        Index::create()
                            .col("environment_id")
                            .col("kind")
                            .col("tenant_ref"),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_policies_environment")
                            .from("policies", "environment_id")
                            .to("environments", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("policies").to_owned())
            .await
    }
}
