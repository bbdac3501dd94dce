use sea_orm_migration::{prelude::*, schema::*};

/// Records, per environment, the release of the built-in permission catalog it was given, so
/// that keys a later release adds reach environments made before it, once, while built-in
/// permissions a vendor deleted stay deleted. Environments already holding the built-in
/// categories hold release 1; the others (none, unless roles were never seeded) start at 0 and
/// are seeded in full at the next start.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("environments")
                    .add_column(integer("builtin_release").default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table("environments")
                    .value("builtin_release", 1)
                    .and_where(
                        Expr::col("id").in_subquery(
                            Query::select()
                                .column("environment_id")
                                .from("permission_categories")
                                .and_where(Expr::col("fe_category").eq(true))
                                .to_owned(),
                        ),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("environments")
                    .drop_column("builtin_release")
                    .to_owned(),
            )
            .await
    }
}
