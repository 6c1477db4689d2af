//! Who may publish and who may play: a trait the operator plugs in.

use std::collections::HashMap;
use std::net::SocketAddr;

/// Why a publish or play request was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The authenticator refused the request, for the reason given.
    #[error("denied: {reason}")]
    Denied {
        /// Why, for the log (not necessarily shown to the client).
        reason: String,
    },
    /// A token is required and the request carries none.
    #[error("missing token")]
    MissingToken,
    /// The request carries a token that is not accepted.
    #[error("bad token")]
    BadToken,
}

/// A publish or play request, as every protocol can describe it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthRequest<'a> {
    /// The application (`live` in `live/cam`).
    pub app: &'a str,
    /// The stream name (`cam` in `live/cam`).
    pub stream: &'a str,
    /// The raw query string, without the `?`.
    pub query: &'a str,
    /// The `token` query parameter, if present.
    pub token: Option<&'a str>,
    /// The client's address.
    pub peer: Option<SocketAddr>,
    /// The protocol (`"rtmp"`, `"http-flv"`, `"hls"` ...).
    pub protocol: &'a str,
}

impl<'a> AuthRequest<'a> {
    /// A request, with `token` taken from `query`.
    pub fn new(
        app: &'a str,
        stream: &'a str,
        query: &'a str,
        peer: Option<SocketAddr>,
        protocol: &'a str,
    ) -> AuthRequest<'a> {
        AuthRequest {
            app,
            stream,
            query,
            token: query_param(query, "token"),
            peer,
            protocol,
        }
    }
}

/// Decides whether a publish or play may go ahead. Both default to yes.
///
/// Called once per session, before any media flows; it must not block (an
/// authenticator that asks a remote service belongs in the driver).
pub trait Authenticator: Send + Sync {
    /// May this client publish?
    fn authorize_publish(&self, _req: &AuthRequest<'_>) -> Result<(), AuthError> {
        Ok(())
    }

    /// May this client play?
    fn authorize_play(&self, _req: &AuthRequest<'_>) -> Result<(), AuthError> {
        Ok(())
    }
}

/// Lets everyone publish and play: the default.
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAll;

impl Authenticator for AllowAll {}

/// Shared secrets in the `token` query parameter, per app and per side
/// (publish, play). A side of an app with no tokens is open; with tokens, a
/// request must carry one of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenAuthenticator {
    apps: HashMap<String, AppTokens>,
}

/// The tokens of one app.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct AppTokens {
    publish: Vec<String>,
    play: Vec<String>,
}

impl TokenAuthenticator {
    /// No tokens: every app open.
    pub fn new() -> TokenAuthenticator {
        TokenAuthenticator::default()
    }

    /// Publishers to `app` must present `token` (or another token added).
    pub fn with_publish_token(mut self, app: &str, token: &str) -> TokenAuthenticator {
        self.apps
            .entry(app.to_owned())
            .or_default()
            .publish
            .push(token.to_owned());
        self
    }

    /// Players of `app` must present `token` (or another token added).
    pub fn with_play_token(mut self, app: &str, token: &str) -> TokenAuthenticator {
        self.apps
            .entry(app.to_owned())
            .or_default()
            .play
            .push(token.to_owned());
        self
    }

    /// Whether no app has any token (everything open).
    pub fn is_open(&self) -> bool {
        self.apps
            .values()
            .all(|t| t.publish.is_empty() && t.play.is_empty())
    }

    fn check(accepted: &[String], req: &AuthRequest<'_>) -> Result<(), AuthError> {
        if accepted.is_empty() {
            return Ok(());
        }
        match req.token {
            None => Err(AuthError::MissingToken),
            // Check every token, so timing says nothing about which matched.
            Some(token)
                if accepted
                    .iter()
                    .fold(false, |ok, t| same_secret(token, t) | ok) =>
            {
                Ok(())
            }
            Some(_) => Err(AuthError::BadToken),
        }
    }
}

impl Authenticator for TokenAuthenticator {
    fn authorize_publish(&self, req: &AuthRequest<'_>) -> Result<(), AuthError> {
        let tokens = self.apps.get(req.app).map_or(&[][..], |t| &t.publish[..]);
        TokenAuthenticator::check(tokens, req)
    }

    fn authorize_play(&self, req: &AuthRequest<'_>) -> Result<(), AuthError> {
        let tokens = self.apps.get(req.app).map_or(&[][..], |t| &t.play[..]);
        TokenAuthenticator::check(tokens, req)
    }
}

/// Compares in time that depends on the lengths only, so a guesser learns
/// nothing from how long a refusal takes.
fn same_secret(given: &str, expected: &str) -> bool {
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// The value of the first `name=value` pair in an `&`-separated query
/// string, as written (no percent-decoding). A bare `name` gives `""`.
pub fn query_param<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    let query = query.strip_prefix('?').unwrap_or(query);
    query
        .split('&')
        .find_map(|pair| match pair.split_once('=') {
            Some((key, value)) if key == name => Some(value),
            None if pair == name => Some(""),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_query_parameters() {
        assert_eq!(query_param("token=abc&x=1", "token"), Some("abc"));
        assert_eq!(query_param("x=1&token=a%20b", "token"), Some("a%20b"));
        assert_eq!(query_param("?token=1&token=2", "token"), Some("1"));
        assert_eq!(query_param("x&token", "token"), Some(""));
        assert_eq!(query_param("tokens=1&xtoken=2", "token"), None);
        assert_eq!(query_param("", "token"), None);
        assert_eq!(query_param("a=b=c", "a"), Some("b=c"));
    }

    #[test]
    fn requests_carry_their_token() {
        let req = AuthRequest::new("live", "cam", "token=s3cret", None, "rtmp");
        assert_eq!(req.token, Some("s3cret"));
        assert_eq!(AllowAll.authorize_publish(&req), Ok(()));
        assert_eq!(AllowAll.authorize_play(&req), Ok(()));
    }

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
    fn errors_read_well() {
        let denied = AuthError::Denied {
            reason: "stream key banned".into(),
        };
        assert_eq!(denied.to_string(), "denied: stream key banned");
        assert_eq!(AuthError::MissingToken.to_string(), "missing token");
    }
}
