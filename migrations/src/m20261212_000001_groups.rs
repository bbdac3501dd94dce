use sea_orm_migration::{prelude::*, schema::*};

/// Frontegg's user groups: a group lives in a tenant, and holds members of that tenant and roles
/// assignable there. A group follows its tenant and environment; a group's member link follows
/// the membership (a user removed from the tenant leaves its groups), and a role link the role.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("groups")
                    .col(text("id").primary_key())
                    .col(text("environment_id"))
                    // The row id of the tenant the group lives in.
                    .col(text("tenant_ref"))
                    .col(text("name"))
                    .col(text_null("description"))
                    .col(text_null("color"))
                    // Serialized JSON, as the contract carries it.
                    .col(text_null("metadata"))
                    // `frontegg`, or `scim2` for a group a directory provisions.
                    .col(text("managed_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_groups_environment")
                            .from("groups", "environment_id")
                            .to("environments", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_groups_tenant")
                            .from("groups", "tenant_ref")
                            .to("tenants", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Names are unique in a tenant; the index also serves a tenant's listing by its prefix.
        manager
            .create_index(
                Index::create()
                    .name("ux_groups_tenant_name")
                    .table("groups")
                    .col("tenant_ref")
                    .col("name")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_groups_environment")
                    .table("groups")
                    .col("environment_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("group_members")
                    .col(text("group_id"))
                    .col(text("user_id"))
                    // The group's tenant: with `user_id`, the membership the link follows.
                    .col(text("tenant_ref"))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(Index::create().col("group_id").col("user_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_group_members_group")
                            .from("group_members", "group_id")
                            .to("groups", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_group_members_membership")
                            .from("group_members", ("user_id", "tenant_ref"))
                            .to("user_tenants", ("user_id", "tenant_ref"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A membership's groups, one seek (what access reads), and the cascade from a membership.
        manager
            .create_index(
                Index::create()
                    .name("ix_group_members_membership")
                    .table("group_members")
                    .col("user_id")
                    .col("tenant_ref")
                    .col("group_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("group_roles")
                    .col(text("group_id"))
                    .col(text("role_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(Index::create().col("group_id").col("role_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_group_roles_group")
                            .from("group_roles", "group_id")
                            .to("groups", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_group_roles_role")
                            .from("group_roles", "role_id")
                            .to("roles", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A role's groups, and the cascade from a deleted role.
        manager
            .create_index(
                Index::create()
                    .name("ix_group_roles_role")
                    .table("group_roles")
                    .col("role_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["group_roles", "group_members", "groups"] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
