//! Sealing the session into the cookie: ChaCha20-Poly1305 (RFC 8439) under a key derived from
//! the `SESSION_KEY` worker secret, so the browser holds the Keystone token without being able
//! to read or alter it, and the worker keeps no server-side state.
//!
//! Sealed form: `v1.` + base64url (no padding) of `nonce (12 bytes) || ciphertext || tag (16)`,
//! with the associated data [`AAD`] binding it to this use. Key: SHA-256 of [`KEY_CONTEXT`]
//! followed by the secret's bytes (the secret must already be high-entropy; this only fixes
//! the length and separates uses). A random nonce per seal: 96-bit random nonces are safe for
//! far more seals than a deployment makes (NIST SP 800-38D's 2^32 bound per key).

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sha2::{Digest, Sha256};

/// Prefix naming the format version of a sealed value.
pub const PREFIX: &str = "v1.";
/// Associated data: a sealed value is only valid as a stackferry session cookie.
pub const AAD: &[u8] = b"stackferry-session-v1";
/// Domain separation for the key derivation.
pub const KEY_CONTEXT: &[u8] = b"stackferry session cookie key v1\0";
/// ChaCha20-Poly1305 nonce length.
pub const NONCE_LEN: usize = 12;
/// Poly1305 tag length.
pub const TAG_LEN: usize = 16;
/// Largest sealed value accepted back (a cookie is at most 4096 bytes).
pub const MAX_SEALED_LEN: usize = 4096;

pub struct Sealer {
    keys: Vec<ChaCha20Poly1305>,
}

/// Never prints key material.
impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealer({} keys)", self.keys.len())
    }
}

impl Sealer {
    /// `secret`: the current `SESSION_KEY`; `previous`: an older key still accepted for
    /// unsealing (key rotation), never used to seal.
    /// Both must be base64 of at least `config::MIN_SESSION_KEY_BYTES` bytes; a `previous` that is set
    /// but not such a key is an error too (a rotation typo would otherwise log everyone out
    /// without a word).
    pub fn new(secret: &str, previous: Option<&str>) -> Result<Sealer, String> {
        check_key("SESSION_KEY", secret)?;
        let mut keys = vec![Self::cipher(secret)];
        if let Some(p) = previous.filter(|p| !p.trim().is_empty()) {
            check_key("SESSION_KEY_PREVIOUS", p)?;
            keys.push(Self::cipher(p));
        }
        Ok(Sealer { keys })
    }

    /// The key from the secret as given (its text, not its decoded bytes: keys set before the
    /// base64 check keep opening their cookies).
    fn cipher(secret: &str) -> ChaCha20Poly1305 {
        let mut h = Sha256::new();
        h.update(KEY_CONTEXT);
        h.update(secret.trim().as_bytes());
        let key: [u8; 32] = h.finalize().into();
        ChaCha20Poly1305::new(Key::from_slice(&key))
    }

    /// Seals `plaintext` as a session cookie ([`AAD`]) with a fresh random nonce.
    pub fn seal(&self, plaintext: &[u8]) -> Result<String, String> {
        self.seal_for(AAD, plaintext)
    }

    /// Seals `plaintext` for the use `aad` names: it unseals only with the same `aad`, so a
    /// value sealed for one use (an upload token) is never taken for another (a session).
    pub fn seal_for(&self, aad: &[u8], plaintext: &[u8]) -> Result<String, String> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::getrandom(&mut nonce).map_err(|e| format!("no random numbers: {e}"))?;
        self.seal_with_nonce(aad, plaintext, nonce)
    }

    fn seal_with_nonce(&self, aad: &[u8], plaintext: &[u8], nonce: [u8; NONCE_LEN]) -> Result<String, String> {
        let ct = self.keys[0]
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad })
            .map_err(|_| "sealing failed".to_string())?;
        let mut raw = Vec::with_capacity(NONCE_LEN + ct.len());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&ct);
        Ok(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(raw)))
    }

    /// The plaintext of a session cookie, or `None` when the value is not one we sealed (wrong
    /// key, altered, truncated, other format, other use).
    pub fn unseal(&self, sealed: &str) -> Option<Vec<u8>> {
        self.unseal_for(AAD, sealed)
    }

    /// The plaintext of a value sealed with [`Sealer::seal_for`] and the same `aad`.
    pub fn unseal_for(&self, aad: &[u8], sealed: &str) -> Option<Vec<u8>> {
        if sealed.len() > MAX_SEALED_LEN {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(sealed.strip_prefix(PREFIX)?).ok()?;
        if raw.len() < NONCE_LEN + TAG_LEN {
            return None;
        }
        let (nonce, ct) = raw.split_at(NONCE_LEN);
        self.keys.iter().find_map(|k| k.decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad }).ok())
    }
}

