//! What sealing costs a face at rest: one template (512 f32s, as the hub and the door unit
//! store it) and one face crop (a 12 KB JPEG, the largest a record carries in practice),
//! sealed and opened, on this machine. Prints the median of several rounds.
//!
//!     cargo bench -p rollcall-runtime --bench seal

use std::hint::black_box;
use std::time::Instant;

use rollcall_runtime::seal::{FaceKeys, Purpose};

const ROUNDS: usize = 15;
const PER_ROUND: usize = 2_000;

fn main() {
    let keys = FaceKeys::generate();
    let template = vec![0x3c_u8; 512 * 4];
    let crop = vec![0xd8_u8; 12 * 1024];
    for (name, purpose, plain) in [
        ("template (2 KiB)", Purpose::Template, &template),
        ("crop (12 KiB)", Purpose::Crop, &crop),
    ] {
        let sealed = keys.seal(purpose, plain);
        let seal = median(|| {
            black_box(keys.seal(purpose, black_box(plain)));
        });
        let open = median(|| {
            black_box(keys.open(purpose, black_box(&sealed)).unwrap());
        });
        println!("{name}: seal {seal:.2} µs, open {open:.2} µs (median of {ROUNDS} × {PER_ROUND})");
    }
}

/// The median time of one call of `f`, in microseconds.
fn median(mut f: impl FnMut()) -> f64 {
    let mut rounds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..PER_ROUND {
                f();
            }
            start.elapsed().as_secs_f64() * 1e6 / PER_ROUND as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[ROUNDS / 2]
}
