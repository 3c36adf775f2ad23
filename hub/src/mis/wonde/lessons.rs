//! Wonde's lessons: finding the MIS's own lesson a [`LessonWrite`] is about among the day's
//! lessons in its timetable, and writing the pupil's mark in it (see the module docs of
//! [`super`], "Lessons").

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Wonde, refused};
use crate::mis::connector::{LessonWrite, MisError, Receipt};

pub(super) const LESSONS: &str = "lessons";
pub(super) const LESSON_MARKS: &str = "attendance/lesson";
/// How long a day's lessons are kept: a pass writing every pupil's lessons reads them once.
pub(super) const LESSONS_KEPT: Duration = Duration::from_secs(5 * 60);
/// Lessons read at least this long ago are read again, once, before a write is refused for
/// want of a lesson: the MIS's timetable may just have been synced. Short, so the office's
/// Write again after a sync finds the lesson; long enough that the misses of one pass (its
/// writes follow each other within seconds) share one read.
pub(super) const LESSONS_RECHECKED: Duration = Duration::from_secs(5);

/// One day's lessons, as read at `read_at`.
#[derive(Debug)]
pub(super) struct Timetable {
    pub(super) read_at: Instant,
    pub(super) lessons: Vec<Lesson>,
}

/// One of Wonde's lessons.
#[derive(Debug, PartialEq)]
pub(super) struct Lesson {
    pub(super) id: String,
    /// The class's Wonde id and MIS id, whichever Wonde gives.
    pub(super) class: Vec<String>,
    pub(super) starts: NaiveDateTime,
    pub(super) ends: NaiveDateTime,
}

impl Lesson {
    /// A lesson of `GET lessons`, its `class` embedded (`include=class`) or its id alone;
    /// `None` when it lacks an id or a time.
    pub(super) fn from_item(item: &Value) -> Option<Lesson> {
        let id = item["id"].as_str().filter(|id| !id.is_empty())?;
        let class = match &item["class"] {
            Value::String(class_id) => vec![class_id.as_str()],
            class => ["id", "mis_id"]
                .map(|k| class["data"][k].as_str().unwrap_or_default())
                .to_vec(),
        };
        let class = class.into_iter().map(str::trim).filter(|c| !c.is_empty());
        Some(Lesson {
            id: id.to_owned(),
            class: class.map(str::to_owned).collect(),
            starts: school_time(&item["start_at"])?,
            ends: school_time(&item["end_at"])?,
        })
    }
}

impl Wonde {
    /// Writes `w`'s mark in the lesson of `w.class` that overlaps `w`'s times most (see the
    /// module docs).
    pub async fn write_lesson(&self, w: &LessonWrite) -> Result<Receipt, MisError> {
        let student_id = self.student_id(&w.pupil).await?;
        let code_id = self.code_ids(&[&w.code]).await?.remove(0);
        let lesson_id = self.lesson_id(w).await?;
        let mark = json!({
            "lesson_id": lesson_id,
            "student_id": student_id,
            "attendance_code_id": code_id,
        });
        let register = json!({ "attendance": [mark] });
        self.post(LESSON_MARKS, &register, &w.key).await
    }

    /// The Wonde id of the lesson `w` is about: from the day's lessons as kept, else as read
    /// again if they are [`LESSONS_RECHECKED`] old; refused (404) when there is none.
    async fn lesson_id(&self, w: &LessonWrite) -> Result<String, MisError> {
        let mut timetable = self.timetable(w.day, LESSONS_KEPT).await?;
        if lesson_for(&timetable.lessons, w).is_none() {
            timetable = self.timetable(w.day, LESSONS_RECHECKED).await?;
        }
        let lesson = lesson_for(&timetable.lessons, w).map(|l| l.id.clone());
        lesson.ok_or_else(|| no_lesson(w))
    }

    /// `day`'s lessons: as kept if read less than `kept_for` ago, else read now (every page)
    /// and kept.
    async fn timetable(
        &self,
        day: NaiveDate,
        kept_for: Duration,
    ) -> Result<Arc<Timetable>, MisError> {
        let mut kept = self.lists.lessons.lock().await;
        let fresh = |t: &&Arc<Timetable>| t.read_at.elapsed() < kept_for;
        if let Some(timetable) = kept.get(&day).filter(fresh) {
            return Ok(Arc::clone(timetable));
        }
        let midnight = |day: NaiveDate| day.format("%Y-%m-%d 00:00:00").to_string();
        let (after, before) = (midnight(day), midnight(day.succ_opt().unwrap_or(day)));
        let query = [
            ("include", "class"),
            ("lessons_start_after", after.as_str()),
            ("lessons_start_before", before.as_str()),
        ];
        let items = self.all(LESSONS, &query).await?;
        let timetable = Arc::new(Timetable {
            read_at: Instant::now(),
            lessons: items.iter().filter_map(Lesson::from_item).collect(),
        });
        kept.retain(|_, t| t.read_at.elapsed() < LESSONS_KEPT);
        kept.insert(day, Arc::clone(&timetable));
        Ok(timetable)
    }
}

/// The lesson `w` is about: of its class (by Wonde id or MIS id), starting on its day, and
/// overlapping its times the most; of two that overlap as much, the earlier.
pub(super) fn lesson_for<'a>(lessons: &'a [Lesson], w: &LessonWrite) -> Option<&'a Lesson> {
    let class = w.class.trim();
    let (starts, ends) = (w.day.and_time(w.starts), w.day.and_time(w.ends));
    let overlap = |l: &Lesson| l.ends.min(ends) - l.starts.max(starts);
    (lessons.iter())
        .filter(|l| l.starts.date() == w.day && l.class.iter().any(|c| c == class))
        .filter(|l| overlap(l) > chrono::TimeDelta::zero())
        .min_by_key(|l| (std::cmp::Reverse(overlap(l)), l.starts))
}

/// The refusal for a write whose lesson Wonde does not have, saying what the office can check.
fn no_lesson(w: &LessonWrite) -> MisError {
    let (starts, ends) = (w.starts.format("%H:%M"), w.ends.format("%H:%M"));
    refused(format!(
        "the MIS's timetable has no lesson of class {} overlapping {starts}–{ends} on {}: \
         check the class's MIS reference and the MIS's timetable",
        w.class.trim(),
        w.day
    ))
}

/// A Wonde time (`{"date": "2026-11-23 09:00:00.000000", "timezone": …}`, or its text alone)
/// as school time: its `timezone` is not applied (see the module docs).
fn school_time(value: &Value) -> Option<NaiveDateTime> {
    let text = value["date"].as_str().or(value.as_str())?;
    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S%.f").ok()
}
