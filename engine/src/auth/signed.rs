//! HMAC-signed URLs with an expiry.
//!
//! The scheme, for an app with secret `S`:
//!
//! ```text
//! sign = hex(HMAC-SHA256(S, "{app}/{stream}:{expires}"))
//! url  = .../{app}/{stream}?expires={expires}&sign={sign}
//! ```
//!
//! `expires` is a decimal count of seconds since the UNIX epoch; the URL is
//! valid while the request's time is at most `expires`. `app` and `stream`
//! are the names the server sees (the RTMP app and stream name, or the
//! percent-decoded path of an HTTP URL), without any query string. Other
//! query parameters (a `token`, a player's own) are not signed and may be
//! added freely. `sign` is 64 hex digits, either case.
//!
//! A URL signed for one stream does not open another, nor the same stream
//! past its expiry; the signature is checked in constant time before the
//! expiry, so "expired" is only ever said of a genuine URL.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::{AuthError, AuthRequest, query_param};

type HmacSha256 = Hmac<Sha256>;

/// The secret an app's URLs are signed with.
///
/// Its `Debug` form never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(Vec<u8>);

impl SigningSecret {
    /// A secret from its text, as configured.
    pub fn new(secret: &str) -> SigningSecret {
        SigningSecret(secret.as_bytes().to_vec())
    }

