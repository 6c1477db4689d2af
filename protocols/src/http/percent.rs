//! Percent-decoding (RFC 3986 2.1) of request paths and query components.

use super::HttpError;

/// Decodes `%XX` escapes in `input`; with `plus_as_space`, `+` becomes a
/// space as in HTML form query strings. `what` (`"path"`, `"query"`) names
/// the part in errors.
///
/// Refused: a `%` without two hex digits after it, and a result that is not
/// UTF-8. The output is never longer than the input.
pub fn percent_decode(
    input: &str,
    plus_as_space: bool,
    what: &'static str,
) -> Result<String, HttpError> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'%' => {
                let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
                let (Some(high), Some(low)) = (hex(i + 1), hex(i + 2)) else {
                    return Err(HttpError::BadPercentEncoding { what, offset: i });
                };
                // Two hex digits make at most 255.
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            b'+' if plus_as_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| HttpError::NotUtf8(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes() {
        assert_eq!(
            percent_decode("/live/cam%201", false, "path").unwrap(),
            "/live/cam 1"
        );
        assert_eq!(percent_decode("a%2Fb%2fc", false, "path").unwrap(), "a/b/c");
        assert_eq!(
            percent_decode("%C3%A9t%C3%A9", false, "path").unwrap(),
            "été"
        );
        assert_eq!(percent_decode("a+b", false, "path").unwrap(), "a+b");
        assert_eq!(percent_decode("a+b", true, "query").unwrap(), "a b");
    }

    #[test]
    fn refuses_bad_escapes() {
        assert_eq!(
            percent_decode("/a%2", false, "path"),
            Err(HttpError::BadPercentEncoding {
                what: "path",
                offset: 2
            })
        );
        assert_eq!(
            percent_decode("%zz", true, "query"),
            Err(HttpError::BadPercentEncoding {
                what: "query",
                offset: 0
            })
        );
        assert_eq!(
            percent_decode("%ff", false, "path"),
            Err(HttpError::NotUtf8("path"))
        );
    }
}
