//! 1:N search timings for `rollcall_models::matching::Gallery`, on random 128-D embeddings.
//!
//! Run optimised, with output shown:
//!
//! ```text
//! cargo test -p rollcall-models --release --bench matching -- --nocapture
//! ```
//!
//! Prints min / median / p99 per query for several gallery sizes. Stable Rust has no `#[bench]`,
//! so this is a plain `#[test]` timed with `Instant` (which `cargo bench` lists as ignored: use
//! the command above). Unoptimised it runs a small gallery only, as a smoke test.

use std::hint::black_box;
use std::time::{Duration, Instant};

use rollcall_models::matching::{EMBEDDING_DIM, Embedding, Gallery, MatchMode};

/// xorshift64*: deterministic, dependency-free pseudo-random numbers.
struct Rng(u64);

impl Rng {
    fn next_f32(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40;
        bits as f32 / (1u64 << 24) as f32
    }

    /// Components in ±0.2, roughly the spread of dlib descriptors.
    fn embedding(&mut self) -> Embedding {
        Embedding(std::array::from_fn(|_| (self.next_f32() - 0.5) * 0.4))
    }
}

fn gallery(students: u32, per_student: u32, rng: &mut Rng) -> Gallery<u32> {
    let pairs = (0..students * per_student).map(|i| (i % students, rng.embedding()));
    Gallery::try_from_iter(pairs).unwrap()
}

fn time_queries(g: &Gallery<u32>, mode: MatchMode, queries: &[Embedding]) -> Vec<Duration> {
    let mut times: Vec<Duration> = queries
        .iter()
        .map(|q| {
            let start = Instant::now();
            black_box(g.search(black_box(q), 5, mode).unwrap());
            start.elapsed()
        })
        .collect();
    times.sort();
    times
}

fn report(label: &str, times: &[Duration]) {
    let at = |f: f64| times[((times.len() - 1) as f64 * f) as usize].as_secs_f64() * 1e3;
    println!(
        "{label:<34} min {:.3} ms  median {:.3} ms  p99 {:.3} ms  ({} queries)",
        at(0.0),
        at(0.5),
        at(0.99),
        times.len()
    );
}

#[test]
fn search_timings() {
    let optimised = !cfg!(debug_assertions);
    let cases: &[(u32, u32)] = if optimised {
        &[(1_000, 1), (10_000, 1), (10_000, 3), (10_000, 5)]
    } else {
        &[(200, 2)]
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let queries: Vec<Embedding> = (0..if optimised { 500 } else { 5 })
        .map(|_| rng.embedding())
        .collect();
    for &(students, per) in cases {
        let g = gallery(students, per, &mut rng);
        assert_eq!(g.embedding_count(), (students * per) as usize);
        for mode in [MatchMode::Nearest, MatchMode::Centroid] {
            let times = time_queries(&g, mode, &queries);
            report(&format!("{students} students × {per}, {mode:?}"), &times);
        }
    }
    assert_eq!(EMBEDDING_DIM, 128);
}
