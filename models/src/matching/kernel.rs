//! The hot loop of matching: squared Euclidean distance over 128 floats, and partial top-k
//! selection. Written so that LLVM vectorises it on baseline x86-64 (SSE2) and aarch64 (NEON)
//! without `target-cpu=native` or `unsafe`.

use rollcall_shared::{EMBEDDING_DIM, Embedding};

/// Independent accumulators: 16 lanes = four SSE / NEON registers, enough to hide add latency.
const LANES: usize = 16;

/// Up to this `k`, top-k keeps a small sorted buffer; above it, a selection over all candidates.
const SMALL_K: usize = 32;

/// Squared Euclidean distance between two embeddings (no square root): the square of
/// `rollcall_shared::embedding::distance`, written for the 1:N search's hot loop, where the
/// root is taken once, for the winners only.
#[inline]
pub(super) fn squared_distance(a: &Embedding, b: &Embedding) -> f32 {
    let mut acc = [0.0f32; LANES];
    for (ca, cb) in a.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
        for lane in 0..LANES {
            let d = ca[lane] - cb[lane];
            acc[lane] += d * d;
        }
    }
    reduce(acc)
}

/// Pairwise sum of the accumulators (fixed order, so results are reproducible).
#[inline]
fn reduce(acc: [f32; LANES]) -> f32 {
    let mut half = [0.0f32; LANES / 2];
    for (i, h) in half.iter_mut().enumerate() {
        *h = acc[i] + acc[i + LANES / 2];
    }
    half.iter().sum()
}

/// Smallest squared distance from `query` to any of `rows` (`f32::INFINITY` for none).
#[inline]
pub(super) fn nearest(query: &Embedding, rows: &[Embedding]) -> f32 {
    rows.iter()
        .map(|row| squared_distance(query, row))
        .fold(f32::INFINITY, f32::min)
}

/// The `k` smallest `(distance, index)` pairs, ascending; ties go to the smaller index.
pub(super) fn best_k(candidates: impl Iterator<Item = (f32, u32)>, k: usize) -> Vec<(f32, u32)> {
    if k == 0 {
        return Vec::new();
    }
    if k <= SMALL_K {
        best_k_small(candidates, k)
    } else {
        best_k_select(candidates, k)
    }
}

/// Total order on candidates: distance (NaN last), then index.
fn before(a: &(f32, u32), b: &(f32, u32)) -> std::cmp::Ordering {
    a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
}

fn best_k_small(candidates: impl Iterator<Item = (f32, u32)>, k: usize) -> Vec<(f32, u32)> {
    let mut best: Vec<(f32, u32)> = Vec::with_capacity(k + 1);
    for c in candidates {
        if best.len() == k && before(&c, &best[k - 1]).is_ge() {
            continue;
        }
        let pos = best.partition_point(|x| before(x, &c).is_lt());
        best.insert(pos, c);
        best.truncate(k);
    }
    best
}

fn best_k_select(candidates: impl Iterator<Item = (f32, u32)>, k: usize) -> Vec<(f32, u32)> {
    let mut all: Vec<(f32, u32)> = candidates.collect();
    if all.len() > k {
        all.select_nth_unstable_by(k - 1, before);
        all.truncate(k);
    }
    all.sort_unstable_by(before);
    all
}

/// Mean of a non-empty set of rows (the zero vector for an empty set).
pub(super) fn mean(rows: &[Embedding]) -> Embedding {
    let mut sum = [0.0f64; EMBEDDING_DIM];
    for row in rows {
        for (s, v) in sum.iter_mut().zip(row) {
            *s += f64::from(*v);
        }
    }
    let n = rows.len().max(1) as f64;
    Embedding(sum.map(|s| (s / n) as f32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &Embedding, b: &Embedding) -> f32 {
        a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
    }

    #[test]
    fn squared_distance_matches_the_naive_sum() {
        let a = Embedding(std::array::from_fn(|i| (i as f32 * 0.37).sin() * 0.2));
        let b = Embedding(std::array::from_fn(|i| (i as f32 * 0.11).cos() * 0.2));
        assert!((squared_distance(&a, &b) - naive(&a, &b)).abs() < 1e-5);
        assert_eq!(squared_distance(&a, &a), 0.0);
    }

    #[test]
    fn best_k_small_and_select_agree() {
        let values: Vec<(f32, u32)> = (0..500u32)
            .map(|i| (((i * 7919) % 503) as f32, i))
            .collect();
        let small = best_k_small(values.iter().copied(), 10);
        let select = best_k_select(values.iter().copied(), 10);
        assert_eq!(small, select);
        assert_eq!(small[0].0, 0.0);
        assert!(small.windows(2).all(|w| w[0].0 <= w[1].0));
    }

    #[test]
    fn best_k_breaks_ties_by_index_and_handles_short_input() {
        let ties = [(1.0, 3), (1.0, 1), (0.5, 9), (1.0, 2)];
        assert_eq!(
            best_k(ties.into_iter(), 3),
            vec![(0.5, 9), (1.0, 1), (1.0, 2)]
        );
        assert_eq!(
            best_k(ties.into_iter(), 100),
            vec![(0.5, 9), (1.0, 1), (1.0, 2), (1.0, 3)]
        );
        assert!(best_k(ties.into_iter(), 0).is_empty());
    }

    #[test]
    fn mean_averages_rows() {
        let rows = [
            Embedding([1.0; EMBEDDING_DIM]),
            Embedding([3.0; EMBEDDING_DIM]),
        ];
        assert_eq!(mean(&rows), Embedding([2.0; EMBEDDING_DIM]));
        assert_eq!(
            nearest(&Embedding([2.5; EMBEDDING_DIM]), &rows),
            0.25 * EMBEDDING_DIM as f32
        );
    }
}
