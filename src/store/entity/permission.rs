use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "permissions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub environment_id: String,
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub category_id: Option<String>,
    pub fe_permission: bool,
    /// `NEVER`, `ALWAYS` or `ASSIGNABLE` (`domain::permission::AssignmentType`).
    pub assignment_type: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
