use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bulk_role_tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub environment_id: String,
    pub user_id: String,
    /// `NotStarted`, `InProgress`, `Completed` or `CompletedWithErrors`.
    pub status: String,
    /// JSON array of the row ids of the tenants to update, in processing order.
    pub tenant_refs: String,
    pub total_tenants: i32,
    pub processed_tenants: i32,
    /// JSON array of role ids.
    pub add_role_ids: String,
    /// JSON array of role ids.
    pub remove_role_ids: String,
    /// JSON array of `{message, tenantId}`.
    pub errors: String,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
