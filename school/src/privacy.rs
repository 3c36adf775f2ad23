//! The school's privacy schedule: what the hub and its door units keep of people, for how long,
//! why, and who can see it, written from the running settings so that it cannot drift from
//! what the hub does. Served to anyone (`GET /api/v1/privacy`, the page `#/privacy`): a
//! family is owed it before they are asked for consent, and Illinois' BIPA asks for a public
//! retention schedule. `docs/PRIVACY.md` is the longer account for the school's impact
//! assessment.

use rollcall_shared::{SiteId, UnknownFaces};
use serde::Serialize;

use crate::settings::{PrivacyConfig, RetentionConfig};

/// The schedule as the API serves it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Schedule {
    /// The school (the hub's `site`).
    pub school: String,
    /// What becomes of a face that matches nobody at a door (`[privacy] unknown_faces`).
    pub unknown_faces: UnknownFaces,
    /// Each kind of data, faces first.
    pub kept: Vec<Kept>,
    /// What is never kept, whatever the settings.
    pub never_kept: Vec<&'static str>,
}

/// One kind of data the school keeps.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Kept {
    pub what: &'static str,
    /// Whether it is biometric data (a face, or a template made from one).
    pub biometric: bool,
    pub why: &'static str,
    /// For how long, in words, from the running settings.
    pub how_long: String,
    pub who_can_see: &'static str,
    /// Where copies live.
    pub held: &'static str,
}

/// The schedule of `site` under its `[retention]` and `[privacy]` settings.
pub fn schedule(site: &SiteId, r: &RetentionConfig, privacy: &PrivacyConfig) -> Schedule {
    let days = |n: u32| match n {
        1 => "1 day".to_owned(),
        n => format!("{n} days"),
    };
    let mut kept = vec![Kept {
        what: "Face templates of enrolled students (numbers computed from their enrolment \
               photos) and a small crop of the face in each photo",
        biometric: true,
        why: "To recognise the student at a classroom door, with their parent's written consent",
        how_long: format!(
            "While the student is enrolled and their consent stands; deleted {} after they \
             leave their last class, and at once when consent is refused or withdrawn, the \
             student objects, or an admin erases the student",
            days(r.leaver_days)
        ),
        who_can_see: "Admins (the crops, on the student's page). Door units hold the templates, \
                      never the crops or photos",
        held: "The hub's database and its backups; each door unit's gallery; encrypted in \
               each, under a key kept apart from them",
    }];
    kept.push(Kept {
        what: "The face seen at the door for each record that a person must check: a small crop \
               and its template",
        biometric: true,
        why: "So that a teacher can confirm or correct an uncertain match",
        how_long: format!(
            "{} after the record is decided; {} if nobody decides, then set aside",
            days(r.thumbnail_days),
            days(r.undecided_days)
        ),
        who_can_see: "The class's teachers and admins",
        held: "The hub's database and its backups; the door unit's outbox until the hub has \
               it; encrypted in each, under a key kept apart from them",
    });
    if privacy.unknown_faces == UnknownFaces::Keep {
        kept.push(Kept {
            what: "Faces that matched nobody (visitors, parents, unrecognised students): a crop \
                   and its template, and the average face of a stranger a teacher dismissed",
            biometric: true,
            why: "So that teachers can name a student the door missed, and so that the same \
                  stranger is not asked about again",
            how_long: format!(
                "{} if nobody decides; {} after a teacher names or dismisses them",
                days(r.undecided_days),
                days(r.thumbnail_days)
            ),
            who_can_see: "Teachers and admins",
            held: "The hub's database and its backups; the door unit's outbox until the hub has \
               it; encrypted in each, under a key kept apart from them",
        });
    }
    kept.push(Kept {
        what: "Attendance records: who was seen, at which door, when, and how sure the match was",
        biometric: false,
        why: "To take the register and to explain each mark",
        how_long: days(r.record_days),
        who_can_see: "The class's teachers and admins",
        held: "The hub's database",
    });
    kept.push(Kept {
        what: "The register: each lesson's marks and codes, and every change with who made it \
               and why",
        biometric: false,
        why: "The attendance register the school must keep by law",
        how_long: match r.register_years {
            1 => "1 year".to_owned(),
            n => format!("{n} years"),
        },
        who_can_see: "The class's teachers and admins",
        held: "The hub's database and its backups",
    });
    kept.push(Kept {
        what: "Visitors signed in at reception: name, organisation, whom they visited, a \
               vehicle's registration, when they came and left (no photo or face)",
        biometric: false,
        why: "To know who is on site, for safeguarding and in an evacuation",
        how_long: days(r.visitor_days),
        who_can_see: "Staff signed in to the hub",
        held: "The hub's database",
    });
    kept.push(Kept {
        what: "Students' guardians: name, relationship, e-mail, mobile phone, language, whether \
               they are told of absences, parental responsibility",
        biometric: false,
        why: "To reach a student's family",
        how_long: "while the student is on the school's roll; erased with the student".to_owned(),
        who_can_see: "Admins",
        held: "The hub's database and its backups",
    });
    kept.push(Kept {
        what: "Notices to families: to whom each went, the address or number, the words sent, \
               the family's reply and the school's decision",
        biometric: false,
        why: "To tell a family the same morning that their child is not in school, and to \
              record the reason they give",
        how_long: format!(
            "{} after the day of the absence; erased with the student",
            days(r.notice_days)
        ),
        who_can_see: "Admins and the class's teachers",
        held: "The hub's database and its backups",
    });
    kept.push(Kept {
        what: "Guardians' own accounts: their e-mail address as the user name, their name, a \
               password hash and their sign-ins",
        biometric: false,
        why: "So that a parent or carer can see their own children's attendance and tell the \
              school of an absence",
        how_long: "while a student has them as a guardian with parental responsibility at that \
                   address; deleted by the next hourly pass after"
            .to_owned(),
        who_can_see: "Admins",
        held: "The hub's database and its backups",
    });
    kept.push(Kept {
        what: "Staff: personnel code, name, department, position, e-mail and phone, and each \
               coming and going (signed at reception, or a door at a gate: its time and \
               confidence)",
        biometric: false,
        why: "To know who is on site, for safety and in an evacuation",
        how_long: format!(
            "the member's details while they are on the Staff page; each coming and going {}",
            days(r.staff_log_days)
        ),
        who_can_see: "Staff signed in to the hub (e-mail and phone: admins)",
        held: "The hub's database and its backups",
    });
    Schedule {
        school: site.as_str().to_owned(),
        unknown_faces: privacy.unknown_faces,
        kept,
        never_kept: never_kept(privacy.unknown_faces),
    }
}

