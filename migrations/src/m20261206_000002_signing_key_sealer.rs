use sea_orm_migration::{prelude::*, schema::*};

/// Records which master key sealed each signing key (`sealed_by`: the master key's id, a short
/// hash of it), so the master key can be changed with `sigil keys reseal`. And since automatic
/// rotation is now off unless configured, keys that still sign no longer expire by themselves:
/// a key gets its end when a newer one retires it.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The `expires_at` of a key that signs: never, in practice.
const NEVER: &str = "9999-12-31T23:59:59+00:00";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("signing_keys")
                    .add_column(text_null("sealed_by"))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table("signing_keys")
                    // A literal, not a parameter: PostgreSQL reads it as a timestamp, SQLite stores it as
                    // sigil writes timestamps.
                    .value("expires_at", Expr::cust(format!("'{NEVER}'")))
                    .and_where(Expr::col("retired_at").is_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("signing_keys")
                    .drop_column("sealed_by")
                    .to_owned(),
            )
            .await
    }
}
