//! The auth settings beyond static tokens: `[hooks]`, an app's
//! `[apps.NAME.hooks]` override, and its signing secrets.
//!
//! ```toml
//! [hooks]
//! on_publish = "http://127.0.0.1:9000/publish"   # 2xx allows
//! on_play = "http://127.0.0.1:9000/play"
//! on_publish_done = "http://127.0.0.1:9000/publish_done"
//! on_play_done = "http://127.0.0.1:9000/play_done"
//! timeout_ms = 2000     # per call, connection included
//! fail_open = false     # a hook that cannot be asked refuses
//!
//! [apps.paid]
//! signing_secret = "..."          # players need ?expires=..&sign=..
//! publish_signing_secret = "..."  # publishers too, with another secret
//!
//! [apps.paid.hooks]     # any key overrides [hooks] for this app;
//! on_play = ""          # "" turns a hook off
//! fail_open = true
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use arcly_engine::{SigningSecret, TokenAuthenticator};
use arcly_shard::{HookConfig, HookUrl, Hooks};
use serde::Deserialize;

use super::{ConfigError, FileApp, invalid};

/// Shortest signing secret accepted: 128 bits as hex or base64 is longer.
const MIN_SECRET_LEN: usize = 16;

/// Longest hook timeout accepted: a session waits that long to start.
const MAX_HOOK_TIMEOUT_MS: u64 = 60_000;

/// `[hooks]`, or an app's `[apps.NAME.hooks]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileHooks {
    on_publish: Option<String>,
    on_play: Option<String>,
    on_publish_done: Option<String>,
    on_play_done: Option<String>,
    timeout_ms: Option<u64>,
    fail_open: Option<bool>,
}

/// The auth keys of an `[apps.NAME]` section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileAppAuth {
    signing_secret: Option<String>,
    publish_signing_secret: Option<String>,
    hooks: Option<FileHooks>,
}

impl FileHooks {
    /// `self` over `base`; `section` names the keys in errors.
    fn apply(&self, section: &str, base: &Hooks) -> Result<Hooks, ConfigError> {
        let url = |name: &str, text: &Option<String>, was: &Option<HookUrl>| match text {
            None => Ok(was.clone()),
            Some(text) if text.is_empty() => Ok(None),
            Some(text) => HookUrl::resolve(text)
                .map(Some)
                .map_err(|e| invalid(format!("{section}.{name}"), e.to_string())),
        };
        let timeout = match self.timeout_ms {
            None => base.timeout,
            Some(ms) if (1..=MAX_HOOK_TIMEOUT_MS).contains(&ms) => Duration::from_millis(ms),
            Some(_) => {
                return Err(invalid(
                    format!("{section}.timeout_ms"),
                    format!("must be between 1 and {MAX_HOOK_TIMEOUT_MS}"),
                ));
            }
        };
        Ok(Hooks {
            on_publish: url("on_publish", &self.on_publish, &base.on_publish)?,
            on_play: url("on_play", &self.on_play, &base.on_play)?,
            on_publish_done: url(
                "on_publish_done",
                &self.on_publish_done,
                &base.on_publish_done,
            )?,
            on_play_done: url("on_play_done", &self.on_play_done, &base.on_play_done)?,
            timeout,
            fail_open: self.fail_open.unwrap_or(base.fail_open),
        })
    }
}

/// The hooks of every app, and `tokens` with the apps' signing secrets.
///
/// Host names in hook URLs are resolved here, once.
pub(super) fn apply(
    hooks: &FileHooks,
    apps: &BTreeMap<String, FileApp>,
    mut tokens: TokenAuthenticator,
) -> Result<(HookConfig, TokenAuthenticator), ConfigError> {
    let default = hooks.apply("hooks", &Hooks::default())?;
    let mut config = HookConfig {
        default,
        ..HookConfig::default()
    };
    for (app, a) in apps {
        let auth = &a.auth;
        if let Some(own) = &auth.hooks {
            let merged = own.apply(&format!("apps.{app}.hooks"), &config.default)?;
            config.apps.insert(app.clone(), merged);
        }
        if let Some(secret) = &auth.signing_secret {
            let secret = check_secret(&format!("apps.{app}.signing_secret"), secret)?;
            tokens = tokens.with_play_signing_secret(app, secret);
        }
        if let Some(secret) = &auth.publish_signing_secret {
            let secret = check_secret(&format!("apps.{app}.publish_signing_secret"), secret)?;
            tokens = tokens.with_publish_signing_secret(app, secret);
        }
    }
    Ok((config, tokens))
}

