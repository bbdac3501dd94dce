//! Users and their tenant memberships.

use chrono::{DateTime, Utc};

use super::{
    email::Email,
    error::{FieldViolation, Result},
    field::{self, MAX_TEXT},
    metadata,
    page::{self, Order, SortField},
    password::{Password, PasswordPolicy},
    secret::Secret,
};

/// How a user signs in when it has a password.
pub const PROVIDER_LOCAL: &str = "local";

/// A user as stored, with its memberships.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// The user's id.
    pub id: String,
    /// Email address, lower case.
    pub email: String,
    /// Descriptive, caller-editable fields.
    pub profile: UserProfile,
    /// How the user signs in.
    pub provider: String,
    /// Whether the email is verified.
    pub verified: bool,
    /// Whether the user has activated the account.
    pub activated: bool,
    /// Whether the user is locked out.
    pub locked: bool,
    /// Whether the user is a super-user: every permission in every tenant it is a member of.
    pub super_user: bool,
    /// Whether the user is left out of its tenants' member listings (still found by id).
    pub invisible: bool,
    /// Whether the user has a password.
    pub has_password: bool,
    /// The current tenant's id.
    pub active_tenant_id: Option<String>,
    /// Memberships, oldest first.
    pub tenants: Vec<Membership>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Last sign-in.
    pub last_login: Option<DateTime<Utc>>,
}

/// The fields of a user that the environment edits freely.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserProfile {
    /// Display name.
    pub name: Option<String>,
    /// Profile picture URL.
    pub profile_picture_url: Option<String>,
    /// Phone number.
    pub phone_number: Option<String>,
    /// Metadata object, serialized.
    pub metadata: Option<String>,
    /// Environment-only metadata object, serialized.
    pub vendor_metadata: Option<String>,
    /// Identifier in an external system.
    pub external_id: Option<String>,
    /// Whether the user may skip multi-factor authentication.
    pub mfa_bypass: bool,
}

/// A user's membership of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// The tenant's id.
    pub tenant_id: String,
    /// When the user joined.
    pub created_at: DateTime<Utc>,
}

/// A request to create a user, unchecked: empty strings mean unset.
#[derive(Debug, Clone, Default)]
pub struct CreateUser {
    /// The tenant to join.
    pub tenant_id: String,
    /// Email address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Profile picture URL.
    pub profile_picture_url: String,
    /// Initial password, if any.
    pub password: Option<Secret>,
    /// Phone number.
    pub phone_number: String,
    /// Metadata object, serialized.
    pub metadata: String,
    /// Environment-only metadata, serialized.
    pub vendor_metadata: String,
    /// External id.
    pub external_id: String,
    /// Multi-factor bypass flag.
    pub mfa_bypass: bool,
    /// Roles to give the user in its tenant instead of the default ones; none for those.
    pub role_ids: Vec<String>,
}

/// A checked request to create a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The tenant to join.
    pub tenant_id: String,
    /// Email address.
    pub email: Email,
    /// Descriptive fields.
    pub profile: UserProfile,
    /// Initial password; the user is activated when one is given.
    pub password: Option<Password>,
    /// Roles to give instead of the default ones: distinct, not empty ids; none for those.
    pub role_ids: Vec<String>,
}

impl CreateUser {
    /// Checks every field; the password against `policy`.
    pub fn parse(self, policy: &PasswordPolicy) -> Result<NewUser> {
        let tenant_id = field::identifier("tenant_id", &self.tenant_id)?;
        let email = Email::parse("email", &self.email)?;
        let password = self
            .password
            .as_ref()
            .map(|raw| Password::parse_new("password", raw.expose(), policy))
            .transpose()?;
        let profile = UserProfile {
            name: field::optional_text("name", &self.name, MAX_TEXT)?,
            profile_picture_url: field::optional_url("profile_picture_url", &self.profile_picture_url)?,
            phone_number: field::optional_phone("phone_number", &self.phone_number)?,
            metadata: metadata::optional("metadata", &self.metadata)?,
            vendor_metadata: metadata::optional("vendor_metadata", &self.vendor_metadata)?,
            external_id: field::optional_text("external_id", &self.external_id, MAX_TEXT)?,
            mfa_bypass: self.mfa_bypass,
        };
        Ok(NewUser {
            tenant_id,
            email,
            profile,
            password,
            role_ids: super::role::id_list("role_ids", self.role_ids)?,
        })
    }
}

