//! Everything the hub holds about one student, as one archive for the student or their family
//! (GDPR Art. 15, a subject access request): `GET /api/v1/students/{id}/archive` (admins).
//!
//! A zip of: the student (name, references, how the office reaches them, classes, where their
//! consent stands), their guardians, their own account and its invitations, every
//! consent answer, their register (closed sessions' entries and every amendment, with the
//! codes' meanings), the marks of sessions not yet closed, the door records that name them,
//! what the audit log says of them, their face templates (the numbers door units match
//! against) and every face crop still kept (enrolment crops, and the crops of their records).
//! Read in one transaction. Unlike the school's export (`crate::export`), faces are in it: they
//! are this person's own.

use std::io::{Seek, Write};

use rollcall_shared::StudentId;
use rollcall_store::sql::params;
use rollcall_store::subject_access as stored;
use serde_json::{Value, json};
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use crate::export::{ExportError, read_query, rfc3339};
use rollcall_store::{Sql, school};

/// What an archive held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Held {
    /// Rows per part, in the archive's order.
    pub rows: Vec<(&'static str, usize)>,
    pub templates: usize,
    pub crops: usize,
}

/// Writes `student`'s archive to `out`, as asked by `by` at `now` (Unix ms).
pub fn write<W: Write + Seek>(
    tx: &dyn Sql,
    student: StudentId,
    by: &str,
    now: i64,
    out: W,
) -> Result<Held, ExportError> {
    let s = school::student(tx, student)?;
    let folder = format!("rollcall-student-{student}");
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut zip = ZipWriter::new(out);
    let id = student.to_string();
    let mut held = Held::default();
    for part in stored::PARTS {
        let (csv, json, n) = read_query(tx, part.sql, params![id])?;
        zip.start_file(format!("{folder}/{}.csv", part.name), options)?;
        zip.write_all(csv.as_bytes())?;
        zip.start_file(format!("{folder}/{}.json", part.name), options)?;
        serde_json::to_writer_pretty(&mut zip, &json).map_err(std::io::Error::from)?;
        held.rows.push((part.name, n));
    }
    let mut templates = Vec::new();
    for t in stored::templates(tx, student)? {
        let values = match t.values {
            Ok(e) => json!(e.0.to_vec()),
            Err(why) => json!(why),
        };
        templates.push(json!({
            "id": t.id, "model": t.model, "source": t.source,
            "created_at": rfc3339(t.created_at.0), "values": values,
        }));
        if let Some(jpeg) = t.crop {
            zip.start_file(format!("{folder}/faces/enrolment-{}.jpg", t.id), options)?;
            zip.write_all(&jpeg)?;
            held.crops += 1;
        }
    }
    held.templates = templates.len();
    zip.start_file(format!("{folder}/templates.json"), options)?;
    serde_json::to_writer_pretty(&mut zip, &templates).map_err(std::io::Error::from)?;
    for (record, jpeg) in stored::record_crops(tx, student)? {
        zip.start_file(format!("{folder}/faces/record-{record}.jpg"), options)?;
        zip.write_all(&jpeg)?;
        held.crops += 1;
    }
    let classes: Vec<String> = school::classes_of(tx, student)?
        .into_iter()
        .filter_map(|c| school::class(tx, c).ok().map(|c| c.name))
        .collect();
    let about = json!({
        "student": s, "contact": school::contact(tx, student)?, "classes": classes,
        "made_at": rfc3339(now), "made_by": by,
        "parts": held.rows.iter().map(|(p, n)| json!({"name": p, "rows": n})).collect::<Vec<_>>(),
        "templates": held.templates, "face_crops": held.crops,
    });
    zip.start_file(format!("{folder}/student.json"), options)?;
    serde_json::to_writer_pretty(&mut zip, &about).map_err(std::io::Error::from)?;
    zip.start_file(format!("{folder}/README.txt"), options)?;
    zip.write_all(readme(&s.name, by, now, &held).as_bytes())?;
    zip.finish()?;
    Ok(held)
}

fn readme(name: &str, by: &str, now: i64, held: &Held) -> String {
    let mut text = format!(
        "Everything Rollcall holds about {name}, made {at} by {by}.\n\n\
         student.json        who they are, their classes, where their consent stands\n\
         templates.json      {t} face templates: the numbers door cameras compare faces with\n\
         faces/              {c} face crops still kept (enrolment and door captures)\n",
        at = rfc3339(now),
        t = held.templates,
        c = held.crops,
    );
    for part in stored::PARTS {
        let n = held
            .rows
            .iter()
            .find(|(p, _)| *p == part.name)
            .map_or(0, |(_, n)| *n);
        text.push_str(&format!(
            "{:<19} {n:>5} rows: {}\n",
            format!("{}.csv/.json", part.name),
            part.about
        ));
    }
    text.push_str(
        "\nTimes (columns ending in _at) are UTC, RFC 3339; days are the school's dates. Camera\n\
         frames and enrolment photos are never kept, so they are not here.\n",
    );
    text
}

/// The archive's rows per part, as JSON (for the audit entry of a download).
pub fn summary(held: &Held) -> Value {
    let rows: serde_json::Map<String, Value> = held
        .rows
        .iter()
        .map(|(p, n)| (p.to_string(), json!(n)))
        .collect();
    json!({"rows": rows, "templates": held.templates, "face_crops": held.crops})
}

#[cfg(test)]
mod tests {
    use super::*;
    use rollcall_store::StoreError;
    use rollcall_store::engines::each;

    #[test]
    fn every_part_reads_on_both_engines_and_an_unknown_student_is_not_found() {
        each(|db| {
            db.read_blocking(|sql| {
                let student = StudentId::random();
                let id = student.to_string();
                for part in stored::PARTS {
                    read_query(sql, part.sql, params![id])
                        .unwrap_or_else(|e| panic!("{}: {e}", part.name));
                }
                assert!(stored::templates(sql, student)?.is_empty());
                assert!(stored::record_crops(sql, student)?.is_empty());
                let out = std::io::Cursor::new(Vec::new());
                let e = write(sql, StudentId::random(), "test", 0, out).unwrap_err();
                assert!(
                    matches!(e, ExportError::Store(StoreError::NotFound(_))),
                    "{e}"
                );
                Ok::<_, StoreError>(())
            })
            .unwrap();
        });
    }
}
