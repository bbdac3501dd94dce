use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("users")
                    .if_not_exists()
                    .col(text("id").primary_key())
                    .col(text("environment_id"))
                    // Lower case, so the unique index is case-insensitive on every backend.
                    .col(text("email"))
                    .col(text_null("name"))
                    .col(text_null("profile_picture_url"))
                    .col(text_null("phone_number"))
                    .col(text("provider"))
                    .col(text_null("metadata"))
                    .col(text_null("vendor_metadata"))
                    .col(text_null("external_id"))
                    // argon2id PHC string; unset for invited users and single sign-on users.
                    .col(text_null("password_hash"))
                    .col(boolean("verified"))
                    .col(boolean("activated"))
                    .col(boolean("locked"))
                    .col(boolean("mfa_bypass"))
                    // The tenant id (not the row id) of the user's current tenant.
                    .col(text_null("active_tenant_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("last_login"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_users_environment")
                            .from("users", "environment_id")
                            .to("environments", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_users_environment_email")
                    .table("users")
                    .col("environment_id")
                    .col("email")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_users_environment_created")
                    .table("users")
                    .col("environment_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("users").to_owned()).await
    }
}
