//! `GET /reports/analytics?from=&to=`: attendance month by month (`rollcall_school::analytics`)
//! over the classes the caller sees: an admin the whole school, a teacher their own classes at a
//! glance. Without a range, the year of months up to today: from the first of the month eleven
//! months back. JSON, or CSV with `?format=csv`: a line per class and month, then the months of all
//! the classes together.

use chrono::{Datelike, Months, NaiveDate};
use serde_json::json;

use super::{COUNTS_HEADER, counts_fields, given_range, visible_rosters};
use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::analytics::{Analytics, Month, analyse};
use rollcall_school::csv;
use rollcall_school::principal::Principal;
use rollcall_store::Sql;

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
        true => Ok(Reply::csv(
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
    let header = [
        ["class", "month"].as_slice(),
        &COUNTS_HEADER,
        &["class_at_risk"],
    ]
    .concat();
    let mut out = csv::line(&header);
    let mut line = |class: &str, m: &Month, at_risk: &str| {
        let fields: Vec<String> = [class.to_owned(), m.month.clone()]
            .into_iter()
            .chain(counts_fields(&m.counts))
            .chain([at_risk.to_owned()])
            .collect();
        out.push_str(&csv::line(
            &fields.iter().map(String::as_str).collect::<Vec<_>>(),
        ));
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
