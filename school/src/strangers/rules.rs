//! Which faces nobody knew belong together. Pure rules, no I/O: `strangers` reads the faces
//! and the dismissed centroids from the store and hands them here.
//!
//! Average linkage (UPGMA): two groups join while the mean distance between their faces is
//! within [`JOIN`]. Single linkage would chain a stranger to a second one through a run of
//! in-between faces (a turned head, a dim morning); averaging every pair does not. Groups
//! can only join through a pair of faces within [`JOIN`], so the faces are first split into
//! the components of that graph and each component is clustered on its own: strangers are
//! few and far apart, and a school of them costs little more than the pairwise distances.

/// Most faces clustered: the newest unknown faces, so both time (O(n²) distances) and memory
/// (one component's distance matrix) stay bounded whatever the door units send.
pub const MAX_FACES: usize = 2_000;

/// Mean distance within which two groups of faces are one person, in the gallery model's
/// units (unit-length dlib ResNet descriptors, as the door's thresholds). Measured on the
/// developer face set (`examples/strangers_eval.rs`, docs/ACCURACY.md: 2,000 photos of 436
/// people, each photo a stranger seen once): at 0.34, 99.3 % of the pairs of faces on one card
/// are one person and 86.7 % of one person's pairs share a card (2 cards of 571 mix people);
/// at 0.40 (the door's Uncertain band) only 77 % are one person, at 0.45 28 %. Two people on
/// one card is the worse mistake (a stranger enrolled with another's face), one person on two
/// cards only costs a second click; and a door sees one person under steadier light and pose
/// than those photos, which only brings their faces closer.
pub const JOIN: f32 = 0.34;

pub use rollcall_shared::embedding::distance;

/// The groups of the first [`MAX_FACES`] of `faces` (callers pass the newest first), as
/// indexes into it, ascending, the groups ordered by their first face.
pub fn clusters(faces: &[&[f32]]) -> Vec<Vec<usize>> {
    clusters_within(faces, JOIN)
}

/// [`clusters`] with another join distance (for measuring the choice of [`JOIN`]).
pub fn clusters_within(faces: &[&[f32]], join: f32) -> Vec<Vec<usize>> {
    let faces = &faces[..faces.len().min(MAX_FACES)];
    let mut out: Vec<Vec<usize>> = components(faces, join)
        .into_iter()
        .flat_map(|c| average_linkage(faces, &c, join))
        .collect();
    for c in &mut out {
        c.sort_unstable();
    }
    out.sort_unstable_by_key(|c| c[0]);
    out
}

/// The mean of `faces` (all of one length; the first one's length wins).
pub fn centroid(faces: &[&[f32]]) -> Vec<f32> {
    let dims = faces.first().map_or(0, |f| f.len());
    let mut sum = vec![0.0f32; dims];
    let same: Vec<&&[f32]> = faces.iter().filter(|f| f.len() == dims).collect();
    for f in &same {
        for (s, v) in sum.iter_mut().zip(f.iter()) {
            *s += v;
        }
    }
    let n = same.len().max(1) as f32;
    sum.iter().map(|s| s / n).collect()
}

/// Whether `face` is within [`JOIN`] of one of the `dismissed` groups' centroids. A face that
/// close would have joined the group (its mean distance to the faces is at least its distance
/// to their centroid), so it is the person who was dismissed.
pub fn dismissed<C: std::ops::Deref<Target = [f32]>>(face: &[f32], centroids: &[C]) -> bool {
    centroids.iter().any(|c| distance(face, c) <= JOIN)
}

/// The connected components of the graph joining faces within `join` (union-find).
fn components(faces: &[&[f32]], join: f32) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..faces.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for i in 0..faces.len() {
        for j in i + 1..faces.len() {
            if distance(faces[i], faces[j]) <= join {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); faces.len()];
    for i in 0..faces.len() {
        let r = root(&mut parent, i);
        groups[r].push(i);
    }
    groups.retain(|g| !g.is_empty());
    groups
}

/// Average-linkage clustering of the faces `members` of one component by the
/// nearest-neighbour chain (O(k²) time, also when one person fills the component): follow
/// each group's nearest neighbour until two are each other's nearest, and join them. A group
/// whose nearest neighbour is beyond `join` is final: joining others only averages distances
/// that are all beyond it.
fn average_linkage(faces: &[&[f32]], members: &[usize], join: f32) -> Vec<Vec<usize>> {
    let k = members.len();
    if k < 2 {
        return vec![members.to_vec()];
    }
    let mut d = vec![0.0f32; k * k];
    for i in 0..k {
        for j in i + 1..k {
            let v = distance(faces[members[i]], faces[members[j]]);
            d[i * k + j] = v;
            d[j * k + i] = v;
        }
    }
    let mut groups: Vec<Option<Vec<usize>>> = members.iter().map(|&m| Some(vec![m])).collect();
    let (mut done, mut chain) = (Vec::new(), Vec::<usize>::new());
    loop {
        if chain.is_empty() {
            match groups.iter().position(Option::is_some) {
                Some(i) => chain.push(i),
                None => break,
            }
        }
        let Some(&a) = chain.last() else { break };
        let prev = chain.len().checked_sub(2).map(|i| chain[i]);
        match nearest(&d, k, &groups, a, prev) {
            Some((b, v)) if v <= join && Some(b) == prev => {
                chain.truncate(chain.len() - 2);
                merge(&mut d, k, &mut groups, a, b);
            }
            Some((b, v)) if v <= join => chain.push(b),
            _ => {
                chain.pop();
                done.extend(groups[a].take());
            }
        }
    }
    done
}

