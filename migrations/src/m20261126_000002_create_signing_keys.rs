use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("signing_keys")
                    .if_not_exists()
                    .col(text("kid").primary_key())
                    .col(text("environment_id"))
                    .col(text("algorithm"))
                    // PKCS#8 DER, base64; sealed when a master key is configured.
                    .col(text("private_key"))
                    .col(boolean("encrypted"))
                    // RSA public modulus and exponent, base64url, as a JWK carries them.
                    .col(text("public_n"))
                    .col(text("public_e"))
                    .col(timestamp_with_time_zone("created_at"))
                    // Set when a newer key takes over signing; the key still verifies until expiry.
                    .col(timestamp_with_time_zone_null("retired_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_signing_keys_environment")
                            .from("signing_keys", "environment_id")
                            .to("environments", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_signing_keys_environment")
                    .table("signing_keys")
                    .col("environment_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("signing_keys").to_owned())
            .await
    }
}