/// What no setting keeps.
fn never_kept(unknown_faces: UnknownFaces) -> Vec<&'static str> {
    let mut never = vec![
        "Camera frames: a door unit looks at each frame in memory and keeps only the face it \
         needs; no picture or video of a doorway is stored or sent",
        "Enrolment photos: only the face crop and template made from each are kept",
    ];
    if unknown_faces == UnknownFaces::Discard {
        never.push(
            "Faces that match nobody (visitors, parents, unrecognised students): dropped on the \
             door unit; only a count of them is kept",
        );
    }
    never
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_says_what_the_settings_do() {
        let site = SiteId::new("school").unwrap();
        let retention = RetentionConfig {
            thumbnail_days: 9,
            register_years: 3,
            ..RetentionConfig::default()
        };
        let mut privacy = PrivacyConfig::default();
        let discarding = schedule(&site, &retention, &privacy);
        assert_eq!(discarding.unknown_faces, UnknownFaces::Discard);
        assert!(
            discarding
                .kept
                .iter()
                .all(|k| !k.what.contains("matched nobody"))
        );
        assert!(
            discarding
                .never_kept
                .iter()
                .any(|n| n.contains("match nobody"))
        );
        let review = &discarding.kept[1];
        assert!(review.how_long.starts_with("9 days after"), "{review:?}");
        let item = |start: &str| {
            let found = discarding.kept.iter().find(|k| k.what.starts_with(start));
            found.unwrap_or_else(|| panic!("{start}: {:?}", discarding.kept))
        };
        assert_eq!(item("The register").how_long, "3 years");
        let visitors = item("Visitors");
        assert!(!visitors.biometric);
        assert_eq!(visitors.how_long, "365 days");
        let staff = item("Staff:");
        assert!(!staff.biometric);
        assert!(staff.how_long.ends_with("365 days"), "{staff:?}");
        let notices = item("Notices to families");
        assert!(notices.how_long.starts_with("90 days after"), "{notices:?}");
        assert!(
            item("Guardians' own accounts")
                .how_long
                .contains("parental responsibility")
        );

        privacy.unknown_faces = UnknownFaces::Keep;
        let keeping = schedule(&site, &retention, &privacy);
        assert_eq!(keeping.kept.len(), discarding.kept.len() + 1);
        let strangers = &keeping.kept[2];
        assert!(strangers.biometric && strangers.what.contains("matched nobody"));
        assert!(
            keeping
                .never_kept
                .iter()
                .all(|n| !n.contains("match nobody"))
        );
    }
}
