//! The digest of the "complex" handshake: where it sits in a 1536-byte
//! packet, and the HMAC-SHA256 that makes and checks it.
//!
//! The keys are public (every RTMP implementation carries them); the digest
//! proves nothing about who is talking, it only tells Flash-era clients
//! that they reached a server that speaks their dialect.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::HANDSHAKE_SIZE;

/// One handshake packet (C1, S1, C2 or S2).
pub(super) type Packet = [u8; HANDSHAKE_SIZE];

/// The length of a digest.
pub(super) const DIGEST_LEN: usize = 32;

/// "Genuine Adobe Flash Player 001" and 32 more bytes. The first
/// [`PLAYER_KEY_TEXT`] bytes sign C1; all of it derives the key that signs
/// C2.
pub(super) const PLAYER_KEY: &[u8; 62] = b"Genuine Adobe Flash Player 001\
    \xf0\xee\xc2\x4a\x80\x68\xbe\xe8\x2e\x00\xd0\xd1\x02\x9e\x7e\x57\
    \x6e\xec\x5d\x2d\x29\x80\x6f\xab\x93\xb8\xe6\x36\xcf\xeb\x31\xae";

/// The length of the text part of [`PLAYER_KEY`].
pub(super) const PLAYER_KEY_TEXT: usize = 30;

/// "Genuine Adobe Flash Media Server 001" and the same 32 bytes. The first
/// [`SERVER_KEY_TEXT`] bytes sign S1; all of it derives the key that signs
/// S2.
pub(super) const SERVER_KEY: &[u8; 68] = b"Genuine Adobe Flash Media Server 001\
    \xf0\xee\xc2\x4a\x80\x68\xbe\xe8\x2e\x00\xd0\xd1\x02\x9e\x7e\x57\
    \x6e\xec\x5d\x2d\x29\x80\x6f\xab\x93\xb8\xe6\x36\xcf\xeb\x31\xae";

/// The length of the text part of [`SERVER_KEY`].
pub(super) const SERVER_KEY_TEXT: usize = 36;

/// Where in C1 (and S1) the digest block sits.
///
/// After the 4-byte time and 4-byte version come two 764-byte blocks, a
/// key block and a digest block, in either order. The digest block starts
/// with four bytes whose sum modulo 728 places the 32-byte digest inside
/// the rest of the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigestScheme {
    /// Scheme 0: key block first, digest block at byte 772.
    Scheme0,
    /// Scheme 1: digest block first, at byte 8 (ffmpeg, Flash Player 10).
    Scheme1,
}

impl DigestScheme {
    /// Where the digest block starts.
    fn block_start(self) -> usize {
        match self {
            DigestScheme::Scheme0 => 772,
            DigestScheme::Scheme1 => 8,
        }
    }

    /// Where the digest sits in `packet` under this scheme.
    pub(super) fn digest_offset(self, packet: &Packet) -> usize {
        let start = self.block_start();
        let sum: usize = packet[start..start + 4]
            .iter()
            .map(|b| usize::from(*b))
            .sum();
        start + 4 + sum % 728
    }
}

/// HMAC-SHA256 of the concatenated `parts`.
pub(super) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; DIGEST_LEN] {
    // HMAC takes keys of any length (longer ones are hashed first), so
    // `new_from_slice` cannot fail; the fallback only keeps this total.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        return [0; DIGEST_LEN];
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// The digest of `packet` with the 32 bytes at `offset` left out.
fn packet_digest(packet: &Packet, offset: usize, key: &[u8]) -> [u8; DIGEST_LEN] {
    hmac_sha256(key, &[&packet[..offset], &packet[offset + DIGEST_LEN..]])
}

/// The scheme and offset of a valid digest in `packet`, made with `key`.
pub(super) fn find_digest(packet: &Packet, key: &[u8]) -> Option<(DigestScheme, usize)> {
    [DigestScheme::Scheme1, DigestScheme::Scheme0]
        .into_iter()
        .map(|scheme| (scheme, scheme.digest_offset(packet)))
        .find(|(_, offset)| {
            packet_digest(packet, *offset, key)[..] == packet[*offset..*offset + DIGEST_LEN]
        })
}

/// Writes a digest made with `key` into `packet` under `scheme`; returns
/// its offset.
pub(super) fn imprint(packet: &mut Packet, scheme: DigestScheme, key: &[u8]) -> usize {
    let offset = scheme.digest_offset(packet);
    let digest = packet_digest(packet, offset, key);
    packet[offset..offset + DIGEST_LEN].copy_from_slice(&digest);
    offset
}

/// The signature that ends S2 (or C2) in the digest handshake: the HMAC of
/// the first 1504 bytes, keyed by the HMAC of the peer's digest under the
/// full `key`.
pub(super) fn response_signature(
    packet: &Packet,
    key: &[u8],
    peer_digest: &[u8],
) -> [u8; DIGEST_LEN] {
    let derived = hmac_sha256(key, &[peer_digest]);
    hmac_sha256(&derived, &[&packet[..HANDSHAKE_SIZE - DIGEST_LEN]])
}

/// Fills `out` with bytes derived from `seed` and `label` (SHA-256 in
/// counter mode).
///
/// The handshake's "random" bytes protect nothing, and a sans-IO session
/// has no entropy source, so they are derived from what the peer sent: the
/// same C1 always gets the same S1 and S2, which keeps tests reproducible.
pub(super) fn fill(seed: &[u8], label: &[u8], out: &mut [u8]) {
    for (counter, block) in out.chunks_mut(DIGEST_LEN).enumerate() {
        let hash = Sha256::new()
            .chain_update(seed)
            .chain_update(label)
            .chain_update((counter as u32).to_be_bytes())
            .finalize();
        block.copy_from_slice(&hash[..block.len()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_hmac_sha256() {
        // RFC 4231, test case 2.
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(mac[..4], [0x5b, 0xdc, 0xc1, 0x46], "{mac:02x?}");
        assert_eq!(mac[28..], [0x64, 0xec, 0x38, 0x43]);
    }

    #[test]
    fn places_digests_inside_their_block() {
        let mut packet = [0xff; HANDSHAKE_SIZE];
        // 4 * 255 = 1020; 1020 % 728 = 292.
        assert_eq!(DigestScheme::Scheme1.digest_offset(&packet), 8 + 4 + 292);
        assert_eq!(DigestScheme::Scheme0.digest_offset(&packet), 772 + 4 + 292);
        packet[772..776].fill(0);
        assert_eq!(DigestScheme::Scheme0.digest_offset(&packet), 776);
    }

    #[test]
    fn finds_the_digest_it_imprinted() {
        for scheme in [DigestScheme::Scheme0, DigestScheme::Scheme1] {
            let mut packet = [0; HANDSHAKE_SIZE];
            fill(b"seed", b"c1", &mut packet);
            let key = &PLAYER_KEY[..PLAYER_KEY_TEXT];
            let offset = imprint(&mut packet, scheme, key);
            assert_eq!(find_digest(&packet, key), Some((scheme, offset)));
            assert_eq!(find_digest(&packet, &SERVER_KEY[..SERVER_KEY_TEXT]), None);
            packet[offset] ^= 1;
            assert_eq!(find_digest(&packet, key), None);
        }
    }

    #[test]
    fn fills_deterministically() {
        let mut a = [0; 100];
        let mut b = [0; 100];
        fill(b"x", b"s1", &mut a);
        fill(b"x", b"s1", &mut b);
        assert_eq!(a, b);
        fill(b"x", b"s2", &mut b);
        assert_ne!(a, b);
    }
}
