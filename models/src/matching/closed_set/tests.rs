use super::*;

const T: Thresholds = Thresholds {
    confident: 0.35,
    confident_weak: 0.30,
    uncertain: 0.45,
    min_margin: 0.08,
};

/// Distances to students given as (student, distance) in any order, nearest first.
fn near(distances: &[(u8, f32)]) -> Vec<Match<u8>> {
    let mut m: Vec<Match<u8>> = distances
        .iter()
        .map(|&(id, distance)| Match { id, distance })
        .collect();
    m.sort_by(|a, b| a.distance.total_cmp(&b.distance));
    m
}

fn card(matches: &[Match<u8>]) -> Card<'_, u8> {
    Card {
        grade: Grade::Good,
        matches,
        may_name: true,
    }
}

fn name(cards: &[Card<'_, u8>], marked: &[u8]) -> Vec<Option<u8>> {
    name_among_unmarked(cards, |s| !marked.contains(s), &T)
}

#[test]
fn a_runner_up_already_marked_does_not_compete() {
    // Student 0 at 0.20, student 1 at 0.24: too close to tell while both are open. Once
    // student 1 is marked present, the card is student 0.
    let a = near(&[(0, 0.20), (1, 0.24), (2, 0.70)]);
    assert_eq!(name(&[card(&a)], &[]), [None]);
    assert_eq!(name(&[card(&a)], &[1]), [Some(0)]);
}

#[test]
fn a_card_nearest_a_marked_student_stays_a_card() {
    // Nearest is student 1, marked already: probably them again, never named as student 0.
    let a = near(&[(1, 0.15), (0, 0.30), (2, 0.80)]);
    assert_eq!(name(&[card(&a)], &[1]), [None]);
}

#[test]
fn a_card_assigned_its_second_student_stays_a_card() {
    // Card 1 is student 0 beyond doubt; card 0 is nearer student 0 than student 1, so the
    // assignment gives it student 1: never promoted, it waits for a teacher.
    let (a, b) = (near(&[(0, 0.12), (1, 0.22)]), near(&[(0, 0.05), (2, 0.80)]));
    assert_eq!(name(&[card(&a), card(&b)], &[]), [None, Some(0)]);
}

#[test]
fn a_card_that_may_not_be_named_still_rivals_the_others() {
    // Two cards near student 0: neither is clear while both take part; the one that may not be
    // named (judged not live) keeps the other from being named.
    let (a, b) = (near(&[(0, 0.10), (1, 0.70)]), near(&[(0, 0.12), (1, 0.80)]));
    let not_live = Card {
        may_name: false,
        ..card(&b)
    };
    assert_eq!(name(&[card(&a), not_live], &[]), [None, None]);
    assert_eq!(name(&[card(&a)], &[]), [Some(0)]);
}

#[test]
fn outside_the_band_or_for_an_unclear_face_nothing_is_named() {
    let far = near(&[(0, 0.36), (1, 0.90)]);
    let close = near(&[(1, 0.05)]);
    let unclear = Card {
        grade: Grade::Unclear,
        ..card(&close)
    };
    assert_eq!(name(&[card(&far), unclear], &[]), [None, None]);
    assert!(name(&[], &[]).is_empty());
    assert_eq!(name(&[card(&[])], &[]), [None]);
}

#[test]
fn a_suggestion_pairs_every_card_it_can_with_an_unmarked_student_once() {
    // Cards a and b are both nearest student 0; together they are 0 and 1. Card c is nearest
    // student 2, already marked: nobody. Card d is beyond reach of anyone.
    let a = near(&[(0, 0.20), (1, 0.36)]);
    let b = near(&[(0, 0.18), (1, 0.22)]);
    let c = near(&[(2, 0.10), (3, 0.20)]);
    let d = near(&[(3, 0.50)]);
    let cards = [card(&a), card(&b), card(&c), card(&d)];
    let offered = suggest(&cards, |s| *s != 2, 0.40);
    assert_eq!(offered, [Some(0), Some(1), None, None]);
    let not_live = Card {
        may_name: false,
        ..card(&a)
    };
    assert_eq!(suggest(&[not_live], |_| true, 0.40), [None]);
    let unclear = Card {
        grade: Grade::Unclear,
        ..card(&a)
    };
    assert_eq!(
        suggest(&[unclear], |_| true, 0.40),
        [Some(0)],
        "a person looks"
    );
}

/// A small deterministic generator (xorshift64*), so failures replay.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A distance in [0.05, 0.50), on a grid fine enough that sums do not tie.
    fn distance(&mut self) -> f32 {
        0.05 + self.below(45_000) as f32 / 100_000.0
    }
}

