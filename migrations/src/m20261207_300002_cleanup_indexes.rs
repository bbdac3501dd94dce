use sea_orm_migration::prelude::*;

/// Indexes for the periodic cleanup, which finds rows by their end (expiry, revocation, use),
/// and for revoking a tenant's sessions, which found them by scanning the environment's.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each index: name, table, columns.
const INDEXES: &[(&str, &str, &[&str])] = &[
    (
        "ix_sessions_environment_tenant",
        "sessions",
        &["environment_id", "tenant_id"],
    ),
    ("ix_sessions_expires_at", "sessions", &["expires_at"]),
    ("ix_sessions_revoked_at", "sessions", &["revoked_at"]),
    ("ix_refresh_tokens_expires_at", "refresh_tokens", &["expires_at"]),
    ("ix_refresh_tokens_used_at", "refresh_tokens", &["used_at"]),
    ("ix_user_tokens_expires_at", "user_tokens", &["expires_at"]),
    ("ix_user_tokens_consumed_at", "user_tokens", &["consumed_at"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, columns) in INDEXES {
            let mut index = Index::create();
            index.name(*name).table(*table).if_not_exists();
            for column in *columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in INDEXES {
            manager
                .drop_index(Index::drop().name(*name).table(*table).to_owned())
                .await?;
        }
        Ok(())
    }
}
