//! Runs the `sign` bench's contenders in a loop, for a profiler:
//! `sign_loop <floor|sign|canonical|prebuilt> [iterations, default 100,000]`, and prints the wall time per
//! iteration (meaningless under a profiler). See `benches/README.md`, "Profiling".

#![allow(clippy::print_stdout)] // a profiling harness reports to its terminal
#![allow(clippy::disallowed_methods)] // and measures wall time; no business logic reads it

use std::hint::black_box;

use kyc_benches::{SECRET, SIGN_EXAMPLE};
use kyc_sign::{Canonical, Settings, SigningKey};
use md5::{Digest, Md5};

fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "sign".to_owned());
    let key = SigningKey::new(SECRET).expect("not empty");
    let settings = Settings::default();
    let canonical = Canonical::new(&SIGN_EXAMPLE, &settings).expect("distinct names");
    let salted = format!("{canonical}{SECRET}");
    let iterations: u32 = std::env::args()
        .nth(2)
        .map_or(100_000, |n| n.parse().expect("a number of iterations"));
    let mut folded = 0_u8;
    let started = std::time::Instant::now();
    for _ in 0..iterations {
        let digest: [u8; 16] = match which.as_str() {
            "floor" => Md5::digest(black_box(salted.as_bytes())).into(),
            "sign" => *key
                .sign_fields(black_box(&SIGN_EXAMPLE), &settings)
                .expect("distinct names")
                .as_bytes(),
            "prebuilt" => *key.sign(black_box(&canonical)).as_bytes(),
            "canonical" => {
                let canonical =
                    Canonical::new(black_box(&SIGN_EXAMPLE), &settings).expect("distinct names");
                *key.sign(&canonical).as_bytes()
            }
            other => panic!("unknown contender {other:?}: floor, sign, canonical or prebuilt"),
        };
        folded ^= digest[0];
    }
    let per = started.elapsed().as_secs_f64() * 1e9 / f64::from(iterations);
    println!("{which}: {per:.1} ns an iteration ({folded})");
}
