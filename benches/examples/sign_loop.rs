//! Runs the `sign` bench's contenders in a loop of 100,000, for a profiler:
//! `sign_loop <floor|sign>`. See `benches/README.md`, "Profiling".

#![allow(clippy::print_stdout)] // a profiling harness reports to its terminal

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
    let mut folded = 0_u8;
    for _ in 0..100_000 {
        let digest: [u8; 16] = match which.as_str() {
            "floor" => Md5::digest(black_box(salted.as_bytes())).into(),
            "sign" => {
                let canonical =
                    Canonical::new(black_box(&SIGN_EXAMPLE), &settings).expect("distinct names");
                *key.sign(&canonical).as_bytes()
            }
            other => panic!("unknown contender {other:?}: floor or sign"),
        };
        folded ^= digest[0];
    }
    println!("{which}: done ({folded})");
}