    /// The `sign` parameter for `app/stream` valid until `expires` (UNIX
    /// seconds): 64 lower-case hex digits.
    pub fn sign(&self, app: &str, stream: &str, expires: u64) -> String {
        let tag = self.mac(app, stream, expires).finalize().into_bytes();
        let mut hex = String::with_capacity(2 * tag.len());
        for byte in tag {
            hex.push(char::from(HEX[usize::from(byte >> 4)]));
            hex.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        hex
    }

    /// The query string that signs `app/stream` until `expires`:
    /// `expires={expires}&sign={sign}`.
    pub fn query(&self, app: &str, stream: &str, expires: u64) -> String {
        format!("expires={expires}&sign={}", self.sign(app, stream, expires))
    }

    /// Checks the request's `expires` and `sign` parameters against its app
    /// and stream and its time.
    pub fn check(&self, req: &AuthRequest<'_>) -> Result<(), AuthError> {
        let (Some(expires), Some(sign)) = (
            query_param(req.query, "expires"),
            query_param(req.query, "sign"),
        ) else {
            return Err(AuthError::MissingSignature);
        };
        // `expires` is part of what is signed: one that is not a plain
        // number cannot have been signed by us.
        let expires = parse_unix_secs(expires).ok_or(AuthError::BadSignature)?;
        let tag = decode_hex_tag(sign).ok_or(AuthError::BadSignature)?;
        self.mac(req.app, req.stream, expires)
            .verify_slice(&tag)
            .map_err(|_| AuthError::BadSignature)?;
        let now = req.now.ok_or(AuthError::NoTime)?;
        if now > expires {
            return Err(AuthError::SignatureExpired { expires, now });
        }
        Ok(())
    }

    fn mac(&self, app: &str, stream: &str, expires: u64) -> HmacSha256 {
        // HMAC takes keys of any length, so this cannot fail.
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.0)
            .expect("hmac accepts keys of any length");
        mac.update(app.as_bytes());
        mac.update(b"/");
        mac.update(stream.as_bytes());
        mac.update(b":");
        mac.update(expires.to_string().as_bytes());
        mac
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(..)")
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Digits only (no sign, no spaces), as `u64`.
fn parse_unix_secs(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// 64 hex digits as the 32 bytes of an HMAC-SHA256 tag.
fn decode_hex_tag(text: &str) -> Option<[u8; 32]> {
    let digits = text.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let mut tag = [0u8; 32];
    for (byte, pair) in tag.iter_mut().zip(digits.chunks_exact(2)) {
        let hi = char::from(pair[0]).to_digit(16)?;
        let lo = char::from(pair[1]).to_digit(16)?;
        *byte = (hi << 4 | lo) as u8;
    }
    Some(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "correct horse battery staple";

    fn request(query: &str, now: u64) -> AuthRequest<'_> {
        AuthRequest::new("live", "cam", query, None, "rtmp").at(now)
    }

    #[test]
    fn signs_as_documented() {
        // printf '%s' 'live/cam:1700000000' \
        //   | openssl dgst -sha256 -hmac 'correct horse battery staple'
        let secret = SigningSecret::new(SECRET);
        assert_eq!(
            secret.sign("live", "cam", 1_700_000_000),
            "e9c12ed26cdc4140a9e2a7953f5ce4440a45362f59670349897165040b074f9e"
        );
        assert_eq!(
            secret.query("live", "cam", 1_700_000_000),
            "expires=1700000000&sign=e9c12ed26cdc4140a9e2a7953f5ce4440a45362f59670349897165040b074f9e"
        );
    }

    #[test]
    fn a_valid_signature_opens_until_it_expires() {
        let secret = SigningSecret::new(SECRET);
        let query = secret.query("live", "cam", 1000);
        assert_eq!(secret.check(&request(&query, 999)), Ok(()));
        assert_eq!(secret.check(&request(&query, 1000)), Ok(()));
        assert_eq!(
            secret.check(&request(&query, 1001)),
            Err(AuthError::SignatureExpired {
                expires: 1000,
                now: 1001
            })
        );
        // Other parameters ride along unsigned; the hex may be upper-case.
        let sign = secret.sign("live", "cam", 1000).to_uppercase();
        let with_token = format!("token=x&expires=1000&sign={sign}&player=1");
        assert_eq!(secret.check(&request(&with_token, 5)), Ok(()));
    }

    #[test]
    fn a_tampered_url_is_refused() {
        let secret = SigningSecret::new(SECRET);
        let sign = secret.sign("live", "cam", 1000);
        let bad = |query: String| secret.check(&request(&query, 5));
        // Another expiry, another stream, another secret, a flipped digit.
        assert_eq!(
            bad(format!("expires=2000&sign={sign}")),
            Err(AuthError::BadSignature)
        );
        let other = AuthRequest::new("live", "cam2", "", None, "rtmp").at(5);
        let query = format!("expires=1000&sign={sign}");
        assert_eq!(
            secret.check(&AuthRequest {
                query: &query,
                ..other
            }),
            Err(AuthError::BadSignature)
        );
        let forged = SigningSecret::new("guess").query("live", "cam", 1000);
        assert_eq!(bad(forged), Err(AuthError::BadSignature));
        let mut flipped = sign.clone().into_bytes();
        flipped[10] = if flipped[10] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(
            bad(format!("expires=1000&sign={flipped}")),
            Err(AuthError::BadSignature)
        );
        // Malformed parameters are bad signatures, not crashes.
        for query in [
            format!("expires=+1000&sign={sign}"),
            format!("expires=1000&sign={}", &sign[..63]),
            format!("expires=1000&sign={}z", &sign[..63]),
            format!("expires=99999999999999999999999&sign={sign}"),
            "expires=&sign=".to_owned(),
        ] {
            assert_eq!(bad(query.clone()), Err(AuthError::BadSignature), "{query}");
        }
    }

    #[test]
    fn a_missing_signature_or_time_is_refused() {
        let secret = SigningSecret::new(SECRET);
        for query in ["", "expires=1000", "sign=00", "token=x"] {
            assert_eq!(
                secret.check(&request(query, 5)),
                Err(AuthError::MissingSignature),
                "{query}"
            );
        }
        let query = secret.query("live", "cam", 1000);
        let untimed = AuthRequest::new("live", "cam", &query, None, "rtmp");
        assert_eq!(secret.check(&untimed), Err(AuthError::NoTime));
    }

    #[test]
    fn debug_hides_the_secret() {
        assert_eq!(
            format!("{:?}", SigningSecret::new(SECRET)),
            "SigningSecret(..)"
        );
    }
}