/// A request to change a user, unchecked: `None` leaves a field as it is, an empty string clears it.
#[derive(Debug, Clone, Default)]
pub struct UpdateUser {
    /// New display name.
    pub name: Option<String>,
    /// New profile picture URL.
    pub profile_picture_url: Option<String>,
    /// New phone number.
    pub phone_number: Option<String>,
    /// New metadata.
    pub metadata: Option<String>,
    /// New environment-only metadata.
    pub vendor_metadata: Option<String>,
    /// New external id.
    pub external_id: Option<String>,
    /// New multi-factor bypass flag.
    pub mfa_bypass: Option<bool>,
}

impl UpdateUser {
    /// Applies the changes to `profile`, checking each field that is set.
    pub fn apply_to(self, profile: &mut UserProfile) -> Result<()> {
        use field::patch as set;
        set(&mut profile.name, self.name, |v| {
            field::optional_text("name", v, MAX_TEXT)
        })?;
        set(&mut profile.profile_picture_url, self.profile_picture_url, |v| {
            field::optional_url("profile_picture_url", v)
        })?;
        set(&mut profile.phone_number, self.phone_number, |v| {
            field::optional_phone("phone_number", v)
        })?;
        set(&mut profile.metadata, self.metadata, |v| {
            metadata::optional("metadata", v)
        })?;
        set(&mut profile.vendor_metadata, self.vendor_metadata, |v| {
            metadata::optional("vendor_metadata", v)
        })?;
        set(&mut profile.external_id, self.external_id, |v| {
            field::optional_text("external_id", v, MAX_TEXT)
        })?;
        if let Some(mfa_bypass) = self.mfa_bypass {
            profile.mfa_bypass = mfa_bypass;
        }
        Ok(())
    }
}

/// Field a user listing is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserSort {
    /// Creation time.
    #[default]
    CreatedAt,
    /// Display name.
    Name,
    /// Email address.
    Email,
    /// User id.
    Id,
    /// Verified flag.
    Verified,
    /// Locked flag.
    Locked,
    /// Sign-in provider.
    Provider,
    /// Current tenant.
    TenantId,
}

impl SortField for UserSort {
    const NAMES: &'static [(&'static str, Self)] = &[
        ("createdAt", Self::CreatedAt),
        ("name", Self::Name),
        ("email", Self::Email),
        ("id", Self::Id),
        ("verified", Self::Verified),
        ("isLocked", Self::Locked),
        ("provider", Self::Provider),
        ("tenantId", Self::TenantId),
    ];
}

/// Which users to list, and in which order.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Members of this tenant only.
    pub tenant_id: Option<String>,
    /// Text the email contains, ignoring case.
    pub email: Option<String>,
    /// Only these ids, when not empty.
    pub ids: Vec<String>,
    /// Words to find in the email or name.
    pub phrases: Phrases,
    /// Sort field.
    pub sort: UserSort,
    /// Sort direction.
    pub order: Order,
    /// Keyset paging: only users after this one in the order (creation time, then id).
    pub after: Option<UserCursor>,
}

/// Where a page of a user listing in the default order (creation time, then id) starts: the
/// last user of the page before. Reading from it costs the page, however deep, where an offset
/// costs every user skipped. Opaque to callers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCursor {
    /// The creation time of the last user seen.
    pub created_at: DateTime<Utc>,
    /// Its id.
    pub id: String,
}

impl UserCursor {
    /// The cursor after `user`.
    pub fn after(user: &User) -> Self {
        Self {
            created_at: user.created_at,
            id: user.id.clone(),
        }
    }

    /// The cursor's text: base64url of the creation time in microseconds and the id.
    pub fn encode(&self) -> String {
        use base64::Engine as _;
        let raw = format!("{}:{}", self.created_at.timestamp_micros(), self.id);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    }

    /// Reads the cursor request field `field` holds; none when empty. Cursors follow the
    /// default order only: with any other sort field they are refused.
    pub fn parse(field: &str, raw: &str, sort: UserSort) -> Result<Option<Self>, FieldViolation> {
        use base64::Engine as _;
        if raw.is_empty() {
            return Ok(None);
        }
        if sort != UserSort::CreatedAt {
            return Err(FieldViolation::new(
                field,
                "is available only in the default order (by creation time)",
            ));
        }
        let bad = || FieldViolation::new(field, "is not a cursor this listing handed out");
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(raw)
            .map_err(|_| bad())?;
        let text = String::from_utf8(decoded).map_err(|_| bad())?;
        let (micros, id) = text.split_once(':').ok_or_else(bad)?;
        let created_at = micros
            .parse::<i64>()
            .ok()
            .and_then(DateTime::from_timestamp_micros)
            .ok_or_else(bad)?;
        if id.is_empty() {
            return Err(bad());
        }
        Ok(Some(Self {
            created_at,
            id: id.to_owned(),
        }))
    }
}

