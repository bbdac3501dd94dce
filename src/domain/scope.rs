//! The scope of a request: the environment it acts in and, for a user's token, the tenant of its
//! session. Only authentication builds one, and every store function that reads or writes an
//! environment's data takes one, so no query can forget which environment it is about.

use std::sync::Arc;

use super::environment::Environment;

/// An authenticated environment, and optionally a tenant within it.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    /// Shared with the cache of environments: a request's scope costs no copy of its settings.
    environment: Arc<Environment>,
    tenant_id: Option<String>,
    user_id: Option<String>,
}

impl Scope {
    /// The scope of a caller that authentication tied to `environment`: by an environment token,
    /// or, for public operations, by the vendor host the request names. Built in
    /// `service::environments` only (a test below keeps it so).
    pub(crate) fn authenticated(environment: Arc<Environment>) -> Self {
        Self {
            environment,
            tenant_id: None,
            user_id: None,
        }
    }

    /// A scope for the unit tests of the store, which have no authentication to go through.
    #[cfg(test)]
    pub(crate) fn for_tests(environment: Environment) -> Self {
        Self::authenticated(Arc::new(environment))
    }

    /// The same environment, narrowed to the tenant of a verified user token.
    pub fn in_tenant(mut self, tenant_id: impl Into<String>) -> Self {
        self.tenant_id = Some(tenant_id.into());
        self
    }

    /// The same scope, acting as the signed-in user of a verified user token: what it may
    /// change is bounded by that user's own roles (see `service::roles`).
    pub fn as_user(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }

    /// The signed-in user acting, for a user's scope.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// The environment's id.
    pub fn environment_id(&self) -> &str {
        &self.environment.id
    }

    /// The environment, with its settings.
    pub fn environment(&self) -> &Environment {
        &self.environment
    }

    /// The tenant, for a user's scope.
    pub fn tenant_id(&self) -> Option<&str> {
        self.tenant_id.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Files allowed to build a scope from an environment: where authentication happens.
    const BUILDERS: &[&str] = &["src/domain/scope.rs", "src/service/environments.rs"];

    fn visit(dir: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                visit(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                if text.contains("Scope::authenticated(") {
                    found.push(
                        path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
                            .unwrap()
                            .to_string_lossy()
                            .into_owned(),
                    );
                }
            }
        }
    }

    #[test]
    fn only_authentication_builds_a_scope() {
        let mut found = Vec::new();
        visit(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
        found.retain(|file| !BUILDERS.contains(&file.as_str()));
        assert!(
            found.is_empty(),
            "Scope::authenticated called outside authentication: {found:?}"
        );
    }
}
