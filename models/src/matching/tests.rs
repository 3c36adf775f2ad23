//! Gallery tests on hand-made vectors: axis-aligned points whose distances are easy to read.

use super::*;

/// `scale` along axis `axis`, zero elsewhere.
fn axis(axis: usize, scale: f32) -> Embedding {
    let mut e = Embedding::ZERO;
    e[axis] = scale;
    e
}

fn ids<Id: Copy>(matches: &[Match<Id>]) -> Vec<Id> {
    matches.iter().map(|m| m.id).collect()
}

/// Student 'a' has two photos (1.0 and 3.0 along axis 0), 'b' one at 2.0 along axis 1,
/// 'c' one at 5.0 along axis 2.
fn sample() -> Gallery<char> {
    Gallery::try_from_iter([
        ('a', axis(0, 1.0)),
        ('b', axis(1, 2.0)),
        ('a', axis(0, 3.0)),
        ('c', axis(2, 5.0)),
    ])
    .unwrap()
}

#[test]
fn nearest_mode_returns_distinct_students_by_closest_photo() {
    let g = sample();
    assert_eq!((g.len(), g.embedding_count()), (3, 4));
    let found = g.search(&axis(0, 2.9), 3, MatchMode::Nearest).unwrap();
    assert_eq!(ids(&found), vec!['a', 'b', 'c']);
    assert!((found[0].distance - 0.1).abs() < 1e-6);
    assert!((found[1].distance - (2.9f32.powi(2) + 4.0).sqrt()).abs() < 1e-5);
    assert_eq!(
        g.search(&axis(0, 2.9), 1, MatchMode::Nearest)
            .unwrap()
            .len(),
        1
    );
    assert!(
        g.search(&axis(0, 2.9), 0, MatchMode::Nearest)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn centroid_mode_uses_the_mean_photo() {
    let g = sample();
    assert_eq!(g.centroid(&'a'), Some(&axis(0, 2.0)));
    let found = g.search(&axis(0, 3.0), 2, MatchMode::Centroid).unwrap();
    assert_eq!(ids(&found), vec!['a', 'b']);
    assert!((found[0].distance - 1.0).abs() < 1e-6);
}

#[test]
fn search_among_only_sees_allowed_students() {
    let g = sample();
    let found = g
        .search_among(&axis(0, 1.0), 5, MatchMode::Nearest, |id| *id != 'a')
        .unwrap();
    assert_eq!(ids(&found), vec!['b', 'c']);
    let none = g
        .search_among(&axis(0, 1.0), 5, MatchMode::Nearest, |_| false)
        .unwrap();
    assert!(none.is_empty());
}

#[test]
fn add_and_remove_keep_rows_grouped() {
    let mut g = sample();
    g.add('b', &axis(3, 1.0)).unwrap();
    g.add('d', &axis(4, 1.0)).unwrap();
    assert_eq!(g.embeddings(&'b').unwrap(), &[axis(1, 2.0), axis(3, 1.0)]);
    assert_eq!(g.embeddings(&'c').unwrap(), &[axis(2, 5.0)]);
    assert_eq!(g.remove('a'), Some(2));
    assert_eq!(g.remove('a'), None);
    assert_eq!(g.ids().collect::<Vec<_>>(), vec!['b', 'c', 'd']);
    assert_eq!(g.embeddings(&'d').unwrap(), &[axis(4, 1.0)]);
    assert_eq!(g.embedding_count(), 4);
    let found = g.search(&axis(3, 1.0), 1, MatchMode::Nearest).unwrap();
    assert_eq!((found[0].id, found[0].distance), ('b', 0.0));
    let found = g.search(&axis(4, 1.0), 1, MatchMode::Centroid).unwrap();
    assert_eq!((found[0].id, found[0].distance), ('d', 0.0));
}

#[test]
fn non_finite_inputs_are_rejected() {
    let mut g = sample();
    let mut bad = axis(0, 1.0);
    bad[7] = f32::NAN;
    assert_eq!(g.add('z', &bad), Err(MatchError::NonFinite));
    assert!(!g.contains(&'z'));
    assert_eq!(
        g.search(&bad, 1, MatchMode::Nearest),
        Err(MatchError::NonFinite)
    );
    assert!(Gallery::try_from_iter([(1u32, bad)]).is_err());
}

#[test]
fn empty_gallery_finds_nobody() {
    let g: Gallery<u64> = Gallery::new();
    assert!(g.is_empty());
    assert!(
        g.search(&axis(0, 1.0), 3, MatchMode::Nearest)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn large_k_and_many_students_agree_with_brute_force() {
    let embedding = |i: u32| -> Embedding {
        Embedding(std::array::from_fn(|j| {
            ((i * 31 + j as u32 * 17) % 97) as f32 / 97.0
        }))
    };
    let g = Gallery::try_from_iter((0..300u32).map(|i| (i % 100, embedding(i)))).unwrap();
    let query = embedding(1000);
    let mut brute: Vec<(f32, u32)> = (0..100u32)
        .map(|id| {
            let best = g
                .embeddings(&id)
                .unwrap()
                .iter()
                .map(|e| kernel::squared_distance(&query, e));
            (best.fold(f32::INFINITY, f32::min).sqrt(), id)
        })
        .collect();
    brute.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    for k in [1, 5, 40, 100, 150] {
        let found = g.search(&query, k, MatchMode::Nearest).unwrap();
        let got: Vec<(f32, u32)> = found.iter().map(|m| (m.distance, m.id)).collect();
        assert_eq!(got, brute[..k.min(100)].to_vec(), "k = {k}");
    }
}
