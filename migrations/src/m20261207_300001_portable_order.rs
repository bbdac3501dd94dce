use sea_orm_migration::{
    prelude::*,
    sea_orm::{DbBackend, Statement},
};

/// Makes listings sort and match the same on SQLite and PostgreSQL.
///
/// - Names are matched and sorted by a lower-case copy that sigil computes (Unicode-aware)
///   rather than by SQL's `lower()`, which SQLite applies to ASCII only: `name_folded` on users
///   and tenants, `tenant_id_folded` on tenants, empty when there is no name, so no NULL takes
///   part in an order.
/// - On PostgreSQL, the text columns listings sort by compare byte by byte (collation "C"),
///   as SQLite's do, rather than by the database's locale.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The lower-case form sigil matches and sorts by (the same as `domain::field::fold`).
fn fold(text: &str) -> String {
    text.to_lowercase()
}

/// Columns whose order must not depend on PostgreSQL's locale.
const BYTEWISE: &[(&str, &str)] = &[
    ("users", "email"),
    ("users", "provider"),
    ("users", "active_tenant_id"),
    ("users", "name_folded"),
    ("tenants", "tenant_id"),
    ("tenants", "name"),
    ("tenants", "name_folded"),
    ("tenants", "tenant_id_folded"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            ("users", "name_folded"),
            ("tenants", "name_folded"),
            ("tenants", "tenant_id_folded"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(ColumnDef::new(column).text().not_null().default(""))
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let users = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT id, name FROM users WHERE name IS NOT NULL",
            ))
            .await?;
        for row in users {
            let (id, name): (String, String) = (row.try_get("", "id")?, row.try_get("", "name")?);
            manager
                .exec_stmt(
                    Query::update()
                        .table("users")
                        .value("name_folded", fold(&name))
                        .and_where(Expr::col("id").eq(id))
                        .to_owned(),
                )
                .await?;
        }
        let tenants = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT id, name, tenant_id FROM tenants",
            ))
            .await?;
        for row in tenants {
            let id: String = row.try_get("", "id")?;
            let name: String = row.try_get("", "name")?;
            let tenant_id: String = row.try_get("", "tenant_id")?;
            manager
                .exec_stmt(
                    Query::update()
                        .table("tenants")
                        .value("name_folded", fold(&name))
                        .value("tenant_id_folded", fold(&tenant_id))
                        .and_where(Expr::col("id").eq(id))
                        .to_owned(),
                )
                .await?;
        }
        if backend == DbBackend::Postgres {
            for (table, column) in BYTEWISE {
                db.execute_unprepared(&format!(
                    r#"ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE text COLLATE "C""#
                ))
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() == DbBackend::Postgres {
            for (table, column) in BYTEWISE {
                db.execute_unprepared(&format!(
                    r#"ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE text COLLATE "default""#
                ))
                .await?;
            }
        }
        for (table, column) in [
            ("tenants", "tenant_id_folded"),
            ("tenants", "name_folded"),
            ("users", "name_folded"),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
