//! The one seeded random generator of hornet: SplitMix64 (Steele, Lea and Flood, 2014), as a
//! stateful generator ([`SplitMix64`], [`next`]), as a counter-based draw ([`draw`]: item `k` of a
//! run's stream, independent of the order items are drawn in), and the version-4 UUIDs built from
//! it ([`uuid`]).
//!
//! Everything that must be reproducible from a run's seed draws from here: template functions
//! (`$randomNumber`, `$randomString`), `$uuid`, think-time jitter, the test id, and the Poisson
//! arrivals of the schedule. The sequences are part of the behaviour: a seed gives the same values
//! on every platform and with every version of the dependencies, so this code does not change.

use std::cell::Cell;

/// The SplitMix64 increment (2⁶⁴ / φ).
pub const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function: a bijective 64-bit mix.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Advances the generator state `state` and returns its next value.
pub fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(GOLDEN_GAMMA);
    mix(*state)
}

/// Item `k` of the stream seeded with `seed`: the value a generator seeded with `seed` returns on
/// its `k + 1`-th call, computed directly, so items can be drawn in any order (by any thread).
pub fn draw(seed: u64, k: u64) -> u64 {
    mix(seed.wrapping_add(k.wrapping_add(1).wrapping_mul(GOLDEN_GAMMA)))
}

/// A uniform float in `[0, 1)` from the top 53 bits of `r`.
pub fn unit(r: u64) -> f64 {
    (r >> 11) as f64 / (1u64 << 53) as f64
}

/// A seeded SplitMix64 generator. Its state is a [`Cell`], so it draws through `&self` (as
/// [`Vars::random`](crate::template::Vars::random) does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: Cell<u64>,
}

impl SplitMix64 {
    /// A generator whose sequence is fixed by `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: Cell::new(seed) }
    }

    /// The next value of the sequence.
    pub fn next_u64(&self) -> u64 {
        let mut state = self.state.get();
        let value = next(&mut state);
        self.state.set(state);
        value
    }

    /// A uniform float in `[0, 1)`, from the next value.
    pub fn unit(&self) -> f64 {
        unit(self.next_u64())
    }
}

/// A random version-4 UUID (RFC 9562) from the next two values of `rng`, in lowercase hex.
pub fn uuid(rng: &SplitMix64) -> String {
    let (a, b) = (rng.next_u64(), rng.next_u64());
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_be_bytes());
    bytes[8..].copy_from_slice(&b.to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    // Written by hand: every VU gets one, and `format!` per byte cost more than the rest of a
    // VU's set-up.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

thread_local! {
    static THREAD_RNG: SplitMix64 = {
        use std::hash::BuildHasher;
        SplitMix64::new(std::collections::hash_map::RandomState::new().hash_one(0x686f_726e_6574_u64))
    };
}

/// A random u64 from a per-thread generator with a random seed, for callers that have nowhere to
/// keep a seeded one (not reproducible).
pub fn thread_random() -> u64 {
    THREAD_RNG.with(SplitMix64::next_u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_and_the_draws_give_one_sequence() {
        let rng = SplitMix64::new(42);
        let mut state = 42;
        for k in 0..100 {
            let value = rng.next_u64();
            assert_eq!(value, draw(42, k));
            assert_eq!(value, next(&mut state));
        }
    }

    #[test]
    fn the_sequence_is_splitmix64() {
        // The first outputs for seed 0 in the reference implementation (Vigna's splitmix64.c).
        let rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn splitmix_is_deterministic_per_seed() {
        let a = SplitMix64::new(7);
        let b = SplitMix64::new(7);
        let xs: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs[0], xs[1]);
        assert_ne!(SplitMix64::new(8).next_u64(), xs[0]);
    }

    #[test]
    fn uuids_are_version_4_with_the_rfc_variant() {
        let rng = SplitMix64::new(7);
        let (a, b) = (uuid(&rng), uuid(&rng));
        assert_ne!(a, b);
        for u in [a, b] {
            assert_eq!(u.len(), 36);
            assert_eq!(&u[14..15], "4");
            assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
        }
    }

    #[test]
    fn unit_stays_below_one() {
        assert_eq!(unit(0), 0.0);
        assert!(unit(u64::MAX) < 1.0);
    }
}