/// The group nearest to `a`, `prev` winning ties (so the chain never runs in a circle).
fn nearest(
    d: &[f32],
    k: usize,
    groups: &[Option<Vec<usize>>],
    a: usize,
    prev: Option<usize>,
) -> Option<(usize, f32)> {
    let mut best = prev.map(|p| (p, d[a * k + p]));
    for j in (0..k).filter(|&j| j != a && groups[j].is_some()) {
        let v = d[a * k + j];
        if best.is_none() || best.is_some_and(|(_, w)| v < w) {
            best = Some((j, v));
        }
    }
    best
}

/// Joins group `b` into group `a`; `a`'s distances become the size-weighted means.
fn merge(d: &mut [f32], k: usize, groups: &mut [Option<Vec<usize>>], a: usize, b: usize) {
    let size = |g: &Option<Vec<usize>>| g.as_ref().map_or(0, Vec::len) as f32;
    let (na, nb) = (size(&groups[a]), size(&groups[b]));
    for j in (0..k).filter(|&j| j != a && j != b && groups[j].is_some()) {
        let joined = (na * d[a * k + j] + nb * d[b * k + j]) / (na + nb);
        d[a * k + j] = joined;
        d[j * k + a] = joined;
    }
    let taken = groups[b].take().unwrap_or_default();
    if let Some(g) = groups[a].as_mut() {
        g.extend(taken);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A unit vector along `axis`, turned towards `toward` by `distance`.
    fn face(axis: usize, toward: usize, distance: f32) -> Vec<f32> {
        let angle = 2.0 * (distance / 2.0).asin();
        let mut v = vec![0.0; 128];
        v[axis] = angle.cos();
        v[toward] = angle.sin();
        v
    }

    fn run(faces: &[Vec<f32>]) -> Vec<Vec<usize>> {
        let refs: Vec<&[f32]> = faces.iter().map(Vec::as_slice).collect();
        clusters(&refs)
    }

    #[test]
    fn two_people_far_apart_are_two_groups() {
        let faces = vec![
            face(0, 10, 0.1),
            face(1, 11, 0.1),
            face(0, 12, 0.2),
            face(1, 13, 0.15),
            face(0, 14, 0.15),
        ];
        assert_eq!(run(&faces), [vec![0, 2, 4], vec![1, 3]]);
    }

    #[test]
    fn a_chain_of_faces_does_not_join_its_ends() {
        // Five faces on a line, each within JOIN of the next (0.8 JOIN), the ends 3.2 JOIN apart.
        let faces: Vec<Vec<f32>> = (0..5)
            .map(|i| {
                let mut v = vec![0.0; 128];
                v[0] = 0.8 * JOIN * i as f32;
                v
            })
            .collect();
        let groups = run(&faces);
        let of = |i: usize| groups.iter().position(|g| g.contains(&i));
        assert_ne!(of(0), of(4), "{groups:?}");
        assert!(groups.len() >= 2, "{groups:?}");
        assert!(groups.iter().all(|g| g.len() <= 2), "{groups:?}");
    }

    #[test]
    fn a_lone_face_stays_alone_and_nothing_is_lost() {
        let faces = vec![face(0, 10, 0.1), face(5, 11, 0.0), face(0, 12, 0.1)];
        assert_eq!(run(&faces), [vec![0, 2], vec![1]]);
        assert!(run(&[]).is_empty());
        assert_eq!(run(&[face(3, 4, 0.0)]), [vec![0]]);
    }

    #[test]
    fn faces_of_another_model_or_with_nan_never_join() {
        let mut nan = face(0, 10, 0.0);
        nan[7] = f32::NAN;
        let faces = vec![face(0, 10, 0.0), vec![1.0; 64], nan];
        assert_eq!(run(&faces), [vec![0], vec![1], vec![2]]);
        assert_eq!(distance(&[0.0; 3], &[0.0; 4]), f32::INFINITY);
    }

    #[test]
    fn a_face_near_a_dismissed_group_is_dismissed() {
        let group = [face(0, 10, 0.1), face(0, 11, 0.1)];
        let refs: Vec<&[f32]> = group.iter().map(Vec::as_slice).collect();
        let centre = centroid(&refs);
        assert!(dismissed(&face(0, 12, 0.2), std::slice::from_ref(&centre)));
        assert!(!dismissed(&face(1, 12, 0.0), &[centre]));
        assert!(!dismissed::<Vec<f32>>(&face(0, 12, 0.0), &[]));
    }

    #[test]
    fn only_the_newest_faces_are_clustered() {
        // One person seen more often than are clustered: one component, joined in O(k²).
        let faces: Vec<Vec<f32>> = (0..MAX_FACES + 5)
            .map(|i| vec![0.0, (i % 7) as f32 * 0.01])
            .collect();
        let groups = run(&faces);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].len(), MAX_FACES);
    }
}
