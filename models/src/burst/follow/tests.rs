use super::*;

fn worth(grade: Grade, weight: f32) -> Option<Worth> {
    Some(Worth { grade, weight })
}

#[test]
fn the_burst_is_always_taken_and_following_needs_the_trigger_held() {
    let f = Follow {
        first: 5,
        most: 20,
        keep: 5,
    };
    assert!((0..5).all(|taken| f.another(taken, Some(false))));
    assert!(f.another(5, Some(true)));
    assert!(!f.another(5, Some(false)), "the sensor let go");
    assert!(
        !f.another(5, None),
        "a button cannot say someone is still there"
    );
    assert!(f.another(19, Some(true)));
    assert!(!f.another(20, Some(true)), "the cap");
}

#[test]
fn a_frame_is_worth_its_best_face() {
    let faces = [
        Worth {
            grade: Grade::Weak,
            weight: 90.0,
        },
        Worth {
            grade: Grade::Good,
            weight: 20.0,
        },
        Worth {
            grade: Grade::Out,
            weight: 500.0,
        },
    ];
    assert_eq!(Worth::of(faces), worth(Grade::Good, 20.0));
    assert_eq!(Worth::of([]), None);
    assert_eq!(
        Worth::of([faces[2]]),
        None,
        "a face the gate left out is no face"
    );
}

#[test]
fn the_best_frames_are_kept_in_the_order_taken() {
    let mut best = Best::new(2);
    assert!(best.offer(worth(Grade::Weak, 50.0), "far").is_none());
    assert!(best.offer(None, "empty").is_none());
    assert_eq!(best.offer(worth(Grade::Good, 30.0), "near"), Some("empty"));
    assert_eq!(best.offer(worth(Grade::Good, 10.0), "blurred"), Some("far"));
    assert_eq!(best.offer(worth(Grade::Good, 10.0), "equal"), Some("equal"));
    assert_eq!(best.offered(), 5);
    assert_eq!(best.kept(), vec![(2, "near"), (3, "blurred")]);
}

/// Against sorting every frame: for many random walk-ins, the frames held are the `keep`
/// best, the earlier of equals first, whatever order they came in.
#[test]
fn keeps_what_sorting_every_frame_would() {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    for _ in 0..3_000 {
        let frames = 1 + next(20) as usize;
        let keep = 1 + next(8) as usize;
        let worths: Vec<Option<Worth>> = (0..frames)
            .map(|_| {
                let grade = [Grade::Good, Grade::Weak, Grade::Unclear][next(3) as usize];
                (next(5) > 0).then(|| Worth {
                    grade,
                    weight: next(4) as f32,
                })
            })
            .collect();
        let mut best = Best::new(keep);
        for (i, w) in worths.iter().enumerate() {
            best.offer(*w, i);
        }
        let kept: Vec<usize> = best.kept().into_iter().map(|(i, _)| i).collect();
        let mut sorted: Vec<usize> = (0..frames).collect();
        sorted.sort_by(|&a, &b| {
            if better(worths[a], worths[b]) {
                std::cmp::Ordering::Less
            } else if better(worths[b], worths[a]) {
                std::cmp::Ordering::Greater
            } else {
                a.cmp(&b)
            }
        });
        let mut expected: Vec<usize> = sorted.into_iter().take(keep).collect();
        expected.sort_unstable();
        assert_eq!(kept, expected, "{worths:?}, keep {keep}");
    }
}
