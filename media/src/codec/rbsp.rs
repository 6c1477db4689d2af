//! NAL unit payloads to RBSP: removing emulation prevention bytes.

/// The RBSP of a NAL unit's payload: every `00 00 03` becomes `00 00`.
///
/// The output is never longer than the input, so the allocation is bounded by
/// what was received.
pub(crate) fn unescape(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len());
    let mut zeros = 0usize;
    for &byte in payload {
        if zeros >= 2 && byte == 0x03 {
            zeros = 0;
            continue;
        }
        zeros = if byte == 0 { zeros + 1 } else { 0 };
        out.push(byte);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_emulation_prevention() {
        assert_eq!(unescape(&[0, 0, 3, 1]), [0, 0, 1]);
        assert_eq!(unescape(&[0, 0, 3, 0, 0, 3]), [0, 0, 0, 0]);
        assert_eq!(unescape(&[0, 3, 0, 0, 3]), [0, 3, 0, 0]);
        assert_eq!(unescape(&[1, 2, 3]), [1, 2, 3]);
    }
}
