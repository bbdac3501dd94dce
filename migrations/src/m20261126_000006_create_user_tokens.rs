use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("user_tokens")
                    .if_not_exists()
                    .col(text("id").primary_key())
                    .col(text("user_id"))
                    // What the token is for, such as "activation".
                    .col(text("kind"))
                    // SHA-256 of the token, hex; the token itself is never stored.
                    .col(text("token_hash"))
                    // SHA-256 of the short code that goes with the token, if any.
                    .col(text_null("code_hash"))
                    .col(integer("failed_attempts").default(0))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    // Set once, atomically, when the token is used or revoked.
                    .col(timestamp_with_time_zone_null("consumed_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_tokens_user")
                            .from("user_tokens", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_user_tokens_token_hash")
                    .table("user_tokens")
                    .col("token_hash")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_user_tokens_user_kind")
                    .table("user_tokens")
                    .col("user_id")
                    .col("kind")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("user_tokens").to_owned())
            .await
    }
}
