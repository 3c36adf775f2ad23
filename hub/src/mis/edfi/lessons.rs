//! Ed-Fi lessons: a pupil's mark in one lesson as a `studentSectionAttendanceEvent` of the
//! section the class's reference names, found through `GET sections` and kept a few minutes
//! (see the module docs of [`super`], "Lessons").

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::{EdFi, ids_other_than, of_pupil_on, ymd};
use crate::mis::connector::{LessonWrite, MisError, Receipt, cut};

pub(super) const SECTION_EVENTS: &str = "studentSectionAttendanceEvents";
pub(super) const SECTIONS: &str = "sections";
/// How long a section found is used without asking again.
pub(super) const SECTION_KEPT: Duration = Duration::from_secs(5 * 60);

impl EdFi {
    /// Writes `w`'s event to the section `w.class` names, then deletes the pupil's other
    /// events of that section and date (see the module docs).
    pub async fn write_lesson(&self, w: &LessonWrite) -> Result<Receipt, MisError> {
        let section = self.section(&w.class).await?;
        let event = lesson_event(w, &section);
        let id = match self.post_event(SECTION_EVENTS, &event, &w.key).await {
            Ok(id) => id,
            Err(e) => {
                if matches!(e, MisError::Refused { .. }) {
                    // The section may have gone since it was found.
                    self.sections.lock().await.remove(&w.class);
                }
                return Err(e);
            }
        };
        let held = self.pupil_lesson(&w.pupil, w.day, &section).await?;
        for id in lesson_unwanted(&held, w, &section) {
            self.delete_event(SECTION_EVENTS, &id, &w.key).await?;
        }
        Ok(Receipt { mis_ref: Some(id) })
    }

    /// The section `class` names in the configured session: the one kept, or found now.
    pub(super) async fn section(&self, class: &str) -> Result<Section, MisError> {
        if class.trim().is_empty() {
            return Err(MisError::Refused {
                status: 404,
                said: "the class has no MIS reference (its Ed-Fi sectionIdentifier): set it in \
                       the roster"
                    .to_owned(),
            });
        }
        if let Some((found, section)) = self.sections.lock().await.get(class)
            && found.elapsed() < SECTION_KEPT
        {
            return Ok(section.clone());
        }
        let query = [
            ("sectionIdentifier", class.to_owned()),
            ("schoolId", self.school_id.to_string()),
            ("schoolYear", self.school_year.to_string()),
        ];
        let found = self.all(SECTIONS, &query).await?;
        let section = pick(
            &found,
            class,
            self.school_id,
            self.school_year,
            &self.session_name,
        )?;
        let kept = (Instant::now(), section.clone());
        self.sections.lock().await.insert(class.to_owned(), kept);
        Ok(section)
    }

    /// Every event the ODS holds for `pupil` in `section` on `day`.
    pub(super) async fn pupil_lesson(
        &self,
        pupil: &str,
        day: NaiveDate,
        section: &Section,
    ) -> Result<Vec<Value>, MisError> {
        let query = [
            ("studentUniqueId", pupil.to_owned()),
            ("eventDate", ymd(day)),
            ("localCourseCode", section.local_course_code.clone()),
            ("schoolId", section.school_id.to_string()),
            ("schoolYear", section.school_year.to_string()),
            ("sectionIdentifier", section.section_identifier.clone()),
            ("sessionName", section.session_name.clone()),
        ];
        self.all(SECTION_EVENTS, &query).await
    }
}

/// The ids of the events in `held` to delete: those of `w`'s pupil, date and section whose
/// descriptor is not `w.code`. Each is checked as in [`unwanted`].
pub(super) fn lesson_unwanted(held: &[Value], w: &LessonWrite, section: &Section) -> Vec<String> {
    let of_the_lesson =
        |e: &Value| of_pupil_on(e, &w.pupil, w.day) && section.is_named_by(&e["sectionReference"]);
    ids_other_than(held, of_the_lesson, |d| d == w.code)
}

