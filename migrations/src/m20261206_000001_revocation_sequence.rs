use sea_orm_migration::{prelude::*, schema::*};

/// Numbers revocations by a database sequence, so replicas read them by that number rather than
/// by the revoking replica's clock: `session_revocations` is rebuilt with an auto-incremented
/// `seq` (PostgreSQL: BIGSERIAL; SQLite: AUTOINCREMENT, which never reuses a number), keeping
/// its rows.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("session_revocations_numbered")
                    .col(big_pk_auto("seq"))
                    .col(text("session_id"))
                    .col(timestamp_with_time_zone("revoked_at"))
                    // After this no access token of the session can be valid; the row can go.
                    .col(timestamp_with_time_zone("forget_after"))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO session_revocations_numbered (session_id, revoked_at, forget_after) \
             SELECT session_id, revoked_at, forget_after FROM session_revocations \
             ORDER BY revoked_at, session_id",
        )
        .await?;
        manager
            .drop_table(Table::drop().table("session_revocations").to_owned())
            .await?;
        manager
            .rename_table(
                Table::rename()
                    .table("session_revocations_numbered", "session_revocations")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_session_revocations_session_id")
                    .table("session_revocations")
                    .col("session_id")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_session_revocations_forget_after")
                    .table("session_revocations")
                    .col("forget_after")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("session_revocations_unnumbered")
                    .col(text("session_id").primary_key())
                    .col(timestamp_with_time_zone("revoked_at"))
                    .col(timestamp_with_time_zone("forget_after"))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO session_revocations_unnumbered (session_id, revoked_at, forget_after) \
                 SELECT session_id, revoked_at, forget_after FROM session_revocations",
            )
            .await?;
        manager
            .drop_table(Table::drop().table("session_revocations").to_owned())
            .await?;
        manager
            .rename_table(
                Table::rename()
                    .table("session_revocations_unnumbered", "session_revocations")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_session_revocations_revoked_at")
                    .table("session_revocations")
                    .col("revoked_at")
                    .to_owned(),
            )
            .await
    }
}
