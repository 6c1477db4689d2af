//! A client for the operator API, shared by the `api_*` tests: HTTP/1.1
//! requests with any method and an optional bearer token, a reader of the
//! Prometheus text format, and `promtool`.
//!
//! Written from the HTTP and exposition-format specifications, not from
//! the server's code.
#![allow(dead_code)] // each test binary uses a different subset

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// How to install promtool when a test cannot find it.
pub(crate) const INSTALL_PROMTOOL: &str = "apt-get update && apt-get install -y prometheus";

/// An answer: status, head (lower-case header names) and body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) body: String,
}

impl Answer {
    /// The body as JSON; fails the test if it is not.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {}", self.status, self.body))
    }
}

/// `METHOD path` with `Authorization: Bearer token` when a token is given.
pub(crate) fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
) -> io::Result<Answer> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, text.clone()))?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, head.to_owned()))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body = match headers_len(&headers) {
        Some(len) => body.get(..len).unwrap_or(body).to_owned(),
        None => body.to_owned(),
    };
    Ok(Answer {
        status,
        headers,
        body,
    })
}

fn headers_len(headers: &BTreeMap<String, String>) -> Option<usize> {
    headers.get("content-length")?.parse().ok()
}

/// `request`, failing the test on a socket error.
pub(crate) fn call(addr: SocketAddr, method: &str, path: &str, token: Option<&str>) -> Answer {
    request(addr, method, path, token).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// `GET path` that must answer 200 with JSON.
pub(crate) fn get_json(addr: SocketAddr, path: &str, token: Option<&str>) -> Value {
    let answer = call(addr, "GET", path, token);
    assert_eq!(answer.status, 200, "GET {path}: {}", answer.body);
    answer.json()
}

/// One sample of the text format.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Sample {
    pub(crate) name: String,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) value: f64,
}

/// The samples of an exposition (comments skipped). Label values here
/// never hold escaped quotes or commas, so a plain split is enough.
pub(crate) fn parse_metrics(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (series, value) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("bad sample line {line:?}"));
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => {
                    let inside = rest.strip_suffix('}').expect("labels end with }");
                    let labels = inside
                        .split(',')
                        .filter(|p| !p.is_empty())
                        .map(|pair| {
                            let (k, v) = pair.split_once('=').expect("label is k=\"v\"");
                            (k.to_owned(), v.trim_matches('"').to_owned())
                        })
                        .collect();
                    (name, labels)
                }
                None => (series, BTreeMap::new()),
            };
            let value = match value {
                "+Inf" => f64::INFINITY,
                v => v
                    .parse()
                    .unwrap_or_else(|_| panic!("bad value in {line:?}")),
            };
            Sample {
                name: name.to_owned(),
                labels,
                value,
            }
        })
        .collect()
}

/// The sum of `name`'s samples whose labels include every pair of `with`.
pub(crate) fn sum(samples: &[Sample], name: &str, with: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            with.iter()
                .all(|(k, v)| s.labels.get(*k).is_some_and(|x| x == v))
        })
        .map(|s| s.value)
        .sum()
}

/// Runs `promtool check metrics` on `text`: `(passed, what it printed)`.
/// Fails the test, with the install command, when promtool is missing.
pub(crate) fn promtool_check(text: &str) -> (bool, String) {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => panic!(
            "promtool is needed by this test and did not run ({e}): install it with \
             `{INSTALL_PROMTOOL}`"
        ),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .expect("write to promtool");
    let out = child.wait_with_output().expect("promtool output");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}
