use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("environments")
                    .if_not_exists()
                    .col(text("id").primary_key())
                    .col(text("client_id"))
                    .col(text("secret_hash"))
                    // The vendor host that selects this environment; unset for a single environment.
                    .col(text_null("host"))
                    // Settings as a JSON object; absent keys take their defaults.
                    .col(text("settings"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_environments_client_id")
                    .table("environments")
                    .col("client_id")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_environments_host")
                    .table("environments")
                    .col("host")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("environments").to_owned())
            .await
    }
}
