//! The stream a scenario runs against: `rtmp://HOST[:PORT]/APP/STREAM`,
//! and HTTP URLs (`http://HOST[:PORT]/PATH`): an HTTP-FLV stream, or the
//! server's status API.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::str::FromStr;

use anyhow::Context;

/// The default RTMP port.
const RTMP_PORT: u16 = 1935;

/// The default HTTP port.
const HTTP_PORT: u16 = 80;

/// A parsed `--target`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    /// The server's address, resolved.
    pub(crate) addr: SocketAddr,
    /// `rtmp://HOST:PORT/APP`, as sent in `connect`.
    pub(crate) tc_url: String,
    /// The stream name (with any query string).
    pub(crate) stream: String,
}

impl FromStr for Target {
    type Err = anyhow::Error;

    fn from_str(url: &str) -> anyhow::Result<Target> {
        let rest = url
            .strip_prefix("rtmp://")
            .context("the target must be rtmp://HOST[:PORT]/APP/STREAM")?;
        let (authority, path) = rest
            .split_once('/')
            .context("the target has no /APP/STREAM")?;
        let (app, stream) = path
            .split_once('/')
            .filter(|(app, stream)| !app.is_empty() && !stream.is_empty())
            .context("the target must name an app and a stream: /APP/STREAM")?;
        let host_port = if authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| !p.contains(']'))
        {
            authority.to_owned()
        } else {
            format!("{authority}:{RTMP_PORT}")
        };
        let addr = host_port
            .to_socket_addrs()
            .with_context(|| format!("resolve {host_port}"))?
            .next()
            .with_context(|| format!("{host_port} resolves to nothing"))?;
        Ok(Target {
            addr,
            tc_url: format!("rtmp://{host_port}/{app}"),
            stream: stream.to_owned(),
        })
    }
}

impl Target {
    /// The same server and app, stream `NAME-n` for stream `NAME` (any
    /// query string kept): one of several streams of a scenario.
    pub(crate) fn numbered(&self, n: usize) -> Target {
        let (name, query) = match self.stream.split_once('?') {
            Some((name, query)) => (name, format!("?{query}")),
            None => (self.stream.as_str(), String::new()),
        };
        Target {
            stream: format!("{name}-{n}{query}"),
            ..self.clone()
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.tc_url, self.stream)
    }
}

/// A parsed `http://HOST[:PORT][/PATH]`: `--http` (an HTTP-FLV stream,
/// `/APP/STREAM.flv`) or `--server-http` (the server's HTTP root).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HttpUrl {
    /// The server's address, resolved.
    pub(crate) addr: SocketAddr,
    /// `HOST:PORT`, as sent in `Host`.
    pub(crate) host: String,
    /// The path with any query string; `/` if the URL has none.
    pub(crate) path: String,
}

impl FromStr for HttpUrl {
    type Err = anyhow::Error;

    fn from_str(url: &str) -> anyhow::Result<HttpUrl> {
        let rest = url
            .strip_prefix("http://")
            .context("the URL must be http://HOST[:PORT]/PATH")?;
        let (authority, path) = match rest.find('/') {
            Some(at) => rest.split_at(at),
            None => (rest, "/"),
        };
        anyhow::ensure!(!authority.is_empty(), "the URL {url} names no host");
        let host = if authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| !p.contains(']'))
        {
            authority.to_owned()
        } else {
            format!("{authority}:{HTTP_PORT}")
        };
        let addr = host
            .to_socket_addrs()
            .with_context(|| format!("resolve {host}"))?
            .next()
            .with_context(|| format!("{host} resolves to nothing"))?;
        Ok(HttpUrl {
            addr,
            host,
            path: path.to_owned(),
        })
    }
}

impl HttpUrl {
    /// The same URL with `path` instead.
    pub(crate) fn at(&self, path: &str) -> HttpUrl {
        HttpUrl {
            path: path.to_owned(),
            ..self.clone()
        }
    }

    /// Whether the path names an HTTP-FLV stream: `/APP/STREAM.flv`.
    pub(crate) fn is_flv_stream(&self) -> bool {
        let name = self.path.split('?').next().unwrap_or_default();
        name.strip_suffix(".flv")
            .and_then(|key| key.strip_prefix('/'))
            .and_then(|key| key.split_once('/'))
            .is_some_and(|(app, stream)| !app.is_empty() && !stream.is_empty())
    }

    /// For `/APP/NAME.flv`, `/APP/NAME-n.flv` (any query string kept): the
    /// HTTP-FLV URL of stream `n` of a scenario, as [`Target::numbered`].
    pub(crate) fn numbered(&self, n: usize) -> HttpUrl {
        let (name, query) = match self.path.split_once('?') {
            Some((name, query)) => (name, format!("?{query}")),
            None => (self.path.as_str(), String::new()),
        };
        let name = name.strip_suffix(".flv").unwrap_or(name);
        self.at(&format!("{name}-{n}.flv{query}"))
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}{}", self.host, self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_host_port_app_and_stream() {
        let t: Target = "rtmp://127.0.0.1:19350/live/bench?token=x".parse().unwrap();
        assert_eq!(t.addr, "127.0.0.1:19350".parse().unwrap());
        assert_eq!(t.tc_url, "rtmp://127.0.0.1:19350/live");
        assert_eq!(t.stream, "bench?token=x");
        assert_eq!(t.to_string(), "rtmp://127.0.0.1:19350/live/bench?token=x");
    }

    #[test]
    fn numbers_streams_keeping_the_query() {
        let t: Target = "rtmp://127.0.0.1/live/cam?token=x".parse().unwrap();
        assert_eq!(t.numbered(7).stream, "cam-7?token=x");
        let t: Target = "rtmp://127.0.0.1/live/cam".parse().unwrap();
        assert_eq!(
            t.numbered(0).to_string(),
            "rtmp://127.0.0.1:1935/live/cam-0"
        );
    }

    #[test]
    fn defaults_the_port() {
        let t: Target = "rtmp://127.0.0.1/live/cam".parse().unwrap();
        assert_eq!(t.addr.port(), 1935);
        assert_eq!(t.tc_url, "rtmp://127.0.0.1:1935/live");
    }

    #[test]
    fn parses_http_urls_and_numbers_flv_streams() {
        let u: HttpUrl = "http://127.0.0.1:19551/live/b.flv?token=x".parse().unwrap();
        assert_eq!(u.addr, "127.0.0.1:19551".parse().unwrap());
        assert_eq!(u.host, "127.0.0.1:19551");
        assert_eq!(u.path, "/live/b.flv?token=x");
        assert!(u.is_flv_stream());
        assert_eq!(
            u.numbered(3).to_string(),
            "http://127.0.0.1:19551/live/b-3.flv?token=x"
        );
        let root: HttpUrl = "http://127.0.0.1".parse().unwrap();
        assert_eq!((root.addr.port(), root.path.as_str()), (80, "/"));
        assert!(!root.is_flv_stream());
        assert!(!root.at("/live.flv").is_flv_stream());
        assert_eq!(
            root.at("/api/v1/shards").to_string(),
            "http://127.0.0.1:80/api/v1/shards"
        );
        assert!("rtmp://127.0.0.1/live/b".parse::<HttpUrl>().is_err());
        assert!("http:///live/b.flv".parse::<HttpUrl>().is_err());
    }

    #[test]
    fn refuses_urls_without_app_or_stream() {
        for url in [
            "http://x/live/a",
            "rtmp://127.0.0.1",
            "rtmp://127.0.0.1/live",
            "rtmp://127.0.0.1/live/",
        ] {
            assert!(url.parse::<Target>().is_err(), "{url}");
        }
    }
}
