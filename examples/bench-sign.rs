//! The token benchmark's reference: the raw signing rate of one key of each algorithm, parsed
//! once, on the core this runs on (`scripts/bench-tokens.sh` pins it next to the server).
//! Signs a message the size of a token's `header.claims` for `SECONDS` (default 3) per algorithm
//! and prints `ALG signatures-per-second` lines.
//!
//! ```text
//! taskset -c 0 bench-sign 3
//! ```

use std::time::{Duration, Instant};

use knogin::core::keys::SigningKey;
use knogin::core::{KeyId, SigningAlgorithm};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: u64 = std::env::args().nth(1).map_or(Ok(3), |s| s.parse())?;
    // A client-credentials token's signing input is about 400 bytes.
    let message = vec![b'e'; 400];
    for algorithm in SigningAlgorithm::ALL {
        let key = SigningKey::generate(KeyId::new("bench"), algorithm)?;
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let mut signed = 0u64;
        while Instant::now() < deadline {
            for _ in 0..16 {
                std::hint::black_box(key.sign(std::hint::black_box(&message)));
            }
            signed += 16;
        }
        #[allow(clippy::cast_precision_loss, reason = "a rate for a table")]
        let rate = signed as f64 / started.elapsed().as_secs_f64();
        println!("{algorithm} {rate:.0}");
    }
    Ok(())
}
