use sea_orm_migration::{prelude::*, schema::*};

/// Gives users two flags the environment sets: `super_user`, which grants every permission in
/// every tenant the user is a member of, and `invisible`, which leaves the user out of its
/// tenants' member listings. A partial index on the environments that have invisible users lets
/// a tenant listing learn in one seek whether it must filter at all, so listings in environments
/// without any keep their index-only path.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["super_user", "invisible"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("users")
                        .add_column(boolean(column).default(false))
                        .to_owned(),
                )
                .await?;
        }
        // Both backends read `WHERE invisible` as a condition on the boolean column.
        manager
            .get_connection()
            .execute_unprepared("CREATE INDEX ix_users_invisible ON users (environment_id) WHERE invisible")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("ix_users_invisible").table("users").to_owned())
            .await?;
        for column in ["invisible", "super_user"] {
            manager
                .alter_table(Table::alter().table("users").drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
