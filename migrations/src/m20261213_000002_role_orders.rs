use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

/// Lets the paginated role listing read its pages in the orders callers use most from an index
/// instead of sorting every role of the environment for each page: by name, by level, and by
/// number of permissions. The number of a role's permissions is kept in `roles.permission_count`
/// by triggers on `role_permissions`, so every write (and the cascade of a deleted permission or
/// role) keeps it exact, whatever code path makes it.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The listing's indexed orders: (index, sort column); ties are broken by id.
const ORDERS: [(&str, &str); 3] = [
    ("ix_roles_environment_name", "name_folded"),
    ("ix_roles_environment_level", "level"),
    ("ix_roles_environment_permission_count", "permission_count"),
];

const POSTGRES_UP: &str = r#"
CREATE FUNCTION roles_count_permissions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE roles SET permission_count = permission_count - 1 WHERE id = OLD.role_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE roles SET permission_count = permission_count + 1 WHERE id = NEW.role_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER role_permissions_counted AFTER INSERT OR DELETE OR UPDATE OF role_id ON role_permissions
    FOR EACH ROW EXECUTE FUNCTION roles_count_permissions();
"#;

const POSTGRES_DOWN: &str = r#"
DROP TRIGGER role_permissions_counted ON role_permissions;
DROP FUNCTION roles_count_permissions();
"#;

const SQLITE_UP: [&str; 3] = [
    "CREATE TRIGGER role_permissions_counted_in AFTER INSERT ON role_permissions BEGIN \
     UPDATE roles SET permission_count = permission_count + 1 WHERE id = NEW.role_id; END",
    "CREATE TRIGGER role_permissions_counted_out AFTER DELETE ON role_permissions BEGIN \
     UPDATE roles SET permission_count = permission_count - 1 WHERE id = OLD.role_id; END",
    "CREATE TRIGGER role_permissions_counted_moved AFTER UPDATE OF role_id ON role_permissions BEGIN \
     UPDATE roles SET permission_count = permission_count - 1 WHERE id = OLD.role_id; \
     UPDATE roles SET permission_count = permission_count + 1 WHERE id = NEW.role_id; END",
];

const SQLITE_DOWN: [&str; 3] = [
    "DROP TRIGGER role_permissions_counted_in",
    "DROP TRIGGER role_permissions_counted_out",
    "DROP TRIGGER role_permissions_counted_moved",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("roles")
                    .add_column(ColumnDef::new("permission_count").integer().not_null().default(0))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        db.execute_unprepared(
            "UPDATE roles SET permission_count = \
             (SELECT COUNT(*) FROM role_permissions rp WHERE rp.role_id = roles.id)",
        )
        .await?;
        if backend == DbBackend::Postgres {
            db.execute_unprepared(POSTGRES_UP).await?;
        } else {
            for statement in SQLITE_UP {
                db.execute_unprepared(statement).await?;
            }
        }
        for (name, column) in ORDERS {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table("roles")
                        .col("environment_id")
                        .col(column)
                        .col("id")
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in ORDERS {
            manager
                .drop_index(Index::drop().name(name).table("roles").to_owned())
                .await?;
        }
        let db = manager.get_connection();
        if db.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(POSTGRES_DOWN).await?;
        } else {
            for statement in SQLITE_DOWN {
                db.execute_unprepared(statement).await?;
            }
        }
        manager
            .alter_table(
                Table::alter()
                    .table("roles")
                    .drop_column("permission_count")
                    .to_owned(),
            )
            .await
    }
}
