use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "policies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub environment_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    /// The tenant's row id for a tenant's document; empty for the environment's.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_ref: String,
    /// JSON object of the fields that were written.
    pub document: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