/// A section as a `sectionReference` names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Section {
    pub(super) local_course_code: String,
    pub(super) school_id: i64,
    pub(super) school_year: i64,
    pub(super) section_identifier: String,
    pub(super) session_name: String,
}

impl Section {
    /// The section a `sections` item is, from its `sectionIdentifier` and
    /// `courseOfferingReference`; `None` when one of them is missing.
    pub(super) fn from_item(item: &Value) -> Option<Section> {
        let offering = &item["courseOfferingReference"];
        let text = |v: &Value| v.as_str().map(str::to_owned);
        Some(Section {
            local_course_code: text(&offering["localCourseCode"])?,
            school_id: offering["schoolId"].as_i64()?,
            school_year: offering["schoolYear"].as_i64()?,
            section_identifier: text(&item["sectionIdentifier"])?,
            session_name: text(&offering["sessionName"])?,
        })
    }

    /// The `sectionReference` naming this section.
    pub(super) fn reference(&self) -> Value {
        json!({
            "localCourseCode": self.local_course_code,
            "schoolId": self.school_id,
            "schoolYear": self.school_year,
            "sectionIdentifier": self.section_identifier,
            "sessionName": self.session_name,
        })
    }

    /// Whether the `sectionReference` `reference` names this section.
    pub(super) fn is_named_by(&self, reference: &Value) -> bool {
        reference["localCourseCode"].as_str() == Some(&self.local_course_code)
            && reference["schoolId"].as_i64() == Some(self.school_id)
            && reference["schoolYear"].as_i64() == Some(self.school_year)
            && reference["sectionIdentifier"].as_str() == Some(&self.section_identifier)
            && reference["sessionName"].as_str() == Some(&self.session_name)
    }
}

/// The one section of the `sections` items `found` that `class` names at `school` in
/// `year` and `session`; a refusal that says what the ODS holds instead. Each item's
/// identifier, school and year are checked again, as in [`unwanted`].
pub(super) fn pick(
    found: &[Value],
    class: &str,
    school: i64,
    year: u16,
    session: &str,
) -> Result<Section, MisError> {
    let named = |s: &Section| {
        s.section_identifier == class && s.school_id == school && s.school_year == i64::from(year)
    };
    let sections: Vec<Section> = found
        .iter()
        .filter_map(Section::from_item)
        .filter(named)
        .collect();
    let (mut in_session, elsewhere): (Vec<Section>, Vec<Section>) = sections
        .into_iter()
        .partition(|s| s.session_name == session);
    let the = format!("section {class} at school {school} in {year}");
    let said = match (in_session.len(), elsewhere.is_empty()) {
        (1, _) => return Ok(in_session.remove(0)),
        (0, true) => format!("the ODS has no {the}: check the class's MIS reference"),
        (0, false) => format!(
            "the ODS has {the} only in session {}, not in {session}: check the class's MIS \
             reference and mis.edfi.session_name",
            listed(elsewhere.iter().map(|s| s.session_name.as_str()))
        ),
        (n, _) => format!(
            "the ODS has {n} sections {class} at school {school} in {year} in session \
             {session} (courses {}), and Rollcall cannot tell which is the class's: give each \
             its own identifier in the MIS",
            listed(in_session.iter().map(|s| s.local_course_code.as_str()))
        ),
    };
    let status = if in_session.is_empty() { 404 } else { 409 };
    Err(MisError::Refused {
        status,
        said: cut(&said),
    })
}

/// `names`, sorted, without repeats, joined with commas.
pub(super) fn listed<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: BTreeSet<&str> = names.collect();
    names.into_iter().collect::<Vec<_>>().join(", ")
}

/// The event of `w`'s mark in `section`.
pub(super) fn lesson_event(w: &LessonWrite, section: &Section) -> Value {
    json!({
        "attendanceEventCategoryDescriptor": w.code,
        "eventDate": ymd(w.day),
        "sectionReference": section.reference(),
        "studentReference": {"studentUniqueId": w.pupil},
    })
}
