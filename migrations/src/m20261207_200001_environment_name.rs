use sea_orm_migration::{prelude::*, schema::*};

/// Gives environments a name, so that operators telling several apart (`sigil environments list`,
/// the environment administration API) see more than ids (existing environments get an empty
/// one), and records when an environment's secret last changed: environment tokens issued before
/// then stop working, so rotating a leaked secret also cuts off what it obtained.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("environments")
                    .add_column(text("name").default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("environments")
                    .add_column(timestamp_with_time_zone_null("secret_changed_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("environments")
                    .drop_column("secret_changed_at")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("environments")
                    .drop_column("name")
                    .to_owned(),
            )
            .await
    }
}
