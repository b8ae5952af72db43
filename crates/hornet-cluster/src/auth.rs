//! Mutual authentication on a shared token, and the plan hash.
//!
//! The controller opens with a random nonce `c`; the worker answers with its own nonce `w` and
//! `HMAC-SHA256(token, "hornet-worker\0" ‖ c ‖ w)`; the controller checks it and answers with
//! `HMAC-SHA256(token, "hornet-controller\0" ‖ w ‖ c)`, which the worker checks before it accepts a
//! plan. Neither side sends the token, each proves it knows it on a nonce the other chose, and the
//! two MACs are domain-separated so one cannot be replayed as the other. Without TLS the messages
//! after the handshake are not encrypted nor integrity-protected (see docs/distributed.md).

use ring::rand::SecureRandom;
use ring::{digest, hmac};

/// A fresh 128-bit random nonce, hex.
pub fn nonce() -> String {
    let mut bytes = [0u8; 16];
    // SystemRandom only fails when the OS has no randomness source; fall back to the clock and pid,
    // which still makes the nonce unique per connection.
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        let t =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        bytes.copy_from_slice(&(t ^ u128::from(std::process::id()) << 64).to_le_bytes());
    }
    hex(&bytes)
}

/// A fresh cluster token: 256 random bits, hex. `Err` when the OS has no randomness source (a token
/// must not be guessable, so there is no fallback).
pub fn new_token() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| "cannot generate a cluster token: the system has no source of randomness".to_string())?;
    Ok(hex(&bytes))
}

fn mac(token: &str, label: &str, a: &str, b: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, token.as_bytes());
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(label.as_bytes());
    ctx.update(&[0]);
    ctx.update(a.as_bytes());
    ctx.update(&[0]);
    ctx.update(b.as_bytes());
    hex(ctx.sign().as_ref())
}

/// The worker's proof for controller nonce `c` and worker nonce `w`.
pub fn worker_mac(token: &str, c: &str, w: &str) -> String {
    mac(token, "hornet-worker", c, w)
}

/// The controller's proof.
pub fn controller_mac(token: &str, c: &str, w: &str) -> String {
    mac(token, "hornet-controller", w, c)
}

/// Constant-time comparison of two MACs.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// SHA-256 of `data`, hex.
pub fn sha256(data: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, data).as_ref())
}

/// SHA-256 (hex) of `value`'s JSON, hashed as it is written (a plan with large shipped files is
/// never held as one string for it).
pub fn sha256_json(value: &impl serde::Serialize) -> String {
    struct Hasher(digest::Context);
    impl std::io::Write for Hasher {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.update(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut hasher = Hasher(digest::Context::new(&digest::SHA256));
    // Writing to the hasher cannot fail, nor can the plan's types be refused by serde_json.
    let _ = serde_json::to_writer(&mut hasher, value);
    hex(hasher.0.finish().as_ref())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_depend_on_token_nonces_and_direction() {
        let (c, w) = (nonce(), nonce());
        assert_ne!(c, w);
        assert_eq!(c.len(), 32);
        let m = worker_mac("t", &c, &w);
        assert!(same(&m, &worker_mac("t", &c, &w)));
        assert!(!same(&m, &worker_mac("u", &c, &w)));
        assert!(!same(&m, &worker_mac("t", &w, &c)));
        assert!(!same(&m, &controller_mac("t", &c, &w)));
        let (t, u) = (new_token().unwrap(), new_token().unwrap());
        assert_eq!(t.len(), 64);
        assert_ne!(t, u);
        assert_eq!(sha256(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(sha256_json(&("a", [1, 2])), sha256(br#"["a",[1,2]]"#));
    }
}