/// The rule as the module docs state it, by trying every assignment: the brute force the
/// solver is checked against.
mod brute {
    use super::*;

    pub struct Instance {
        pub cards: Vec<(Grade, Vec<Match<u8>>, bool)>,
        pub marked: Vec<u8>,
    }

    fn band(grade: Grade) -> f32 {
        T.at(grade).confident
    }

    /// Every assignment of cards to open students or nobody, each student at most once, with
    /// each named pair within `reach` of the card's band.
    fn assignments(i: &Instance, stretch: f32) -> Vec<(Vec<Option<u8>>, f64)> {
        let mut out = vec![(Vec::new(), 0.0)];
        for (grade, matches, _) in &i.cards {
            let mut next = Vec::new();
            for (named, cost) in &out {
                next.push((push(named, None), *cost));
                for m in matches.iter().filter(|m| !i.marked.contains(&m.id)) {
                    let within = m.distance <= band(*grade) + stretch;
                    if within && !named.contains(&Some(m.id)) {
                        let pair = f64::from(m.distance) - f64::from(band(*grade));
                        next.push((push(named, Some(m.id)), cost + pair));
                    }
                }
            }
            out = next;
        }
        out
    }

    fn push(v: &[Option<u8>], x: Option<u8>) -> Vec<Option<u8>> {
        let mut v = v.to_vec();
        v.push(x);
        v
    }

    fn cheapest<'a>(
        all: impl Iterator<Item = &'a (Vec<Option<u8>>, f64)>,
    ) -> Option<&'a (Vec<Option<u8>>, f64)> {
        all.min_by(|a, b| a.1.total_cmp(&b.1))
    }

    pub fn name(i: &Instance) -> Vec<Option<u8>> {
        let inside = assignments(i, 0.0);
        let stretched = assignments(i, T.min_margin);
        let (best, cost) = cheapest(inside.iter()).cloned().unwrap_or_default();
        let mut unclear = vec![false; i.cards.len()];
        for (row, named) in best.iter().enumerate() {
            let Some(student) = *named else { continue };
            let elsewhere = cheapest(
                stretched
                    .iter()
                    .filter(|(a, _)| a[row].is_some() && a[row] != Some(student)),
            );
            let taken = cheapest(
                stretched
                    .iter()
                    .filter(|(a, _)| a[row].is_none() && a.contains(&Some(student))),
            );
            for (alternative, alt_cost) in [elsewhere, taken].into_iter().flatten() {
                if alt_cost - cost < f64::from(T.min_margin) {
                    unclear[row] = true;
                    for (r, flag) in unclear.iter_mut().enumerate() {
                        *flag |= alternative[r] != best[r];
                    }
                }
            }
        }
        i.cards
            .iter()
            .enumerate()
            .map(|(row, (_, matches, may_name))| {
                let nearest = matches.first()?;
                let open = !i.marked.contains(&nearest.id);
                let named = best[row]? == nearest.id;
                (*may_name && open && named && !unclear[row]).then_some(nearest.id)
            })
            .collect()
    }
}

#[test]
fn the_rule_agrees_with_trying_every_assignment() {
    let mut draw = Draw(0x9E37_79B9_7F4A_7C15);
    let grades = [Grade::Good, Grade::Good, Grade::Weak, Grade::Unclear];
    let mut named = 0;
    for case in 0..3_000 {
        let students = 1 + draw.below(5) as u8;
        let cards = draw.below(5) as usize;
        let instance = brute::Instance {
            cards: (0..cards)
                .map(|_| {
                    let grade = grades[draw.below(4) as usize];
                    let mut seen: Vec<(u8, f32)> = Vec::new();
                    for s in 0..students {
                        if draw.below(4) != 0 {
                            seen.push((s, draw.distance()));
                        }
                    }
                    (grade, near(&seen), draw.below(8) != 0)
                })
                .collect(),
            marked: (0..students).filter(|_| draw.below(4) == 0).collect(),
        };
        let cards: Vec<Card<'_, u8>> = instance
            .cards
            .iter()
            .map(|(grade, matches, may_name)| Card {
                grade: *grade,
                matches,
                may_name: *may_name,
            })
            .collect();
        let got = name(&cards, &instance.marked);
        assert_eq!(got, brute::name(&instance), "case {case}");
        named += got.iter().flatten().count();
    }
    assert!(named > 300, "the cases name somebody often enough: {named}");
}
