//! Time-ordered numeric ids (Snowflake layout: 41 bits of milliseconds since 2024-01-01,
//! 10 bits of node, 12 bits of sequence) rendered as decimal strings, like ZITADEL's.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

const EPOCH_MS: u64 = 1_704_067_200_000;

/// Generates unique ids for one process.
pub struct IdGenerator {
    node: u64,
    state: Mutex<(u64, u64)>,
}

impl IdGenerator {
    /// A generator for node `node` (only the low 10 bits are used).
    pub fn new(node: u16) -> Self {
        IdGenerator {
            node: u64::from(node) & 0x3ff,
            state: Mutex::new((0, 0)),
        }
    }

    /// The next id; strictly increasing within this generator.
    pub fn next(&self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let ms = now.saturating_sub(EPOCH_MS);
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (last, seq) = *st;
        let (ms, seq) = if ms > last {
            (ms, 0)
        } else if seq < 0xfff {
            (last, seq + 1)
        } else {
            (last + 1, 0)
        };
        *st = (ms, seq);
        ((ms << 22) | (self.node << 12) | seq).to_string()
    }
}

/// Microseconds since the Unix epoch, the time unit of every stored timestamp.
pub fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Random bytes from the system's secure generator.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // The system RNG does not fail on supported platforms; a zeroed buffer would be caught by
    // unique constraints, never silently accepted as a secret.
    let _ = aws_lc_rs::rand::fill(&mut b);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase() {
        let g = IdGenerator::new(7);
        let mut prev = 0u64;
        for _ in 0..10_000 {
            let id: u64 = g.next().parse().expect("numeric");
            assert!(id > prev);
            prev = id;
        }
    }
}
