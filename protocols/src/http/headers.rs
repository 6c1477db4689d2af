//! Request header fields with case-insensitive lookup.

/// The header fields of a request, in order, names as sent.
///
/// Lookups ignore ASCII case, as field names are case-insensitive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    /// Headers from `(name, value)` pairs.
    pub fn new(fields: Vec<(String, String)>) -> Self {
        Headers(fields)
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether any value of `name`, read as a comma-separated list, holds
    /// `token` (ignoring ASCII case): `Connection: keep-alive, Upgrade`.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.get_all(name)
            .flat_map(|value| value.split(','))
            .any(|item| item.trim().eq_ignore_ascii_case(token))
    }

    /// Every field, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_ignoring_case() {
        let headers = Headers::new(vec![
            ("Host".into(), "example".into()),
            ("Connection".into(), "keep-alive, Upgrade".into()),
            ("x-a".into(), "1".into()),
            ("X-A".into(), "2".into()),
        ]);
        assert_eq!(headers.get("host"), Some("example"));
        assert_eq!(headers.get_all("X-a").collect::<Vec<_>>(), ["1", "2"]);
        assert!(headers.has_token("connection", "upgrade"));
        assert!(!headers.has_token("connection", "close"));
        assert_eq!(headers.len(), 4);
        assert_eq!(headers.iter().next(), Some(("Host", "example")));
    }
}
