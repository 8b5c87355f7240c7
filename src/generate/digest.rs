//! Short content hashes: of a generated file in the manifest, of a template set, and of an
//! over-long constraint name that PostgreSQL would cut.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

/// The first 64 bits of `text`'s SHA-256, in hex. It detects edits, not attacks, and short
/// hashes keep the manifest readable.
pub fn hash(text: &str) -> String {
    short_hex(&Sha256::digest(text.as_bytes()))
}

pub fn short_hex(bytes: &[u8]) -> String {
    bytes.iter().take(8).fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_short_and_stable() {
        assert_eq!(hash(""), "e3b0c44298fc1c14");
        assert_eq!(
            short_hex(&[0xab, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
            "ab01020304050607"
        );
    }
}
