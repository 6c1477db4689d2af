//! Where a hook is sent: an `http://host[:port]/path` URL, its host
//! resolved once when the configuration is built.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};

/// Why a hook URL cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HookUrlError {
    /// Not `http://` (arcly speaks plain HTTP to hooks: no TLS).
    #[error("'{0}' is not an http:// url (hooks are plain http: no https)")]
    NotHttp(String),
    /// No host between `http://` and the path.
    #[error("'{0}' has no host")]
    NoHost(String),
    /// A port that is not a number from 1 to 65535.
    #[error("'{0}' has a bad port")]
    BadPort(String),
    /// User info, a fragment, whitespace or a control character.
    #[error("'{0}' has user info, a fragment, a space or a control character")]
    BadCharacter(String),
    /// The host name does not resolve.
    #[error("cannot resolve the host of '{url}': {error}")]
    Unresolvable {
        /// The URL.
        url: String,
        /// What the resolver said.
        error: String,
    },
}

/// An operator's hook endpoint.
///
/// A host name is resolved when the URL is made ([`HookUrl::resolve`],
/// with the system resolver, which blocks: call it while loading the
/// configuration, never on a shard); every call then connects to that
/// address, so no shard ever waits on DNS.
#[derive(Clone, PartialEq, Eq)]
pub struct HookUrl {
    /// As configured.
    text: String,
    /// The `Host` header: the authority as written.
    host: String,
    /// Path and query, starting with `/`.
    path: String,
    /// Where to connect.
    addr: SocketAddr,
}

impl HookUrl {
    /// Parses `text` and resolves its host (the first address found).
    pub fn resolve(text: &str) -> Result<HookUrl, HookUrlError> {
        let parts = Parts::parse(text)?;
        let addr = (parts.host_name.as_str(), parts.port)
            .to_socket_addrs()
            .map_err(|e| e.to_string())
            .and_then(|mut addrs| addrs.next().ok_or_else(|| "no address".to_owned()))
            .map_err(|error| HookUrlError::Unresolvable {
                url: text.to_owned(),
                error,
            })?;
        Ok(HookUrl {
            text: text.to_owned(),
            host: parts.authority,
            path: parts.path,
            addr,
        })
    }

    /// The URL as configured.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The address calls connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The value of the `Host` header.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// The request target: path and query.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }
}

impl fmt::Display for HookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for HookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HookUrl({} -> {})", self.text, self.addr)
    }
}

/// A URL taken apart, before resolution.
#[derive(Debug, PartialEq, Eq)]
struct Parts {
    authority: String,
    host_name: String,
    port: u16,
    path: String,
}

impl Parts {
    fn parse(text: &str) -> Result<Parts, HookUrlError> {
        let bad = |e: fn(String) -> HookUrlError| e(text.to_owned());
        if text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '#')
        {
            return Err(bad(HookUrlError::BadCharacter));
        }
        let rest = match text.get(..7) {
            Some(scheme) if scheme.eq_ignore_ascii_case("http://") => &text[7..],
            _ => return Err(bad(HookUrlError::NotHttp)),
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'?' => (&rest[..i], format!("/{}", &rest[i..])),
            Some(i) => (&rest[..i], rest[i..].to_owned()),
            None => (rest, "/".to_owned()),
        };
        if authority.contains('@') {
            return Err(bad(HookUrlError::BadCharacter));
        }
        // `[v6]:port`, `[v6]`, `host:port`, `host`.
        let (host_name, port) = if let Some(v6) = authority.strip_prefix('[') {
            let Some((host, after)) = v6.split_once(']') else {
                return Err(bad(HookUrlError::NoHost));
            };
            match after {
                "" => (host, None),
                _ => match after.strip_prefix(':') {
                    Some(port) => (host, Some(port)),
                    None => return Err(bad(HookUrlError::BadPort)),
                },
            }
        } else {
            match authority.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host_name.is_empty() {
            return Err(bad(HookUrlError::NoHost));
        }
        let port = match port {
            None => 80,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                match p.parse::<u16>() {
                    Ok(p) if p > 0 => p,
                    _ => return Err(bad(HookUrlError::BadPort)),
                }
            }
            Some(_) => return Err(bad(HookUrlError::BadPort)),
        };
        Ok(Parts {
            authority: authority.to_owned(),
            host_name: host_name.to_owned(),
            port,
            path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(text: &str) -> Result<(String, String, u16, String), HookUrlError> {
        Parts::parse(text).map(|p| (p.authority, p.host_name, p.port, p.path))
    }

    #[test]
    fn takes_urls_apart() {
        let own = |a: &str, h: &str, p: u16, path: &str| {
            Ok((a.to_owned(), h.to_owned(), p, path.to_owned()))
        };
        assert_eq!(
            parts("http://127.0.0.1:9000/pub"),
            own("127.0.0.1:9000", "127.0.0.1", 9000, "/pub")
        );
        assert_eq!(
            parts("HTTP://hooks.example"),
            own("hooks.example", "hooks.example", 80, "/")
        );
        assert_eq!(
            parts("http://[::1]:81/a/b?x=1"),
            own("[::1]:81", "::1", 81, "/a/b?x=1")
        );
        assert_eq!(parts("http://[::1]"), own("[::1]", "::1", 80, "/"));
        assert_eq!(parts("http://h:1?x"), own("h:1", "h", 1, "/?x"));
    }

    #[test]
    fn refuses_what_it_cannot_call() {
        type Expected = fn(String) -> HookUrlError;
        let cases: [(&str, Expected); 10] = [
            ("https://h/x", HookUrlError::NotHttp),
            ("ftp://h", HookUrlError::NotHttp),
            ("127.0.0.1:9000/x", HookUrlError::NotHttp),
            ("http://", HookUrlError::NoHost),
            ("http://:80/x", HookUrlError::NoHost),
            ("http://h:0/", HookUrlError::BadPort),
            ("http://h:65536/", HookUrlError::BadPort),
            ("http://h:x/", HookUrlError::BadPort),
            ("http://u:p@h/", HookUrlError::BadCharacter),
            ("http://h/a b", HookUrlError::BadCharacter),
        ];
        for (text, error) in cases {
            assert_eq!(Parts::parse(text), Err(error(text.to_owned())), "{text}");
        }
        assert_eq!(
            Parts::parse("http://h/#x"),
            Err(HookUrlError::BadCharacter("http://h/#x".into()))
        );
    }

    #[test]
    fn resolves_literals_and_localhost() {
        let url = HookUrl::resolve("http://127.0.0.1:9000/pub").unwrap();
        assert_eq!(url.addr(), "127.0.0.1:9000".parse().unwrap());
        assert_eq!((url.host(), url.path()), ("127.0.0.1:9000", "/pub"));
        assert_eq!(url.to_string(), "http://127.0.0.1:9000/pub");
        let local = HookUrl::resolve("http://localhost:9/").unwrap();
        assert!(local.addr().ip().is_loopback());
        assert!(matches!(
            HookUrl::resolve("http://no-such-host.invalid/"),
            Err(HookUrlError::Unresolvable { .. })
        ));
    }
}
