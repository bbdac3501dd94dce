use sea_orm_migration::{prelude::*, schema::*};

/// Tasks of the bulk update of a user's roles across its tenants, when there are too many tenants
/// to update in the request: what to do, how far it got, what failed, and which replica works on
/// it until when (a lease, so two replicas never work on one task at once and a stopped
/// replica's task is taken over). A task follows its environment; it outlives its user, whose
/// remaining tenants are then recorded as failed.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("bulk_role_tasks")
                    .col(text("id").primary_key())
                    .col(text("environment_id"))
                    .col(text("user_id"))
                    // `NotStarted`, `InProgress`, `Completed` or `CompletedWithErrors`.
                    .col(text("status"))
                    // JSON array of the row ids of the tenants to update, in processing order.
                    .col(text("tenant_refs"))
                    .col(integer("total_tenants"))
                    .col(integer("processed_tenants"))
                    // JSON arrays of role ids.
                    .col(text("add_role_ids"))
                    .col(text("remove_role_ids"))
                    // JSON array of `{message, tenantId}`.
                    .col(text("errors"))
                    // The worker holding the task, and until when; both null when none does.
                    .col(text_null("lease_owner"))
                    .col(timestamp_with_time_zone_null("lease_until"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_bulk_role_tasks_environment")
                            .from("bulk_role_tasks", "environment_id")
                            .to("environments", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Workers look for unfinished tasks, oldest first.
        manager
            .create_index(
                Index::create()
                    .name("ix_bulk_role_tasks_status")
                    .table("bulk_role_tasks")
                    .col("status")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_bulk_role_tasks_environment")
                    .table("bulk_role_tasks")
                    .col("environment_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("bulk_role_tasks").to_owned())
            .await
    }
}
