//! Who may publish and who may play: a trait the operator plugs in, and
//! the checks that need nothing but the request — static tokens
//! ([`TokenAuthenticator`]) and HMAC-signed URLs with an expiry
//! ([`SigningSecret`]).
//!
//! Checks that ask a remote service (the HTTP callback hooks) do I/O, so
//! they live in the shard, which runs them after these.

mod signed;
mod token;

use std::net::SocketAddr;

pub use signed::SigningSecret;
pub use token::TokenAuthenticator;

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
    /// A signed URL is required and the request lacks its `expires` or
    /// `sign` parameter.
    #[error("missing signature (the url needs expires= and sign=)")]
    MissingSignature,
    /// The `sign` parameter is not the HMAC of this app, stream and
    /// `expires` under the app's secret (or `expires` is not a number).
    #[error("bad signature")]
    BadSignature,
    /// The signature is genuine but its `expires` has passed.
    #[error("signature expired at {expires} (now {now}, unix seconds)")]
    SignatureExpired {
        /// The `expires` the URL carries, in UNIX seconds.
        expires: u64,
        /// The time of the request, in UNIX seconds.
        now: u64,
    },
    /// A signed URL was checked without the time of the request (the
    /// driver did not set [`AuthRequest::now`]).
    #[error("signature cannot be checked: the request carries no time")]
    NoTime,
    /// An operator's HTTP hook answered with a status other than 2xx.
    #[error("{hook} hook refused with status {status}")]
    HookRefused {
        /// The hook (`on_publish`, `on_play`).
        hook: &'static str,
        /// The status it answered.
        status: u16,
    },
    /// An operator's HTTP hook could not be asked (unreachable, timed out,
    /// answered garbage), and the hooks fail closed.
    #[error("{hook} hook failed, refusing (fail closed): {reason}")]
    HookFailed {
        /// The hook (`on_publish`, `on_play`).
        hook: &'static str,
        /// What went wrong, with the hook's URL.
        reason: String,
    },
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
    /// When the request arrived, in seconds since the UNIX epoch. This
    /// crate reads no clock: the driver sets it ([`AuthRequest::at`]), and a
    /// signed URL is refused without it.
    pub now: Option<u64>,
}

impl<'a> AuthRequest<'a> {
    /// A request, with `token` taken from `query` and no time yet.
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
            now: None,
        }
    }

    /// The same request, arrived at `now_unix_secs`.
    pub fn at(self, now_unix_secs: u64) -> AuthRequest<'a> {
        AuthRequest {
            now: Some(now_unix_secs),
            ..self
        }
    }
}

/// Decides whether a publish or play may go ahead. Both default to yes.
///
/// Called once per session, before any media flows; it must not block
/// (asking a remote service is the shard's job: its HTTP hooks run after
/// this allows).
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
    fn requests_carry_their_token_and_time() {
        let req = AuthRequest::new("live", "cam", "token=s3cret", None, "rtmp");
        assert_eq!(req.token, Some("s3cret"));
        assert_eq!(req.now, None);
        assert_eq!(req.at(17).now, Some(17));
        assert_eq!(AllowAll.authorize_publish(&req), Ok(()));
        assert_eq!(AllowAll.authorize_play(&req), Ok(()));
    }

    #[test]
    fn compares_secrets_whole() {
        assert!(same_secret("s3cret", "s3cret"));
        assert!(!same_secret("s3cret", "s3creT"));
        assert!(!same_secret("s3cre", "s3cret"));
        assert!(!same_secret("", "x"));
    }

    #[test]
    fn errors_read_well() {
        let denied = AuthError::Denied {
            reason: "stream key banned".into(),
        };
        assert_eq!(denied.to_string(), "denied: stream key banned");
        assert_eq!(AuthError::MissingToken.to_string(), "missing token");
        assert_eq!(
            AuthError::SignatureExpired {
                expires: 10,
                now: 11
            }
            .to_string(),
            "signature expired at 10 (now 11, unix seconds)"
        );
        assert_eq!(
            AuthError::HookRefused {
                hook: "on_publish",
                status: 403
            }
            .to_string(),
            "on_publish hook refused with status 403"
        );
        assert_eq!(
            AuthError::HookFailed {
                hook: "on_play",
                reason: "http://127.0.0.1:9/play: connection refused".into()
            }
            .to_string(),
            "on_play hook failed, refusing (fail closed): http://127.0.0.1:9/play: connection refused"
        );
    }
}
