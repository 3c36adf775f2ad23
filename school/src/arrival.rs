//! What a record starts as in review, and storing a door unit's so. Pure rule plus one store
//! call; the hub's ingest (`ingest::batch`), `class_photo` and the tests' record helpers go
//! through here.
//!
//! Rule: a Confident record counts at once for its best candidate (approved, nobody asked);
//! an Uncertain or Unknown one waits for a teacher (pending, nobody named yet).

use rollcall_shared::{AttendanceRecord, Decision, StudentId, UnixMillis};

use rollcall_store::records::{self, Face, Standing, Status};
use rollcall_store::{Sql, StoreError};

/// Where `record` stands in review on arrival (see the module docs).
pub fn standing(record: &AttendanceRecord) -> Standing {
    starting(
        record.decision,
        record.candidates.first().map(|c| c.student),
    )
}

/// Where a face decided `decision`, with `best` its best candidate, stands in review when it
/// is stored (a door's record or a class photo's face alike).
pub fn starting(decision: Decision, best: Option<StudentId>) -> Standing {
    match decision {
        Decision::Confident => Standing {
            status: Status::Approved,
            final_student: best,
        },
        Decision::Uncertain | Decision::Unknown => Standing {
            status: Status::Pending,
            final_student: None,
        },
    }
}

/// Stores `record`, received at `received_at`, standing as [`standing`] says, unless a record
/// with its id is stored already. Returns whether a row was added.
pub fn store(
    conn: &dyn Sql,
    record: &AttendanceRecord,
    received_at: UnixMillis,
) -> Result<bool, StoreError> {
    records::insert(conn, record, received_at, standing(record))
}

/// [`store`], without the record's face when `face` says so (a student whose consent is not
/// given: the record counts, the face is not kept).
pub fn store_with(
    conn: &dyn Sql,
    record: &AttendanceRecord,
    received_at: UnixMillis,
    face: Face,
) -> Result<bool, StoreError> {
    records::insert_with(conn, record, received_at, standing(record), face)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confident_counts_at_once_for_the_best_candidate_and_the_rest_wait() {
        let (best, second) = (StudentId::random(), StudentId::random());
        let sample = |d| rollcall_store::sample_record(d, 1_790_000_000_000, &[best, second]);
        assert_eq!(
            standing(&sample(Decision::Confident)),
            Standing {
                status: Status::Approved,
                final_student: Some(best)
            }
        );
        for waits in [Decision::Uncertain, Decision::Unknown] {
            assert_eq!(
                standing(&sample(waits)),
                Standing {
                    status: Status::Pending,
                    final_student: None
                }
            );
        }
    }
}
