use sea_orm_migration::{
    prelude::*,
    sea_orm::{DbBackend, Statement},
};

/// Lets the paginated role listing filter, sort and page in SQL, the same on SQLite and
/// PostgreSQL: lower-case copies of a role's key, name and description that sigil computes
/// (Unicode-aware; empty for no description), compared byte by byte on PostgreSQL as on SQLite,
/// and an index in the listing's default order.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The lower-case form sigil matches and sorts by (the same as `domain::field::fold`).
fn fold(text: &str) -> String {
    text.to_lowercase()
}

const FOLDED: [&str; 3] = ["key_folded", "name_folded", "description_folded"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in FOLDED {
            manager
                .alter_table(
                    Table::alter()
                        .table("roles")
                        .add_column(ColumnDef::new(column).text().not_null().default(""))
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let roles = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT id, key, name, description FROM roles",
            ))
            .await?;
        for row in roles {
            let id: String = row.try_get("", "id")?;
            let key: String = row.try_get("", "key")?;
            let name: String = row.try_get("", "name")?;
            let description: Option<String> = row.try_get("", "description")?;
            manager
                .exec_stmt(
                    Query::update()
                        .table("roles")
                        .value("key_folded", fold(&key))
                        .value("name_folded", fold(&name))
                        .value(
                            "description_folded",
                            fold(description.as_deref().unwrap_or_default()),
                        )
                        .and_where(Expr::col("id").eq(id))
                        .to_owned(),
                )
                .await?;
        }
        if backend == DbBackend::Postgres {
            for column in ["key", "name_folded", "description_folded"] {
                db.execute_unprepared(&format!(
                    r#"ALTER TABLE "roles" ALTER COLUMN "{column}" TYPE text COLLATE "C""#
                ))
                .await?;
            }
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_roles_environment_created")
                    .table("roles")
                    .col("environment_id")
                    .col("created_at")
                    .col("id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_roles_environment_created")
                    .table("roles")
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        if db.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(r#"ALTER TABLE "roles" ALTER COLUMN "key" TYPE text COLLATE "default""#)
                .await?;
        }
        for column in FOLDED {
            manager
                .alter_table(Table::alter().table("roles").drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
