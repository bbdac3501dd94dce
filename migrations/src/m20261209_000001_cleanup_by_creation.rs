use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

/// Lets a refresh keep its writes off the indexes: every refresh marks a token used and pushes its
/// session's end, and indexes on `refresh_tokens.used_at` and `sessions.expires_at` (for the
/// cleanup) made each of those updates rewrite every index of the row (PostgreSQL cannot update in
/// place, "HOT", when an indexed column changes), and each new token fill two more. The cleanup
/// now finds ended rows through their creation time, which never changes and comes before any end
/// (see `store::cleanup`); revocations, which are rare, keep their index.
///
/// On PostgreSQL, refresh tokens are also stored with room beside them (`fillfactor`): each is
/// updated once, when it is used, and PostgreSQL updates in place (without a new entry in every
/// index of the table) only when the new version fits on the same page.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Replaced indexes: name, table, column.
const DROPPED: &[(&str, &str, &str)] = &[
    ("ix_sessions_expires_at", "sessions", "expires_at"),
    ("ix_refresh_tokens_expires_at", "refresh_tokens", "expires_at"),
    ("ix_refresh_tokens_used_at", "refresh_tokens", "used_at"),
];

/// Their replacements: name, table, column.
const CREATED: &[(&str, &str, &str)] = &[
    ("ix_sessions_created_at", "sessions", "created_at"),
    ("ix_refresh_tokens_created_at", "refresh_tokens", "created_at"),
];

async fn create(
    manager: &SchemaManager<'_>,
    indexes: &[(&'static str, &'static str, &'static str)],
) -> Result<(), DbErr> {
    for (name, table, column) in indexes {
        manager
            .create_index(
                Index::create()
                    .name(*name)
                    .table(*table)
                    .col(*column)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

async fn drop(
    manager: &SchemaManager<'_>,
    indexes: &[(&'static str, &'static str, &'static str)],
) -> Result<(), DbErr> {
    for (name, table, _) in indexes {
        manager
            .drop_index(Index::drop().name(*name).table(*table).if_exists().to_owned())
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create(manager, CREATED).await?;
        drop(manager, DROPPED).await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("ALTER TABLE refresh_tokens SET (fillfactor = 50)")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("ALTER TABLE refresh_tokens RESET (fillfactor)")
                .await?;
        }
        create(manager, DROPPED).await?;
        drop(manager, CREATED).await
    }
}
