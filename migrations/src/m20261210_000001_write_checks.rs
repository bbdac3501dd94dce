use sea_orm_migration::{prelude::*, schema::*};

/// A one-row table that a replica writes to while its last write failed, to learn as soon as the
/// database can write again (readiness turns back to SERVING on the first write that commits).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("write_checks")
                    .col(integer("id").primary_key())
                    .col(timestamp_with_time_zone("checked_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("write_checks").to_owned())
            .await
    }
}
