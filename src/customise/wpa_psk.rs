//! The WPA pre-shared key a passphrase stands for: PBKDF2-HMAC-SHA1 over
//! the passphrase and the SSID, 4096 rounds, 32 bytes (IEEE 802.11i). What
//! Raspberry Pi Imager writes instead of the passphrase, so the card does
//! not carry the plain text.

use sha1::{Digest, Sha1};

const ROUNDS: u32 = 4096;
const BLOCK: usize = 64;

fn hmac_sha1(key: &[u8], message: &[&[u8]]) -> [u8; 20] {
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..20].copy_from_slice(&Sha1::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha1::new();
    inner.update(block.map(|b| b ^ 0x36));
    for part in message {
        inner.update(part);
    }
    let mut outer = Sha1::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// The 64 hexadecimal digits of the PSK for `passphrase` on `ssid`.
pub(crate) fn wpa_psk_hex(passphrase: &str, ssid: &[u8]) -> String {
    let mut key = Vec::with_capacity(40);
    for index in 1u32..=2 {
        let mut u = hmac_sha1(passphrase.as_bytes(), &[ssid, &index.to_be_bytes()]);
        let mut t = u;
        for _ in 1..ROUNDS {
            u = hmac_sha1(passphrase.as_bytes(), &[&u]);
            for (t, u) in t.iter_mut().zip(u) {
                *t ^= u;
            }
        }
        key.extend_from_slice(&t);
    }
    crate::hex::hex(&key[..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ieee_test_vector() {
        // IEEE 802.11i-2004, H.4.1.
        assert_eq!(
            wpa_psk_hex("password", b"IEEE"),
            "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e"
        );
    }
}
