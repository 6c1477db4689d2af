//! What a hook is told, and the bytes of the request that tells it.
//! Pure functions: no socket, no clock.

use std::fmt::Write as _;
use std::net::SocketAddr;

use super::HookUrl;

/// Which hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum HookAction {
    /// A publisher asks to publish; the answer decides.
    Publish,
    /// A player asks to play; the answer decides.
    Play,
    /// A publisher that was allowed has stopped (notification only).
    PublishDone,
    /// A player that was allowed has stopped (notification only).
    PlayDone,
}

impl HookAction {
    /// The hook's name, as in the config and the `action` field.
    pub(crate) fn name(self) -> &'static str {
        match self {
            HookAction::Publish => "on_publish",
            HookAction::Play => "on_play",
            HookAction::PublishDone => "on_publish_done",
            HookAction::PlayDone => "on_play_done",
        }
    }
}

/// One call of a hook: the JSON object posted to it.
///
/// ```json
/// {"action":"on_publish","app":"live","stream":"cam","query":"token=x",
///  "peer":"192.0.2.7:50123","protocol":"rtmp","shard":3}
/// ```
///
/// `peer` is `null` where the protocol driver does not know it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HookEvent {
    pub(crate) action: HookAction,
    pub(crate) app: String,
    pub(crate) stream: String,
    pub(crate) query: String,
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) protocol: String,
    pub(crate) shard: usize,
}

impl HookEvent {
    /// The JSON body.
    pub(crate) fn json(&self) -> String {
        let mut out = String::with_capacity(160);
        out.push_str("{\"action\":");
        push_json_string(&mut out, self.action.name());
        out.push_str(",\"app\":");
        push_json_string(&mut out, &self.app);
        out.push_str(",\"stream\":");
        push_json_string(&mut out, &self.stream);
        out.push_str(",\"query\":");
        push_json_string(&mut out, &self.query);
        out.push_str(",\"peer\":");
        match self.peer {
            Some(peer) => push_json_string(&mut out, &peer.to_string()),
            None => out.push_str("null"),
        }
        out.push_str(",\"protocol\":");
        push_json_string(&mut out, &self.protocol);
        // Writing to a String cannot fail.
        let _ = write!(out, ",\"shard\":{}}}", self.shard);
        out
    }

    /// The whole HTTP/1.1 request: `POST`, the JSON body, and
    /// `Connection: close` (one call per connection: hooks are rare next
    /// to media, and a kept connection would be one more thing to
    /// time out).
    pub(crate) fn encode_request(&self, url: &HookUrl) -> Vec<u8> {
        let body = self.json();
        let mut request = String::with_capacity(body.len() + 200);
        let _ = write!(
            request,
            "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: arcly/{}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            url.path(),
            url.host(),
            env!("CARGO_PKG_VERSION"),
            body.len(),
        );
        request.into_bytes()
    }
}

/// Appends `s` as a JSON string literal (RFC 8259 §7): quotes, backslashes
/// and control characters escaped; everything else as is (UTF-8).
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(action: HookAction) -> HookEvent {
        HookEvent {
            action,
            app: "live".into(),
            stream: "cam".into(),
            query: "token=s3cret&x=1".into(),
            peer: Some("192.0.2.7:50123".parse().unwrap()),
            protocol: "rtmp".into(),
            shard: 3,
        }
    }

    #[test]
    fn writes_the_documented_json() {
        assert_eq!(
            event(HookAction::Publish).json(),
            r#"{"action":"on_publish","app":"live","stream":"cam","query":"token=s3cret&x=1","peer":"192.0.2.7:50123","protocol":"rtmp","shard":3}"#
        );
        let done = HookEvent {
            peer: None,
            ..event(HookAction::PlayDone)
        };
        assert!(done.json().starts_with(r#"{"action":"on_play_done","#));
        assert!(done.json().contains(r#""peer":null,"#));
        let names: Vec<_> = [
            HookAction::Publish,
            HookAction::Play,
            HookAction::PublishDone,
            HookAction::PlayDone,
        ]
        .map(HookAction::name)
        .into();
        assert_eq!(
            names,
            ["on_publish", "on_play", "on_publish_done", "on_play_done"]
        );
    }

    #[test]
    fn escapes_what_json_must() {
        let mut out = String::new();
        push_json_string(&mut out, "a\"b\\c\nd\u{1}é/");
        assert_eq!(out, r#""a\"b\\c\nd\u0001é/""#);
        let odd = HookEvent {
            stream: "we\"ird\u{7f}".into(),
            ..event(HookAction::Play)
        };
        assert!(odd.json().contains(r#""stream":"we\"ird"#));
    }

    #[test]
    fn encodes_one_post_per_connection() {
        let url = HookUrl::resolve("http://127.0.0.1:9000/hooks/pub?k=1").unwrap();
        let event = event(HookAction::Publish);
        let request = String::from_utf8(event.encode_request(&url)).unwrap();
        let (head, body) = request.split_once("\r\n\r\n").unwrap();
        assert_eq!(body, event.json());
        let lines: Vec<_> = head.split("\r\n").collect();
        assert_eq!(lines[0], "POST /hooks/pub?k=1 HTTP/1.1");
        assert!(lines.contains(&"Host: 127.0.0.1:9000"));
        assert!(lines.contains(&"Content-Type: application/json"));
        assert!(lines.contains(&format!("Content-Length: {}", body.len()).as_str()));
        assert!(lines.contains(&"Connection: close"));
    }
}
