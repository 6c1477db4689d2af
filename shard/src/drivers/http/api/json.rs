//! Just enough JSON to write the API's answers: a value tree and its
//! compact text. The shard crate carries no serde; the API only writes.

use std::fmt::Write;

/// A JSON value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A whole number.
    Int(u64),
    /// A number with a fraction, written with at most three decimals;
    /// `null` when not finite.
    Num(f64),
    /// A string.
    Str(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, its fields in order.
    Object(Vec<(&'static str, Json)>),
}

impl Json {
    /// `value` as a string, or `null`.
    pub(crate) fn opt_str(value: Option<impl Into<String>>) -> Json {
        value.map_or(Json::Null, |v| Json::Str(v.into()))
    }

    /// `value` as a number, or `null`.
    pub(crate) fn opt_int(value: Option<impl Into<u64>>) -> Json {
        value.map_or(Json::Null, |v| Json::Int(v.into()))
    }

    /// `value` as a number with a fraction, or `null`.
    pub(crate) fn opt_num(value: Option<f64>) -> Json {
        value.map_or(Json::Null, Json::Num)
    }

    /// The compact text, with a final newline (the API's bodies end with one).
    pub(crate) fn to_body(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out.push('\n');
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Json::Num(x) if x.is_finite() => {
                // Three decimals, trailing zeros dropped: `29.97`, `0.5`, `3`.
                let text = format!("{x:.3}");
                let text = text.trim_end_matches('0').trim_end_matches('.');
                out.push_str(if text == "-0" { "0" } else { text });
            }
            Json::Num(_) => out.push_str("null"),
            Json::Str(s) => write_str(out, s),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(fields) => {
                out.push('{');
                for (i, (name, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(out, name);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Json {
        Json::Str(s.to_owned())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Json {
        Json::Str(s)
    }
}

impl From<u64> for Json {
    fn from(n: u64) -> Json {
        Json::Int(n)
    }
}

impl From<usize> for Json {
    fn from(n: usize) -> Json {
        Json::Int(n as u64)
    }
}

impl From<bool> for Json {
    fn from(b: bool) -> Json {
        Json::Bool(b)
    }
}

/// A string literal with the escapes RFC 8259 requires.
fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `{"error": message}`, the body of every API refusal.
pub(crate) fn error(message: &str) -> String {
    Json::Object(vec![("error", message.into())]).to_body()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_compact_json_with_escapes() {
        let value = Json::Object(vec![
            ("key", "live/\"cam\"\n".into()),
            ("fps", Json::Num(29.970_029)),
            ("bitrate", Json::Num(f64::NAN)),
            ("whole", Json::Num(3.0)),
            (
                "viewers",
                Json::Array(vec![Json::Int(1), Json::Null, true.into()]),
            ),
            ("ctl", "\u{1}".into()),
        ]);
        assert_eq!(
            value.to_body(),
            "{\"key\":\"live/\\\"cam\\\"\\n\",\"fps\":29.97,\"bitrate\":null,\"whole\":3,\
             \"viewers\":[1,null,true],\"ctl\":\"\\u0001\"}\n"
        );
    }
}