/// The phrase search of a user listing: words looked for in each user's email and name,
/// ignoring case. A user matches when it holds every `contains` word, none of the `excludes`,
/// and (when any are given) at least one of the `optional`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Phrases {
    /// Words that must all appear.
    pub contains: Vec<String>,
    /// Words that must not appear.
    pub excludes: Vec<String>,
    /// Words of which one must appear.
    pub optional: Vec<String>,
}

impl Phrases {
    /// Checks each list: bounded, and each word at most [`MAX_TEXT`] characters.
    pub fn parse(
        contains: Vec<String>,
        excludes: Vec<String>,
        optional: Vec<String>,
    ) -> Result<Self, FieldViolation> {
        let words = |field: &str, values: Vec<String>| {
            let values = page::bounded_list(field, values)?;
            if values.iter().any(|v| v.chars().count() > MAX_TEXT) {
                return Err(FieldViolation::new(
                    field,
                    format!("words must be at most {MAX_TEXT} characters"),
                ));
            }
            Ok(values)
        };
        Ok(Self {
            contains: words("_phraseSearchContains", contains)?,
            excludes: words("_phraseSearchExcludes", excludes)?,
            optional: words("_phraseSearchOptional", optional)?,
        })
    }

    /// Whether no word is given.
    pub fn is_empty(&self) -> bool {
        self.contains.is_empty() && self.excludes.is_empty() && self.optional.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> CreateUser {
        CreateUser {
            tenant_id: "acme".into(),
            email: "Ann@Example.com".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_request_parses_with_a_lowercased_email() {
        let user = valid().parse(&PasswordPolicy::default()).unwrap();
        assert_eq!(user.email.as_str(), "ann@example.com");
        assert!(user.password.is_none());
    }

    #[test]
    fn each_bad_field_is_named() {
        let policy = PasswordPolicy::default();
        let cases = [
            (
                CreateUser {
                    email: "x".into(),
                    ..valid()
                },
                "email",
            ),
            (
                CreateUser {
                    tenant_id: "".into(),
                    ..valid()
                },
                "tenant_id",
            ),
            (
                CreateUser {
                    password: Some(Secret::new("short")),
                    ..valid()
                },
                "password",
            ),
            (
                CreateUser {
                    metadata: "[1]".into(),
                    ..valid()
                },
                "metadata",
            ),
            (
                CreateUser {
                    vendor_metadata: "{".into(),
                    ..valid()
                },
                "vendor_metadata",
            ),
            (
                CreateUser {
                    name: "x".repeat(256),
                    ..valid()
                },
                "name",
            ),
            (
                CreateUser {
                    profile_picture_url: "ftp://x".into(),
                    ..valid()
                },
                "profile_picture_url",
            ),
            (
                CreateUser {
                    phone_number: "nope".into(),
                    ..valid()
                },
                "phone_number",
            ),
        ];
        for (request, field) in cases {
            let error = request.parse(&policy).unwrap_err();
            assert_eq!(error.violations()[0].field, field);
        }
    }

    #[test]
    fn cursors_read_back_and_bad_ones_are_refused() {
        let cursor = UserCursor {
            created_at: DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap(),
            id: "a:b".into(),
        };
        let read = UserCursor::parse("cursor", &cursor.encode(), UserSort::CreatedAt).unwrap();
        assert_eq!(read, Some(cursor.clone()));
        assert_eq!(UserCursor::parse("cursor", "", UserSort::Name).unwrap(), None);
        assert_eq!(
            UserCursor::parse("cursor", &cursor.encode(), UserSort::Name)
                .unwrap_err()
                .field,
            "cursor"
        );
        for bad in ["!!", "bm9jb2xvbg", "eDp5"] {
            assert!(
                UserCursor::parse("cursor", bad, UserSort::CreatedAt).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn updates_change_only_what_is_set_and_clear_on_empty() {
        let mut profile = UserProfile {
            name: Some("Ann".into()),
            phone_number: Some("+15550100".into()),
            ..Default::default()
        };
        UpdateUser {
            phone_number: Some(String::new()),
            metadata: Some(r#"{"a":1}"#.into()),
            ..Default::default()
        }
        .apply_to(&mut profile)
        .unwrap();
        assert_eq!(profile.name.as_deref(), Some("Ann"));
        assert_eq!(profile.phone_number, None);
        assert_eq!(profile.metadata.as_deref(), Some(r#"{"a":1}"#));
    }
}
