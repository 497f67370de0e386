//! Randomness from the operating system's CSPRNG (through aws-lc).

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// `N` random bytes. The system generator failing is not something a caller can recover from.
pub(crate) fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .expect("the operating system's random number generator failed");
    out
}

/// `n` random bytes as `2n` lowercase hex digits.
pub(crate) fn hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut buf)
        .expect("the operating system's random number generator failed");
    crate::hex::lower(&buf)
}
