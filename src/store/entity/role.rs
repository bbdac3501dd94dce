use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "roles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub environment_id: String,
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub level: i32,
    pub is_default: bool,
    pub first_user_role: bool,
    pub migrate_role: bool,
    /// The row id of the tenant whose own role this is; `None` for the whole environment.
    pub tenant_ref: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Lower-case copies that listings match and sort by (`domain::field::fold`); empty for no
    /// description.
    pub key_folded: String,
    pub name_folded: String,
    pub description_folded: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
