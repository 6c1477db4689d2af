//! A setting with a server-wide default and per-app overrides.

use std::collections::HashMap;

/// A default and per-app values of one setting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PerApp<T> {
    /// For apps without their own value.
    pub default: T,
    /// Per-app values.
    pub apps: HashMap<String, T>,
}

impl<T: Copy> PerApp<T> {
    /// The value for `app`.
    pub fn for_app(&self, app: &str) -> T {
        self.apps.get(app).copied().unwrap_or(self.default)
    }
}
