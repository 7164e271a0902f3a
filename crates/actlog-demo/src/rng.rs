//! A small, hand-written pseudo-random generator (splitmix64).
//!
//! Demo data must be identical for the same seed on every machine and every build, so the
//! generator is ours (no `rand`, whose streams may change between versions) and works in
//! integers only: no floating point, whose transcendental functions differ between platforms.

/// splitmix64: one `u64` of state, statistically sound for test data, trivially reproducible.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// An independent stream for one part of the generator, so that changing how many numbers
    /// one part draws does not reshuffle the others (customers stay the same when the activity
    /// mix changes).
    pub(crate) fn stream(seed: u64, name: &str) -> Self {
        let mut mixer = Rng::new(seed ^ fnv1a(name.as_bytes()));
        Rng::new(mixer.next_u64())
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`), by multiply-shift: no modulo bias worth mentioning.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform index into a slice of `len > 0` items.
    pub(crate) fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `per_mille / 1000`.
    pub(crate) fn per_mille(&mut self, per_mille: u32) -> bool {
        self.below(1000) < u64::from(per_mille)
    }

    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.index(items.len())]
    }

    /// A uniformly chosen item, or `None` from an empty slice.
    pub(crate) fn pick_opt<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| self.pick(items))
    }

    /// An index drawn with the given relative weights (at least one must be non-zero).
    pub(crate) fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut target = self.below(total);
        for (i, &w) in weights.iter().enumerate() {
            if target < u64::from(w) {
                return i;
            }
            target -= u64::from(w);
        }
        unreachable!("target is below the total weight")
    }

    /// A version-4-shaped GUID in lowercase, as Partner Center writes customer and order ids.
    pub(crate) fn guid(&mut self) -> String {
        guid_from(self.next_u64(), self.next_u64())
    }

    /// The same in uppercase, as Partner Center writes subscription and offer ids.
    pub(crate) fn guid_upper(&mut self) -> String {
        self.guid().to_ascii_uppercase()
    }

    /// `n` uppercase letters and digits, as in invoice numbers and product keys.
    pub(crate) fn code(&mut self, n: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        (0..n).map(|_| self.pick(ALPHABET) as char).collect()
    }
}

/// A stable GUID for a name (product SKUs, well-known apps): the same name, the same id.
pub(crate) fn guid_for(name: &str) -> String {
    let mut rng = Rng::new(fnv1a(name.as_bytes()));
    rng.guid()
}

fn guid_from(hi: u64, lo: u64) -> String {
    let hi = (hi & 0xFFFF_FFFF_FFFF_0FFF) | 0x4000; // version 4
    let lo = (lo & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000; // RFC 4122 variant
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xFFFF,
        hi & 0xFFFF,
        lo >> 48,
        lo & 0xFFFF_FFFF_FFFF
    )
}

/// FNV-1a, to turn names into seeds.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // First outputs of the reference implementation seeded with 1234567.
        let mut rng = Rng::new(1_234_567);
        assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(rng.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn guids_have_the_canonical_shape() {
        let mut rng = Rng::new(7);
        let id = rng.guid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
        assert!(id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
        assert_eq!(id, id.to_lowercase());
        assert_eq!(guid_for("Power BI Pro"), guid_for("Power BI Pro"));
        assert_ne!(guid_for("Power BI Pro"), guid_for("Visio Plan 2"));
    }

    #[test]
    fn draws_stay_in_range_and_weights_are_respected() {
        let mut rng = Rng::new(42);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            assert!(rng.range(5, 9) >= 5);
            counts[rng.weighted(&[1, 0, 2])] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!(counts[2] > counts[0] * 3 / 2, "{counts:?}");
    }

    #[test]
    fn streams_differ_by_name_and_repeat_by_seed() {
        let a = Rng::stream(1, "customers").next_u64();
        assert_eq!(a, Rng::stream(1, "customers").next_u64());
        assert_ne!(a, Rng::stream(1, "activity").next_u64());
        assert_ne!(a, Rng::stream(2, "customers").next_u64());
    }
}
