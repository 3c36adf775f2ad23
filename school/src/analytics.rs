//! Attendance month by month: each class's months, the school's (or a teacher's classes')
//! months and whole range, and the classes at risk: those whose attendance rate over the range
//! is below the school's threshold (`[reports] at_risk_below`), lowest first. Counted as every
//! report counts (`reports::Counts`: late is attended, excused and not-required sessions count
//! neither way), from the rosters a user may see (closed sessions as the register has them).
//! Pure: the hub's `http::reports::analytics` reads the rosters.

use std::collections::BTreeMap;

use chrono::Datelike;
use rollcall_shared::ClassId;
use serde::Serialize;

use crate::reports::Counts;
use crate::session_rosters::SessionRoster;

/// One calendar month's counts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Month {
    /// `YYYY-MM`.
    pub month: String,
    #[serde(flatten)]
    pub counts: Counts,
}

/// One class over the range.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassMonths {
    pub class_id: ClassId,
    pub class_name: String,
    /// The whole range.
    pub overall: Counts,
    /// Each month with a session, in order.
    pub months: Vec<Month>,
    /// Its rate over the range is below the threshold.
    pub at_risk: bool,
}

/// Everything the analytics page shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Analytics {
    /// Every class seen, the whole range.
    pub overall: Counts,
    /// Every class seen, month by month.
    pub months: Vec<Month>,
    /// Each class, by name.
    pub classes: Vec<ClassMonths>,
    /// The ids of the classes at risk, lowest rate first.
    pub at_risk: Vec<ClassId>,
}

/// The analytics of `rosters`, a class at risk below `threshold`.
pub fn analyse(rosters: &[SessionRoster], threshold: f64) -> Analytics {
    let mut overall = Counts::default();
    let mut months: BTreeMap<String, Counts> = BTreeMap::new();
    let mut classes: BTreeMap<ClassId, (String, Counts, BTreeMap<String, Counts>)> =
        BTreeMap::new();
    for r in rosters {
        let month = format!("{:04}-{:02}", r.session.day.year(), r.session.day.month());
        overall.add_roster(r);
        months.entry(month.clone()).or_default().add_roster(r);
        let (_, whole, by_month) = classes.entry(r.session.class_id).or_insert_with(|| {
            (
                r.session.class_name.clone(),
                Counts::default(),
                BTreeMap::new(),
            )
        });
        whole.add_roster(r);
        by_month.entry(month).or_default().add_roster(r);
    }
    let listed = |m: BTreeMap<String, Counts>| {
        m.into_iter()
            .map(|(month, counts)| Month { month, counts })
            .collect::<Vec<_>>()
    };
    let mut classes: Vec<ClassMonths> = classes
        .into_iter()
        .map(|(class_id, (class_name, overall, by_month))| ClassMonths {
            class_id,
            class_name,
            at_risk: overall.attendance_rate.is_some_and(|r| r < threshold),
            overall,
            months: listed(by_month),
        })
        .collect();
    classes.sort_by(|a, b| a.class_name.cmp(&b.class_name));
    // A class at risk has a rate.
    let rate = |c: &ClassMonths| c.overall.attendance_rate.unwrap_or(1.0);
    let mut risky: Vec<&ClassMonths> = classes.iter().filter(|c| c.at_risk).collect();
    risky.sort_by(|a, b| rate(a).total_cmp(&rate(b)));
    Analytics {
        at_risk: risky.iter().map(|c| c.class_id).collect(),
        overall,
        months: listed(months),
        classes,
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::session_rosters::sample_roster;
    use rollcall_store::marks::Mark;

    fn roster(class: ClassId, name: &str, day: (i32, u32, u32), marks: &[Mark]) -> SessionRoster {
        let day = NaiveDate::from_ymd_opt(day.0, day.1, day.2).unwrap();
        let marks: Vec<Option<Mark>> = marks.iter().copied().map(Some).collect();
        sample_roster(class, name, day, &marks)
    }

    #[test]
    fn classes_are_counted_by_month_and_the_ones_below_the_threshold_named_lowest_first() {
        use Mark::*;
        let (b7, b8, c9) = (ClassId::random(), ClassId::random(), ClassId::random());
        let a = analyse(
            &[
                roster(
                    b7,
                    "7B",
                    (2026, 10, 5),
                    &[Present, Present, Absent, Excused],
                ),
                roster(b7, "7B", (2026, 11, 2), &[Present, Late, Present, Present]),
                roster(
                    b8,
                    "8A",
                    (2026, 11, 2),
                    &[Absent, Absent, Present, NotRequired],
                ),
                roster(c9, "9C", (2026, 11, 3), &[Absent, Present]),
            ],
            0.9,
        );
        assert_eq!(
            a.months
                .iter()
                .map(|m| m.month.as_str())
                .collect::<Vec<_>>(),
            ["2026-10", "2026-11"]
        );
        assert_eq!((a.overall.present, a.overall.absent), (7, 4));
        let b7_months: Vec<Option<f64>> = a.classes[0]
            .months
            .iter()
            .map(|m| m.counts.attendance_rate)
            .collect();
        assert_eq!(b7_months, [Some(2.0 / 3.0), Some(1.0)]);
        assert_eq!(a.classes[0].overall.attendance_rate, Some(6.0 / 7.0));
        assert_eq!(a.at_risk, [b8, c9, b7], "8A (1/3), 9C (1/2), 7B (6/7)");
        assert!(analyse(&[], 0.9).classes.is_empty());
    }
}