/// Ok if `value` is base64 (standard or URL-safe, padded or not) of at least
/// `config::MIN_SESSION_KEY_BYTES` bytes; else an error naming the setting and how to make one.
fn check_key(name: &str, value: &str) -> Result<(), String> {
    let v = value.trim();
    let bytes = [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD].iter().find_map(|e| e.decode(v).ok());
    match bytes {
        Some(b) if b.len() >= crate::config::MIN_SESSION_KEY_BYTES => Ok(()),
        _ => Err(format!(
            "{name} must be at least {} random bytes in base64; it is {} (make one: openssl rand -base64 32)",
            crate::config::MIN_SESSION_KEY_BYTES,
            match bytes {
                _ if v.is_empty() => "missing".to_string(),
                Some(b) => format!("{} bytes", b.len()),
                None => "not base64".to_string(),
            }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    const K2: &str = "YW5vdGhlciBrZXkgb2YgYXQgbGVhc3QgdGhpcnR5LXR3byBieXRlcw";
    const OLD: &str = "b2xkIGtleSBvbGQga2V5IG9sZCBrZXkgb2xkIGtleSBvbGQ-a2V5Xw==";

    #[test]
    fn round_trip_and_fresh_nonces() {
        let s = Sealer::new(K, None).unwrap();
        let a = s.seal(b"gAAAAA-token").unwrap();
        let b = s.seal(b"gAAAAA-token").unwrap();
        assert!(a.starts_with("v1."));
        assert_ne!(a, b, "each seal uses a new nonce");
        assert!(!a.contains("token"));
        assert_eq!(s.unseal(&a).unwrap(), b"gAAAAA-token");
        assert_eq!(s.unseal(&b).unwrap(), b"gAAAAA-token");
    }

    #[test]
    fn refuses_altered_foreign_and_short_values() {
        let s = Sealer::new(K, None).unwrap();
        let a = s.seal(b"secret").unwrap();
        let mut raw = URL_SAFE_NO_PAD.decode(&a[3..]).unwrap();
        for i in [0, NONCE_LEN, raw.len() - 1] {
            raw[i] ^= 1;
            assert_eq!(s.unseal(&format!("v1.{}", URL_SAFE_NO_PAD.encode(&raw))), None, "flipped byte {i}");
            raw[i] ^= 1;
        }
        let other = Sealer::new(K2, None).unwrap();
        assert_eq!(other.unseal(&a), None);
        for bad in ["", "v1.", "v2.AAAA", "v1.!!!!", "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &"v1.A".repeat(2000)] {
            assert_eq!(s.unseal(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_value_sealed_for_one_use_opens_for_no_other() {
        let s = Sealer::new(K, None).unwrap();
        let token = s.seal_for(b"stackferry-other-use", b"x").unwrap();
        assert_eq!(s.unseal(&token), None, "not a session cookie");
        assert_eq!(s.unseal_for(b"stackferry-other-use", &token).unwrap(), b"x");
        assert_eq!(s.unseal_for(b"stackferry-other-use", &s.seal(b"x").unwrap()), None);
    }

    #[test]
    fn previous_key_still_opens_old_cookies() {
        let old = Sealer::new(OLD, None).unwrap();
        let sealed = old.seal(b"x").unwrap();
        let rotated = Sealer::new(K, Some(OLD)).unwrap();
        assert_eq!(rotated.unseal(&sealed).unwrap(), b"x");
        // new seals use the new key only
        let fresh = rotated.seal(b"y").unwrap();
        assert_eq!(old.unseal(&fresh), None);
    }

    #[test]
    fn weak_or_missing_keys_are_refused() {
        assert!(Sealer::new("", None).unwrap_err().contains("missing"));
        assert!(Sealer::new("short", None).unwrap_err().contains("SESSION_KEY"));
        // 32 characters of text (not base64: spaces) and 24 bytes of base64 are not 32 random bytes.
        let e = Sealer::new("a very secret key of more than 32 chars", None).unwrap_err();
        assert!(e.contains("not base64"), "{e}");
        let e = Sealer::new("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3", None).unwrap_err();
        assert!(e.contains("24 bytes"), "{e}");
        // A previous key that is set but weak is an error naming it, not dropped silently.
        let e = Sealer::new(K, Some("short")).unwrap_err();
        assert!(e.contains("SESSION_KEY_PREVIOUS"), "{e}");
        assert!(Sealer::new(K, Some("  ")).is_ok(), "blank previous = none");
        // openssl rand -base64 32 and its URL-safe unpadded form are accepted.
        assert!(Sealer::new("q1Y2P0k1oN8m1D0b8mJzL6j6xkqE3Qm8b0uV5rS2H3c=", None).is_ok());
        assert!(Sealer::new("q1Y2P0k1oN8m1D0b8mJzL6j6xkqE3Qm8b0uV5rS2H3c", None).is_ok());
    }

    /// The format the node tests decrypt with (crypto 'chacha20-poly1305'): fixed vector.
    #[test]
    fn known_answer() {
        let s = Sealer::new(K, None).unwrap();
        let v = s.seal_with_nonce(AAD, b"hello", [7u8; 12]).unwrap();
        assert_eq!(s.unseal(&v).unwrap(), b"hello");
        let raw = URL_SAFE_NO_PAD.decode(&v[3..]).unwrap();
        assert_eq!(&raw[..12], &[7u8; 12]);
        assert_eq!(raw.len(), 12 + 5 + 16);
    }
}