fn check_secret(setting: &str, secret: &str) -> Result<SigningSecret, ConfigError> {
    if secret.len() < MIN_SECRET_LEN {
        return Err(invalid(
            setting,
            format!("must be at least {MIN_SECRET_LEN} bytes long"),
        ));
    }
    Ok(SigningSecret::new(secret))
}

#[cfg(test)]
mod tests {
    use arcly_engine::{AuthError, AuthRequest, Authenticator};

    use super::super::{FileConfig, Settings};
    use super::*;

    fn settings(text: &str) -> Result<Settings, String> {
        let file: FileConfig = toml::from_str(text).map_err(|e| e.message().to_owned())?;
        Settings::from_file_config(file).map_err(|e| e.to_string())
    }

    #[test]
    fn no_hooks_by_default() {
        let s = settings("").unwrap();
        assert_eq!(s.hooks, HookConfig::default());
        assert_eq!(s.hooks.for_app("live").timeout, Duration::from_secs(2));
        assert!(!s.hooks.for_app("live").fail_open);
    }

    #[test]
    fn apps_override_the_global_hooks() {
        let s = settings(
            r#"
[hooks]
on_publish = "http://127.0.0.1:9000/pub"
on_play = "http://127.0.0.1:9000/play"
on_publish_done = "http://localhost:9000/done"
timeout_ms = 500

[apps.open.hooks]
on_play = ""
fail_open = true
"#,
        )
        .unwrap();
        let live = s.hooks.for_app("live");
        assert_eq!(
            live.on_publish.as_ref().map(HookUrl::as_str),
            Some("http://127.0.0.1:9000/pub")
        );
        assert_eq!(live.timeout, Duration::from_millis(500));
        assert!(!live.fail_open && live.on_play_done.is_none());
        let open = s.hooks.for_app("open");
        assert_eq!(open.on_publish, live.on_publish);
        assert_eq!(open.on_play, None);
        assert_eq!(open.on_publish_done, live.on_publish_done);
        assert_eq!(open.timeout, Duration::from_millis(500));
        assert!(open.fail_open);
    }

    #[test]
    fn signing_secrets_guard_their_side() {
        let s = settings(
            r#"
[apps.paid]
play_tokens = ["v"]
signing_secret = "0123456789abcdef-play"
publish_signing_secret = "0123456789abcdef-publish"
"#,
        )
        .unwrap();
        assert!(s.auth.signs_play("paid") && s.auth.signs_publish("paid"));
        let query = format!(
            "token=v&{}",
            SigningSecret::new("0123456789abcdef-play").query("paid", "show", 100)
        );
        let req = AuthRequest::new("paid", "show", &query, None, "rtmp").at(99);
        assert_eq!(s.auth.authorize_play(&req), Ok(()));
        assert_eq!(s.auth.authorize_publish(&req), Err(AuthError::BadSignature));
    }

    #[test]
    fn bad_values_name_their_key() {
        for (text, want) in [
            (
                "[hooks]\non_publish = \"https://h/x\"\n",
                "hooks.on_publish: 'https://h/x' is not an http:// url (hooks are plain http: no https)",
            ),
            (
                "[hooks]\ntimeout_ms = 0\n",
                "hooks.timeout_ms: must be between 1 and 60000",
            ),
            (
                "[apps.x.hooks]\non_play_done = \"http://h:0/\"\n",
                "apps.x.hooks.on_play_done: 'http://h:0/' has a bad port",
            ),
            (
                "[apps.x]\nsigning_secret = \"short\"\n",
                "apps.x.signing_secret: must be at least 16 bytes long",
            ),
        ] {
            assert_eq!(settings(text).unwrap_err(), want, "{text}");
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        for text in [
            "[hooks]\non_connect = \"http://h/\"\n",
            "[apps.x.hooks]\nfailopen = true\n",
            "[apps.x]\nsigning_secrets = \"0123456789abcdef\"\n",
            "[apps.x]\nbogus = 1\n",
        ] {
            let e = settings(text).unwrap_err();
            assert!(e.starts_with("unknown field"), "{text}: {e}");
        }
    }
}
