use super::*;
use crate::quality::Grade;

/// A person's embeddings: a distinct axis direction scaled, plus a small per-image offset.
fn person(p: usize, images: usize, spread: f32) -> Vec<Sample> {
    (0..images)
        .map(|i| {
            let mut e = Embedding::ZERO;
            e[p % EMBEDDING_DIM] = 1.0;
            e[(p + 1 + i) % EMBEDDING_DIM] += spread;
            Sample {
                person: p,
                embedding: Some(e),
                grade: Grade::Good,
            }
        })
        .collect()
}

#[test]
fn well_separated_people_score_perfectly() {
    let samples: Vec<Sample> = (0..10).flat_map(|p| person(p, 4, 0.05)).collect();
    let r = evaluate(&samples);
    assert_eq!((r.images, r.persons, r.failures), (40, 10, 0));
    assert_eq!(r.verification.genuine_pairs, 10 * 6);
    assert_eq!(r.verification.impostor_pairs, 40 * 39 / 2 - 60);
    assert_eq!(r.verification.best_accuracy, 1.0);
    assert_eq!(r.verification.tar_at_far_1e3.rate, 1.0);
    assert_eq!((r.rank1_one_photo, r.rank1_three_photos), (1.0, 1.0));
    assert_eq!(r.open_set.enrolled, 5);
    assert_eq!(
        r.open_set.mated_probes, 5,
        "3 of 4 images enrol, one probes"
    );
    assert_eq!(r.open_set.non_mated_probes, 20);
    assert_eq!(r.open_set.dir_at_fpir_1e2.rate, 1.0);
    assert!(r.recommended.confident <= r.recommended.uncertain);
}

#[test]
fn failures_count_and_are_left_out_of_matching() {
    let mut samples: Vec<Sample> = (0..4).flat_map(|p| person(p, 3, 0.05)).collect();
    samples[0].embedding = None;
    let r = evaluate(&samples);
    assert_eq!(r.failures, 1);
    assert!((r.failure_rate - 1.0 / 12.0).abs() < 1e-12);
    assert_eq!(r.verification.genuine_pairs, 1 + 3 + 3 + 3);
}

#[test]
fn confusable_people_lower_rank1() {
    // Persons 0 and 1 share an axis: their probes are ambiguous.
    let mut samples: Vec<Sample> = (0..4).flat_map(|p| person(p, 3, 0.05)).collect();
    for s in samples.iter_mut().filter(|s| s.person == 1) {
        let e = s.embedding.as_mut().unwrap();
        e.fill(0.0);
        e[0] = 1.0;
    }
    let r = evaluate(&samples);
    assert!(r.rank1_one_photo < 1.0);
    assert!(r.verification.best_balanced_accuracy < 1.0);
}

#[test]
fn threshold_at_rate_accepts_at_most_that_rate() {
    let negatives: Vec<f32> = (1..=1000).map(|i| i as f32 / 1000.0).collect();
    let t = threshold_at_rate(&negatives, 1e-2);
    assert_eq!(negatives.iter().filter(|&&d| d <= t).count(), 10);
    let t0 = threshold_at_rate(&negatives, 1e-4);
    assert!(negatives.iter().all(|&d| d > t0));
    let ties = [0.5f32; 10];
    assert!(ties.iter().all(|&d| d > threshold_at_rate(&ties, 0.5)));
}

#[test]
fn each_grade_gets_its_own_band() {
    // Every person's fourth photo is weak: pulled halfway towards the next person, so a weak
    // stranger comes closer to an enrolled person than any good one does.
    let mut samples: Vec<Sample> = (0..10).flat_map(|p| person(p, 4, 0.05)).collect();
    for s in samples.iter_mut().skip(3).step_by(4) {
        let e = s.embedding.as_mut().unwrap();
        e[(s.person + 1) % EMBEDDING_DIM] += 0.8;
        s.grade = Grade::Weak;
    }
    let r = evaluate(&samples);
    let [good, weak] = [&r.by_grade[0], &r.by_grade[1]];
    assert_eq!((good.grade, weak.grade), (Grade::Good, Grade::Weak));
    assert_eq!(
        weak.open_set.non_mated_probes, 5,
        "one weak photo of each stranger"
    );
    assert_eq!(good.open_set.non_mated_probes, 15);
    assert_eq!(weak.open_set.mated_probes + good.open_set.mated_probes, 5);
    assert!(
        weak.open_set.dir_at_fpir_1e3.threshold < good.open_set.dir_at_fpir_1e3.threshold,
        "{r:?}"
    );
    assert_eq!(
        r.recommended.confident_weak,
        weak.open_set.dir_at_fpir_1e3.threshold
    );
    assert!(r.recommended.confident_weak <= r.recommended.confident);
}
