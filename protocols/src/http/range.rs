//! `Range: bytes=...` for a body of known length (RFC 9110 14.1.2): what a
//! player asks when it fetches part of a segment.
//!
//! One range is served; a request for several ranges gets the whole body
//! (a server may ignore `Range`), which players handle, and no multipart
//! body is ever built.

/// The bytes a `Range` header selects from a body of `len` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeRequest {
    /// No usable range: send the whole body with 200.
    Whole,
    /// Send `start..=end` with 206 and `Content-Range: bytes start-end/len`.
    Part {
        /// First byte, inclusive.
        start: u64,
        /// Last byte, inclusive.
        end: u64,
    },
    /// The range lies outside the body: 416 with `Content-Range: bytes */len`.
    Unsatisfiable,
}

impl RangeRequest {
    /// Reads the `Range` header value `header` (if any) against a body of
    /// `len` bytes. A header that is not a single well-formed byte range
    /// is ignored ([`RangeRequest::Whole`]), as RFC 9110 allows.
    pub fn parse(header: Option<&str>, len: u64) -> RangeRequest {
        let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
            return RangeRequest::Whole;
        };
        if spec.contains(',') {
            return RangeRequest::Whole;
        }
        let Some((first, last)) = spec.trim().split_once('-') else {
            return RangeRequest::Whole;
        };
        let number = |s: &str| -> Option<u64> {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        };
        match (first.trim().is_empty(), last.trim().is_empty()) {
            // bytes=-N: the last N bytes.
            (true, false) => match number(last) {
                Some(0) => RangeRequest::Unsatisfiable,
                Some(n) if len > 0 => RangeRequest::Part {
                    start: len.saturating_sub(n),
                    end: len - 1,
                },
                Some(_) => RangeRequest::Unsatisfiable,
                None => RangeRequest::Whole,
            },
            // bytes=N-: from N to the end.
            (false, true) => match number(first) {
                Some(start) if start < len => RangeRequest::Part {
                    start,
                    end: len - 1,
                },
                Some(_) => RangeRequest::Unsatisfiable,
                None => RangeRequest::Whole,
            },
            (false, false) => match (number(first), number(last)) {
                (Some(start), Some(end)) if start > end => RangeRequest::Whole,
                (Some(start), Some(_)) if start >= len => RangeRequest::Unsatisfiable,
                (Some(start), Some(end)) => RangeRequest::Part {
                    start,
                    end: end.min(len - 1),
                },
                _ => RangeRequest::Whole,
            },
            (true, true) => RangeRequest::Whole,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(start: u64, end: u64) -> RangeRequest {
        RangeRequest::Part { start, end }
    }

    #[test]
    fn no_header_or_another_unit_is_the_whole_body() {
        assert_eq!(RangeRequest::parse(None, 100), RangeRequest::Whole);
        assert_eq!(
            RangeRequest::parse(Some("items=0-1"), 100),
            RangeRequest::Whole
        );
    }

    #[test]
    fn a_closed_range_is_clamped_to_the_body() {
        assert_eq!(RangeRequest::parse(Some("bytes=0-9"), 100), part(0, 9));
        assert_eq!(RangeRequest::parse(Some("bytes=90-200"), 100), part(90, 99));
    }

    #[test]
    fn open_and_suffix_ranges() {
        assert_eq!(RangeRequest::parse(Some("bytes=10-"), 100), part(10, 99));
        assert_eq!(RangeRequest::parse(Some("bytes=-10"), 100), part(90, 99));
        assert_eq!(RangeRequest::parse(Some("bytes=-1000"), 100), part(0, 99));
    }

    #[test]
    fn ranges_past_the_end_are_unsatisfiable() {
        let unsatisfiable = RangeRequest::Unsatisfiable;
        assert_eq!(RangeRequest::parse(Some("bytes=100-"), 100), unsatisfiable);
        assert_eq!(
            RangeRequest::parse(Some("bytes=100-200"), 100),
            unsatisfiable
        );
        assert_eq!(RangeRequest::parse(Some("bytes=-0"), 100), unsatisfiable);
        assert_eq!(RangeRequest::parse(Some("bytes=-5"), 0), unsatisfiable);
    }

    #[test]
    fn malformed_or_multiple_ranges_are_ignored() {
        for header in [
            "bytes=",
            "bytes=-",
            "bytes=a-b",
            "bytes=5-1",
            "bytes=0-1,5-6",
            "bytes=+1-2",
            "bytes=99999999999999999999999-",
        ] {
            assert_eq!(
                RangeRequest::parse(Some(header), 100),
                RangeRequest::Whole,
                "{header}"
            );
        }
    }
}
