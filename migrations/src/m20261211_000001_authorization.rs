use sea_orm_migration::{prelude::*, schema::*};

/// Frontegg's authorization model: permission categories, permissions, roles (environment-wide,
/// or of one tenant), the permissions of each role, and the roles of each membership (a user in a
/// tenant). Every row follows its parent: an environment takes everything of its own with it, a
/// role or a permission its links, a membership its roles. The built-in permissions and roles are
/// not written here but by the service as the migrations commit (`store::migrate`), so that their
/// catalogue lives in one place.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("permission_categories")
                    // Ids are the environment's own (a caller may choose one), so the same id in
                    // another environment neither clashes nor tells that it exists there.
                    .col(text("id"))
                    .col(text("environment_id"))
                    .col(text("name"))
                    .col(text_null("description"))
                    // Built in: present in every environment, never deleted.
                    .col(boolean("fe_category"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .primary_key(
                        Index::create()
                            .name("permission_categories_pkey")
                            .col("environment_id")
                            .col("id"),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_permission_categories_environment")
                            .from("permission_categories", "environment_id")
                            .to("environments", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_permission_categories_environment")
                    .table("permission_categories")
                    .col("environment_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("permissions")
                    .col(text("id").primary_key())
                    .col(text("environment_id"))
                    .col(text("key"))
                    .col(text("name"))
                    .col(text_null("description"))
                    // The service refuses to delete a category that still lists permissions;
                    // an environment's deletion takes both.
                    .col(text_null("category_id"))
                    .col(boolean("fe_permission"))
                    // NEVER, ALWAYS or ASSIGNABLE.
                    .col(text("assignment_type"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_permissions_environment")
                            .from("permissions", "environment_id")
                            .to("environments", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_permissions_category")
                            .from_tbl("permissions")
                            .from_col("environment_id")
                            .from_col("category_id")
                            .to_tbl("permission_categories")
                            .to_col("environment_id")
                            .to_col("id"),
                    )
                    .to_owned(),
            )
            .await?;
        // Keys are unique in an environment; the index also serves the lookups by key and, by its
        // prefix, the listing of an environment's permissions.
        manager
            .create_index(
                Index::create()
                    .name("ux_permissions_environment_key")
                    .table("permissions")
                    .col("environment_id")
                    .col("key")
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The ALWAYS permissions every member holds, found without reading the others.
        manager
            .create_index(
                Index::create()
                    .name("ix_permissions_environment_assignment")
                    .table("permissions")
                    .col("environment_id")
                    .col("assignment_type")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_permissions_category")
                    .table("permissions")
                    .col("category_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("roles")
                    .col(text("id").primary_key())
                    .col(text("environment_id"))
                    .col(text("key"))
                    .col(text("name"))
                    .col(text_null("description"))
                    .col(integer("level"))
                    .col(boolean("is_default"))
                    .col(boolean("first_user_role"))
                    .col(boolean("migrate_role"))
                    // The row id of the tenant whose own role this is; NULL for a role of the
                    // whole environment.
                    .col(text_null("tenant_ref"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_roles_environment")
                            .from("roles", "environment_id")
                            .to("environments", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_roles_tenant")
                            .from("roles", "tenant_ref")
                            .to("tenants", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_roles_environment_key")
                    .table("roles")
                    .col("environment_id")
                    .col("key")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_roles_tenant")
                    .table("roles")
                    .col("tenant_ref")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("role_permissions")
                    .col(text("role_id"))
                    .col(text("permission_id"))
                    .primary_key(Index::create().col("role_id").col("permission_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_role_permissions_role")
                            .from("role_permissions", "role_id")
                            .to("roles", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_role_permissions_permission")
                            .from("role_permissions", "permission_id")
                            .to("permissions", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A permission's roles, and the cascade from a deleted permission.
        manager
            .create_index(
                Index::create()
                    .name("ix_role_permissions_permission")
                    .table("role_permissions")
                    .col("permission_id")
                    .col("role_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("membership_roles")
                    .col(text("user_id"))
                    .col(text("tenant_ref"))
                    .col(text("role_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    // The key begins with the membership: a membership's roles are one seek.
                    .primary_key(Index::create().col("user_id").col("tenant_ref").col("role_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_membership_roles_membership")
                            .from("membership_roles", ("user_id", "tenant_ref"))
                            .to("user_tenants", ("user_id", "tenant_ref"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_membership_roles_role")
                            .from("membership_roles", "role_id")
                            .to("roles", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A role's members, and the cascade from a deleted role.
        manager
            .create_index(
                Index::create()
                    .name("ix_membership_roles_role")
                    .table("membership_roles")
                    .col("role_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "membership_roles",
            "role_permissions",
            "roles",
            "permissions",
            "permission_categories",
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
