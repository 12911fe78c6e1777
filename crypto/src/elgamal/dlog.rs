//! Bounded discrete logarithm by baby-step giant-step (spec/crypto.md §4.3).
//!
//! Variable time: it only ever runs on public values (decrypted tallies).

use std::collections::HashMap;

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;

use super::ElGamalError;

/// The largest count the tally decrypts: the bound of its discrete-log search (2^40). A tally
/// request may not ask for more (spec/ceremonies.md §3.1), and a manifest is refused for an
/// electorate whose totals could exceed it (spec/crypto.md §7.5, MANIFEST-5).
pub const MAX_COUNT: u64 = 1 << 40;
use crate::group::{g, g_table};

/// A table that solves `P = m·G` for `m` in `0..=max` in `O(√max)` time and memory.
pub struct DiscreteLogTable {
    max: u64,
    step: u64,
    /// Compressed `j·G` → `j` for `j` in `0..step`.
    baby: HashMap<[u8; 32], u64>,
    /// `−step·G`.
    giant: RistrettoPoint,
}

impl DiscreteLogTable {
    /// Builds the table for counts `0..=max`.
    pub fn new(max: u64) -> Self {
        // step = ⌈√(max + 1)⌉, at least 1.
        let n = max.saturating_add(1);
        let mut step = (n as f64).sqrt() as u64;
        while step.saturating_mul(step) < n {
            step += 1;
        }
        let step = step.max(1);
        let mut baby = HashMap::with_capacity(step as usize);
        let mut acc = RistrettoPoint::identity();
        let base = g();
        for j in 0..step {
            baby.insert(acc.compress().to_bytes(), j);
            acc += base;
        }
        let giant = -(g_table() * &Scalar::from(step));
        Self {
            max,
            step,
            baby,
            giant,
        }
    }

    /// The largest count this table solves for.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// Finds `m ≤ max` with `point = m·G`.
    pub fn solve(&self, point: &RistrettoPoint) -> Result<u64, ElGamalError> {
        let mut gamma = *point;
        let giant_steps = self.max / self.step + 1;
        for i in 0..giant_steps {
            if let Some(j) = self.baby.get(&gamma.compress().to_bytes()) {
                let m = i * self.step + j;
                if m <= self.max {
                    return Ok(m);
                }
                break;
            }
            gamma += self.giant;
        }
        Err(ElGamalError::DiscreteLogOutOfRange { max: self.max })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn solves_every_value_up_to_the_bound_and_nothing_past_it() {
        for max in [0u64, 1, 2, 15, 16, 17, 100] {
            let table = DiscreteLogTable::new(max);
            for m in 0..=max + 3 {
                let p = g_table() * &Scalar::from(m);
                let expected = if m <= max {
                    Ok(m)
                } else {
                    Err(ElGamalError::DiscreteLogOutOfRange { max })
                };
                assert_eq!(table.solve(&p), expected, "max {max}, m {m}");
            }
        }
    }
}
