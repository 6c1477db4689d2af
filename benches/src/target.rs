//! The stream a scenario runs against: `rtmp://HOST[:PORT]/APP/STREAM`.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::str::FromStr;

use anyhow::Context;

/// The default RTMP port.
const RTMP_PORT: u16 = 1935;

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
