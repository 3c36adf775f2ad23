//! `GET /reports/analytics?from=&to=`: attendance month by month (`crate::analytics`) over the
//! classes the caller sees: an admin the whole school, a teacher their own classes at a
//! glance. Without a range, the year of months up to today: from the first of the month eleven
//! months back. JSON, or CSV with `?format=csv`: a line per class and month, then the months of
//! all the classes together.

use chrono::{Datelike, Months, NaiveDate};
use serde_json::json;

use super::error::ApiError;
use super::reports::{csv_line, csv_reply};
use super::request::{Reply, Request};
use super::school_reports::{given_range, rate_text, visible_rosters};
use crate::analytics::{Analytics, Month, analyse};
use crate::auth::Principal;
use crate::http_state::Hub;
use crate::reports::Counts;
use crate::store::Sql;

pub async fn analytics(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (w, rules, now) = (who.clone(), hub.config.rules(), hub.now());
    let threshold = hub.config.reports.at_risk_below;
    let (from, to) = match given_range(req)? {
        Some(range) => range,
        None => year_of_months(rules.local_day(now)),
    };
    let read = move |c: &dyn Sql| visible_rosters(c, &w, (from, to), &rules, now);
    let analytics = analyse(&hub.read(read).await?, threshold);
    match req.wants_csv() {
        true => Ok(csv_reply(
            format!("analytics-{from}-{to}.csv"),
            to_csv(&analytics),
        )),
        false => Reply::ok(json!({
            "from": from,
            "to": to,
            "threshold": threshold,
            "overall": analytics.overall,
            "months": analytics.months,
            "classes": analytics.classes,
            "at_risk": analytics.at_risk,
        })),
    }
}

/// From the first of the month eleven months before `today`, to `today`.
fn year_of_months(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = today.with_day(1).unwrap_or(today);
    (
        first.checked_sub_months(Months::new(11)).unwrap_or(first),
        today,
    )
}

fn to_csv(a: &Analytics) -> String {
    let mut out = csv_line(&[
        "class",
        "month",
        "expected",
        "present",
        "late",
        "excused",
        "absent",
        "not_required",
        "unmarked",
        "attendance_rate",
        "class_at_risk",
    ]);
    let mut line = |class: &str, m: &Month, at_risk: &str| {
        let fields = row(class, &m.month, &m.counts, at_risk);
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        out.push_str(&csv_line(&fields));
    };
    for class in &a.classes {
        let at_risk = if class.at_risk { "yes" } else { "no" };
        for m in &class.months {
            line(&class.class_name, m, at_risk);
        }
    }
    for m in &a.months {
        line("All classes", m, "");
    }
    out
}

fn row<'a>(class: &'a str, month: &'a str, c: &Counts, at_risk: &'a str) -> Vec<String> {
    let n = [
        c.expected,
        c.present,
        c.late,
        c.excused,
        c.absent,
        c.not_required,
        c.unmarked,
    ];
    [class.to_owned(), month.to_owned()]
        .into_iter()
        .chain(n.iter().map(u32::to_string))
        .chain([rate_text(c.attendance_rate), at_risk.to_owned()])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_range_is_a_year_of_months() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(
            year_of_months(day(2026, 11, 26)),
            (day(2025, 12, 1), day(2026, 11, 26))
        );
        assert_eq!(
            year_of_months(day(2026, 1, 31)),
            (day(2025, 2, 1), day(2026, 1, 31))
        );
    }
}
