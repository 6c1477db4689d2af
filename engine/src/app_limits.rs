//! Stream limits chosen per app: one default, overridden by app name.

use std::collections::HashMap;

use crate::StreamLimits;

/// The [`StreamLimits`] each app's streams get.
///
/// Operators set limits per app (`[apps.lowlatency] gop_cache_frames = 0`);
/// every app without its own entry gets the default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppLimits {
    default: StreamLimits,
    apps: HashMap<String, StreamLimits>,
}

impl AppLimits {
    /// Every app gets `default`.
    pub fn new(default: StreamLimits) -> AppLimits {
        AppLimits {
            default,
            apps: HashMap::new(),
        }
    }

    /// `app`'s streams get `limits` instead of the default.
    pub fn with_app(mut self, app: impl Into<String>, limits: StreamLimits) -> AppLimits {
        self.apps.insert(app.into(), limits);
        self
    }

    /// The limits for a stream of `app`.
    pub fn for_app(&self, app: &str) -> &StreamLimits {
        self.apps.get(app).unwrap_or(&self.default)
    }

    /// The limits of apps without their own entry.
    pub fn default_limits(&self) -> &StreamLimits {
        &self.default
    }
}

impl From<StreamLimits> for AppLimits {
    fn from(default: StreamLimits) -> AppLimits {
        AppLimits::new(default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apps_without_an_entry_get_the_default() {
        let low = StreamLimits {
            gop_cache_frames: 0,
            ..StreamLimits::default()
        };
        let limits = AppLimits::default().with_app("lowlatency", low.clone());
        assert_eq!(limits.for_app("lowlatency"), &low);
        assert_eq!(limits.for_app("live"), &StreamLimits::default());
    }
}
