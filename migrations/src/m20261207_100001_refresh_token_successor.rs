use sea_orm_migration::{prelude::*, schema::*};

/// Records, on a refresh token when it is exchanged, the token that replaced it, sealed with a
/// key derived from the used token itself: a repeated refresh within the grace window (a second
/// tab, a retry after a lost response) gets the same successor back, while the database alone
/// (which keeps only digests of tokens) cannot open it.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("refresh_tokens")
                    .add_column(text_null("successor"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("refresh_tokens")
                    .drop_column("successor")
                    .to_owned(),
            )
            .await
    }
}
