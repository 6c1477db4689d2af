//! The admin token: when one is configured, `/metrics` and `/api/*` want
//! `Authorization: Bearer TOKEN` (or `?admin_token=TOKEN`, for tools that
//! cannot set headers).

use arcly_protocols::http::RequestHead;

/// Whether `request` carries `token`. Compared in time independent of
/// where the first difference is, so the token cannot be guessed byte by
/// byte from response times.
pub(crate) fn admits(request: &RequestHead, token: &str) -> bool {
    let bearer = request.header("authorization").and_then(|value| {
        let (scheme, credentials) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| credentials.trim())
    });
    if bearer.is_some_and(|given| same(given.as_bytes(), token.as_bytes())) {
        return true;
    }
    matches!(
        request.query_param("admin_token"),
        Ok(Some(given)) if same(given.as_bytes(), token.as_bytes())
    )
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use arcly_protocols::http::RequestParser;
    use bytes::BytesMut;

    use super::*;

    fn request(text: &str) -> RequestHead {
        let mut buf = BytesMut::from(text);
        RequestParser::new().feed(&mut buf).unwrap().unwrap()
    }

    #[test]
    fn takes_a_bearer_header_or_a_query_parameter() {
        let with = |head: &str| admits(&request(head), "s3cret");
        assert!(with(
            "GET /metrics HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer s3cret\r\n\r\n"
        ));
        assert!(with(
            "GET /metrics HTTP/1.1\r\nHost: a\r\nauthorization: bearer  s3cret\r\n\r\n"
        ));
        assert!(with(
            "GET /metrics?admin_token=s3cret HTTP/1.1\r\nHost: a\r\n\r\n"
        ));
        assert!(!with("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n"));
        assert!(!with(
            "GET /metrics HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer s3cre\r\n\r\n"
        ));
        assert!(!with(
            "GET /metrics HTTP/1.1\r\nHost: a\r\nAuthorization: Basic s3cret\r\n\r\n"
        ));
        assert!(!with(
            "GET /metrics?admin_token=S3CRET HTTP/1.1\r\nHost: a\r\n\r\n"
        ));
    }
}
