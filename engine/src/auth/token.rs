//! Static secrets per app: tokens in the `token` query parameter and keys
//! for signed URLs.

use std::collections::HashMap;

use super::{AuthError, AuthRequest, Authenticator, SigningSecret, same_secret};

/// Shared secrets per app and per side (publish, play): accepted `token`
/// values, and a [`SigningSecret`] for signed URLs.
///
/// A side of an app with neither is open. With tokens, a request must carry
/// one of them; with a signing secret, a valid unexpired signature; with
/// both, both. Publish and play have separate signing secrets, so a URL
/// handed to a viewer can never publish.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenAuthenticator {
    apps: HashMap<String, AppSecrets>,
}

/// The secrets of one app.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct AppSecrets {
    publish: Side,
    play: Side,
}

/// The secrets guarding one side of an app.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Side {
    tokens: Vec<String>,
    signing: Option<SigningSecret>,
}

impl Side {
    fn is_open(&self) -> bool {
        self.tokens.is_empty() && self.signing.is_none()
    }

    fn check(&self, req: &AuthRequest<'_>) -> Result<(), AuthError> {
        if !self.tokens.is_empty() {
            match req.token {
                None => return Err(AuthError::MissingToken),
                // Check every token, so timing says nothing about which
                // matched.
                Some(token)
                    if self
                        .tokens
                        .iter()
                        .fold(false, |ok, t| same_secret(token, t) | ok) => {}
                Some(_) => return Err(AuthError::BadToken),
            }
        }
        match &self.signing {
            Some(secret) => secret.check(req),
            None => Ok(()),
        }
    }
}

impl TokenAuthenticator {
    /// No secrets: every app open.
    pub fn new() -> TokenAuthenticator {
        TokenAuthenticator::default()
    }

    /// Publishers to `app` must present `token` (or another token added).
    pub fn with_publish_token(mut self, app: &str, token: &str) -> TokenAuthenticator {
        self.app(app).publish.tokens.push(token.to_owned());
        self
    }

    /// Players of `app` must present `token` (or another token added).
    pub fn with_play_token(mut self, app: &str, token: &str) -> TokenAuthenticator {
        self.app(app).play.tokens.push(token.to_owned());
        self
    }

    /// Publishers to `app` must present a URL signed with `secret`
    /// (replacing any secret set before).
    pub fn with_publish_signing_secret(
        mut self,
        app: &str,
        secret: SigningSecret,
    ) -> TokenAuthenticator {
        self.app(app).publish.signing = Some(secret);
        self
    }

    /// Players of `app` must present a URL signed with `secret` (replacing
    /// any secret set before).
    pub fn with_play_signing_secret(
        mut self,
        app: &str,
        secret: SigningSecret,
    ) -> TokenAuthenticator {
        self.app(app).play.signing = Some(secret);
        self
    }

    /// Whether no app has any token or signing secret (everything open).
    pub fn is_open(&self) -> bool {
        self.apps
            .values()
            .all(|a| a.publish.is_open() && a.play.is_open())
    }

    /// Whether players of `app` need a signed URL.
    pub fn signs_play(&self, app: &str) -> bool {
        self.apps.get(app).is_some_and(|a| a.play.signing.is_some())
    }

    /// Whether publishers to `app` need a signed URL.
    pub fn signs_publish(&self, app: &str) -> bool {
        self.apps
            .get(app)
            .is_some_and(|a| a.publish.signing.is_some())
    }

    fn app(&mut self, app: &str) -> &mut AppSecrets {
        self.apps.entry(app.to_owned()).or_default()
    }
}

impl Authenticator for TokenAuthenticator {
    fn authorize_publish(&self, req: &AuthRequest<'_>) -> Result<(), AuthError> {
        self.apps
            .get(req.app)
            .map_or(Ok(()), |a| a.publish.check(req))
    }

    fn authorize_play(&self, req: &AuthRequest<'_>) -> Result<(), AuthError> {
        self.apps.get(req.app).map_or(Ok(()), |a| a.play.check(req))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_guard_each_side() {
        let auth = TokenAuthenticator::new()
            .with_publish_token("live", "old")
            .with_publish_token("live", "s3cret");
        assert!(!auth.is_open());
        let good = AuthRequest::new("live", "cam", "token=s3cret", None, "rtmp");
        let bad = AuthRequest::new("live", "cam", "token=s3creT", None, "rtmp");
        let none = AuthRequest::new("live", "cam", "", None, "rtmp");
        assert_eq!(auth.authorize_publish(&good), Ok(()));
        assert_eq!(auth.authorize_publish(&bad), Err(AuthError::BadToken));
        assert_eq!(auth.authorize_publish(&none), Err(AuthError::MissingToken));
        assert_eq!(auth.authorize_play(&none), Ok(()));
        let other_app = AuthRequest::new("open", "cam", "", None, "rtmp");
        assert_eq!(auth.authorize_publish(&other_app), Ok(()));
        let play = TokenAuthenticator::new().with_play_token("live", "v");
        assert_eq!(play.authorize_play(&none), Err(AuthError::MissingToken));
        assert_eq!(play.authorize_publish(&none), Ok(()));
    }

    #[test]
    fn signing_secrets_guard_their_side_only() {
        let play_key = SigningSecret::new("play-secret-0123456789");
        let publish_key = SigningSecret::new("publish-secret-0123456789");
        let auth = TokenAuthenticator::new()
            .with_play_signing_secret("paid", play_key.clone())
            .with_publish_signing_secret("paid", publish_key.clone());
        assert!(!auth.is_open());
        assert!(auth.signs_play("paid") && auth.signs_publish("paid"));
        assert!(!auth.signs_play("live"));
        let play_query = play_key.query("paid", "show", 100);
        let req = AuthRequest::new("paid", "show", &play_query, None, "hls").at(50);
        assert_eq!(auth.authorize_play(&req), Ok(()));
        // A viewer's URL does not publish.
        assert_eq!(auth.authorize_publish(&req), Err(AuthError::BadSignature));
        let publish_query = publish_key.query("paid", "show", 100);
        let publish = AuthRequest::new("paid", "show", &publish_query, None, "rtmp").at(50);
        assert_eq!(auth.authorize_publish(&publish), Ok(()));
        let open = AuthRequest::new("live", "show", "", None, "rtmp").at(50);
        assert_eq!(auth.authorize_play(&open), Ok(()));
    }

    #[test]
    fn tokens_and_signatures_are_both_required_when_both_are_set() {
        let key = SigningSecret::new("play-secret-0123456789");
        let auth = TokenAuthenticator::new()
            .with_play_token("paid", "v1ew")
            .with_play_signing_secret("paid", key.clone());
        let signed = key.query("paid", "show", 100);
        let both = format!("token=v1ew&{signed}");
        let req = |q| AuthRequest::new("paid", "show", q, None, "rtmp").at(50);
        assert_eq!(auth.authorize_play(&req(&both)), Ok(()));
        assert_eq!(
            auth.authorize_play(&req(&signed)),
            Err(AuthError::MissingToken)
        );
        assert_eq!(
            auth.authorize_play(&req("token=v1ew")),
            Err(AuthError::MissingSignature)
        );
    }
}
