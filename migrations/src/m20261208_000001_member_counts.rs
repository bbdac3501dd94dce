use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

/// Counts a tenant's members and an environment's users as they change, so a listing's total
/// costs a handful of rows rather than a scan of the tenant or the environment.
///
/// Triggers on `user_tenants` and `users` keep the counts, so every write (a creation, a
/// removal, a cascade from a deleted user or tenant, bulk SQL) counts without the code having to
/// remember it. A count is spread over shards summed on reading: on PostgreSQL each connection
/// adds to the shard of its backend process, so concurrent writes to one tenant do not wait on
/// one row; SQLite has one writer at a time and uses shard 0 alone.
///
/// On PostgreSQL the triggers run once per statement, over the rows it inserted or deleted
/// (transition tables), and add one change per key: a statement of thousands of rows (a tenant's
/// deletion, bulk SQL) updates a counter once, not thousands of times, which in one transaction
/// would each leave a row version for the next to step over.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Shards of a count on PostgreSQL.
const SHARDS: u32 = 16;

/// The counts: table, counted key, the column of the counted table it comes from, the counted
/// table.
const COUNTS: [(&str, &str, &str); 2] = [
    ("tenant_member_counts", "tenant_ref", "user_tenants"),
    ("environment_user_counts", "environment_id", "users"),
];

/// The changes counted, and the sign of each.
const EVENTS: [(&str, &str); 2] = [("INSERT", ""), ("DELETE", "-")];

/// The name of the trigger (and, on PostgreSQL, of its function) counting `event` on `counted`.
fn trigger(counted: &str, event: &str) -> String {
    format!("count_{counted}_{}", event.to_lowercase())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        for (table, key, counted) in COUNTS {
            manager
                .create_table(
                    Table::create()
                        .table(table)
                        .col(text(key))
                        .col(integer("shard"))
                        .col(big_integer("n"))
                        .primary_key(Index::create().col(key).col("shard"))
                        .to_owned(),
                )
                .await?;
            db.execute_unprepared(&format!(
                "INSERT INTO {table} ({key}, shard, n) SELECT {key}, 0, COUNT(*) FROM {counted} GROUP BY {key}"
            ))
            .await?;
            for (event, sign) in EVENTS {
                let name = trigger(counted, event);
                match backend {
                    DbBackend::Postgres => {
                        let (transition, rows) = match event {
                            "INSERT" => ("NEW", "inserted"),
                            _ => ("OLD", "deleted"),
                        };
                        // In key order, so that transactions lock shared counters in one order.
                        db.execute_unprepared(&format!(
                            "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                               INSERT INTO {table} ({key}, shard, n) \
                               SELECT {key}, pg_backend_pid() % {SHARDS}, {sign}COUNT(*) FROM {rows} \
                               GROUP BY {key} ORDER BY {key} \
                               ON CONFLICT ({key}, shard) DO UPDATE SET n = {table}.n + excluded.n; \
                               RETURN NULL; \
                             END $$"
                        ))
                        .await?;
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER {name} AFTER {event} ON {counted} \
                             REFERENCING {transition} TABLE AS {rows} \
                             FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
                        ))
                        .await?;
                    }
                    _ => {
                        let row = if event == "INSERT" { "NEW" } else { "OLD" };
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER {name} AFTER {event} ON {counted} FOR EACH ROW BEGIN \
                               INSERT INTO {table} ({key}, shard, n) VALUES ({row}.{key}, 0, {sign}1) \
                               ON CONFLICT ({key}, shard) DO UPDATE SET n = {table}.n + excluded.n; \
                             END"
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, _, counted) in COUNTS {
            for (event, _) in EVENTS {
                let name = trigger(counted, event);
                match manager.get_database_backend() {
                    DbBackend::Postgres => {
                        db.execute_unprepared(&format!("DROP TRIGGER {name} ON {counted}"))
                            .await?;
                        db.execute_unprepared(&format!("DROP FUNCTION {name}()")).await?;
                    }
                    _ => {
                        db.execute_unprepared(&format!("DROP TRIGGER {name}")).await?;
                    }
                }
            }
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
