//! Least-cost assignment of rows to distinct columns: the Hungarian method in its
//! shortest-augmenting-path form (Jonker and Volgenant), O(rows² × columns). Pure. The class
//! photo's joint assignment ([`super::assignment`]) is its one user: a photo's faces are the
//! rows, the class's students (and one "nobody" per face) the columns.

/// The column of each row in an assignment of least total cost, each row to a distinct
/// column. `cost` is row-major, `rows × columns`. `None` when `rows > columns`, the slice is
/// not `rows × columns` long, or a cost is not finite.
pub(super) fn least_cost(cost: &[f64], rows: usize, columns: usize) -> Option<Vec<usize>> {
    if rows > columns || cost.len() != rows * columns || !cost.iter().all(|c| c.is_finite()) {
        return None;
    }
    let at = |i: usize, j: usize| cost[(i - 1) * columns + (j - 1)];
    // 1-based potentials; column 0 is the augmenting path's virtual start.
    let mut u = vec![0.0f64; rows + 1];
    let mut v = vec![0.0f64; columns + 1];
    let mut row_of = vec![0usize; columns + 1];
    let mut way = vec![0usize; columns + 1];
    for i in 1..=rows {
        row_of[0] = i;
        let mut j0 = 0;
        let mut min_to = vec![f64::INFINITY; columns + 1];
        let mut used = vec![false; columns + 1];
        loop {
            used[j0] = true;
            let i0 = row_of[j0];
            let (mut delta, mut j1) = (f64::INFINITY, 0);
            for j in 1..=columns {
                if used[j] {
                    continue;
                }
                let reduced = at(i0, j) - u[i0] - v[j];
                if reduced < min_to[j] {
                    min_to[j] = reduced;
                    way[j] = j0;
                }
                if min_to[j] < delta {
                    delta = min_to[j];
                    j1 = j;
                }
            }
            for j in 0..=columns {
                if used[j] {
                    u[row_of[j]] += delta;
                    v[j] -= delta;
                } else {
                    min_to[j] -= delta;
                }
            }
            j0 = j1;
            if row_of[j0] == 0 {
                break;
            }
        }
        while j0 != 0 {
            let j1 = way[j0];
            row_of[j0] = row_of[j1];
            j0 = j1;
        }
    }
    let mut column_of = vec![0usize; rows];
    for j in 1..=columns {
        if row_of[j] != 0 {
            column_of[row_of[j] - 1] = j - 1;
        }
    }
    Some(column_of)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(cost: &[f64], columns: usize, assignment: &[usize]) -> f64 {
        assignment
            .iter()
            .enumerate()
            .map(|(i, &j)| cost[i * columns + j])
            .sum()
    }

    /// Every assignment of `rows` rows to distinct columns, by brute force.
    fn best_by_trying_all(cost: &[f64], rows: usize, columns: usize) -> f64 {
        fn go(cost: &[f64], row: usize, rows: usize, columns: usize, used: &mut [bool]) -> f64 {
            if row == rows {
                return 0.0;
            }
            let mut best = f64::INFINITY;
            for j in 0..columns {
                if !used[j] {
                    used[j] = true;
                    let c = cost[row * columns + j] + go(cost, row + 1, rows, columns, used);
                    used[j] = false;
                    best = best.min(c);
                }
            }
            best
        }
        go(cost, 0, rows, columns, &mut vec![false; columns])
    }

    #[test]
    fn a_greedy_choice_is_not_the_best() {
        // Row 0 greedily takes column 0 (1.0), leaving row 1 with 10.0: 11 in all; the best
        // is 2.0 + 2.0.
        let cost = [1.0, 2.0, 2.0, 10.0];
        let a = least_cost(&cost, 2, 2).unwrap();
        assert_eq!(a, [1, 0]);
        assert_eq!(total(&cost, 2, &a), 4.0);
    }

    #[test]
    fn matches_brute_force_on_rectangular_matrices() {
        // A fixed pseudo-random sequence, so the test is the same on every run.
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 1000) as f64 / 100.0 - 3.0
        };
        for (rows, columns) in [(1, 1), (1, 4), (3, 3), (3, 6), (5, 7), (6, 6)] {
            for _ in 0..20 {
                let cost: Vec<f64> = (0..rows * columns).map(|_| next()).collect();
                let a = least_cost(&cost, rows, columns).unwrap();
                let mut seen = a.clone();
                seen.sort_unstable();
                seen.dedup();
                assert_eq!(seen.len(), rows, "distinct columns");
                let (got, best) = (
                    total(&cost, columns, &a),
                    best_by_trying_all(&cost, rows, columns),
                );
                assert!(
                    (got - best).abs() < 1e-9,
                    "{rows}×{columns}: {got} vs {best}"
                );
            }
        }
    }

    #[test]
    fn refuses_what_it_cannot_solve() {
        assert_eq!(
            least_cost(&[1.0, 2.0], 2, 1),
            None,
            "more rows than columns"
        );
        assert_eq!(least_cost(&[1.0, 2.0, 3.0], 2, 2), None, "wrong length");
        assert_eq!(least_cost(&[1.0, f64::NAN], 1, 2), None);
        assert_eq!(least_cost(&[1.0, f64::INFINITY], 1, 2), None);
        assert_eq!(least_cost(&[], 0, 3), Some(vec![]));
    }
}
