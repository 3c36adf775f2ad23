//! What a digest says: pure, from figures already gathered. Plain text, short lines.

use std::fmt::Write as _;

use chrono::NaiveDate;
use serde::Serialize;

/// One student below the threshold.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AtRiskLine {
    pub name: String,
    pub attendance_rate: Option<f64>,
}

/// One class's part of a digest.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassPart {
    pub class_name: String,
    /// Pending records captured during this class's sessions.
    pub pending: usize,
    pub at_risk: Vec<AtRiskLine>,
}

/// Everything one user's digest says.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Digest {
    pub day: NaiveDate,
    pub display_name: String,
    /// An admin's digest covers the whole school.
    pub school_wide: bool,
    /// Every pending record the user may review (an admin's include those outside sessions).
    pub pending: usize,
    pub classes: Vec<ClassPart>,
    /// `[reports] at_risk_below`.
    pub threshold: f64,
}

impl Digest {
    /// Nothing waits and nobody is at risk: no message is sent.
    pub fn is_empty(&self) -> bool {
        self.pending == 0 && self.classes.iter().all(|c| c.at_risk.is_empty())
    }
}

/// The subject line.
pub fn subject(d: &Digest) -> String {
    let at_risk: usize = d.classes.iter().map(|c| c.at_risk.len()).sum();
    format!(
        "Rollcall {}: {} to review, {} at risk",
        d.day, d.pending, at_risk
    )
}

/// The body; `pages_url` (`[email] pages_url`) makes the review link absolute.
pub fn text(d: &Digest, pages_url: Option<&str>) -> String {
    let mut out = format!("Hello {},\n\n", d.display_name);
    let whose = if d.school_wide {
        "the school"
    } else {
        "your classes"
    };
    let _ = writeln!(out, "Rollcall for {} on {}.\n", whose, d.day);
    review_part(&mut out, d, pages_url);
    at_risk_part(&mut out, d);
    out.push_str(
        "-- \nSent by Rollcall once each school day. Ask an admin to change your address.\n",
    );
    out
}

fn review_part(out: &mut String, d: &Digest, pages_url: Option<&str>) {
    if d.pending == 0 {
        out.push_str("Nothing is waiting for review.\n\n");
        return;
    }
    let _ = writeln!(out, "Waiting for review: {}", d.pending);
    for c in d.classes.iter().filter(|c| c.pending > 0) {
        let _ = writeln!(out, "  {}: {}", c.class_name, c.pending);
    }
    if let Some(base) = pages_url {
        let _ = writeln!(
            out,
            "Review them at {}/#/review",
            base.trim_end_matches('/')
        );
    }
    out.push('\n');
}

fn at_risk_part(out: &mut String, d: &Digest) {
    let classes: Vec<_> = d.classes.iter().filter(|c| !c.at_risk.is_empty()).collect();
    if classes.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "Attending less than {:.0} % (this term, or the last 28 days between terms):",
        d.threshold * 100.0
    );
    for c in classes {
        for s in &c.at_risk {
            let rate = s
                .attendance_rate
                .map_or_else(|| "-".into(), |r| format!("{:.1} %", r * 100.0));
            let _ = writeln!(out, "  {} ({}): {}", s.name, c.class_name, rate);
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest() -> Digest {
        Digest {
            day: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            display_name: "Tess".into(),
            school_wide: false,
            pending: 0,
            classes: vec![ClassPart {
                class_name: "7B".into(),
                pending: 0,
                at_risk: vec![],
            }],
            threshold: 0.9,
        }
    }

    #[test]
    fn nothing_to_say_is_no_message() {
        assert!(digest().is_empty());
        let mut d = digest();
        d.classes[0].at_risk.push(AtRiskLine {
            name: "Ada".into(),
            attendance_rate: Some(0.5),
        });
        assert!(!d.is_empty());
    }

    #[test]
    fn the_text_counts_reviews_per_class_and_lists_students_at_risk() {
        let mut d = digest();
        d.pending = 2;
        d.classes[0].pending = 2;
        d.classes[0].at_risk.push(AtRiskLine {
            name: "Ada".into(),
            attendance_rate: Some(0.5),
        });
        let t = text(&d, Some("https://hub.school.example/"));
        assert!(t.contains("Waiting for review: 2\n  7B: 2\n"), "{t}");
        assert!(t.contains("https://hub.school.example/#/review"), "{t}");
        assert!(t.contains("less than 90 %"), "{t}");
        assert!(t.contains("  Ada (7B): 50.0 %"), "{t}");
        assert_eq!(subject(&d), "Rollcall 2026-11-23: 2 to review, 1 at risk");
    }
}
