//! The demo's small school: the hub configuration (keeping unknown faces, so that the review is
//! shown), an admin and a teacher with fixed demo passwords, one class meeting in [`DEMO_ROOM`]
//! from a few minutes ago until midnight, three students (one enrolled from two sample photos
//! through [`rollcall_school::enrol`]) and a registered door unit.

use std::net::TcpListener;
use std::path::Path;

use rollcall_models::weights::ModelsDir;
use rollcall_runtime::Settings;
use rollcall_shared::{ClassId, Direction, SiteId, SiteZone, StudentId, UnixMillis, UnknownFaces};
use uuid::Uuid;

use super::error::DemoError;
use crate::config::Config;
use crate::setup;
use rollcall_school::accounts::Registered;
use rollcall_school::enrol::{Accepted, Enroller, save};
use rollcall_store::consent::{self, Change, State};
use rollcall_store::school::{self, Class, Student};
use rollcall_store::timetable::{self, Slot};
use rollcall_store::users::Role;
use rollcall_store::{Db, Sql, StoreError};

/// A demo sign-in: user name and password (printed for the person trying the demo).
#[derive(Debug, Clone, Copy)]
pub struct Login {
    pub username: &'static str,
    pub password: &'static str,
}

pub const ADMIN: Login = Login {
    username: "admin",
    password: "demo-admin-password",
};
pub const TEACHER: Login = Login {
    username: "teacher",
    password: "demo-teacher-password",
};
/// The room of the class and of the door unit.
pub const DEMO_ROOM: &str = "Demo room";
const CLASS: &str = "Demo class";
const ACTOR: &str = "demo";

/// The students: name and the sample photos they are enrolled from (none: nothing to match).
const STUDENTS: [(&str, &[&str]); 3] = [
    ("Barack Obama", &["obama.jpg", "obama2.jpg"]),
    ("Joe Biden", &[]),
    ("Ada Lovelace", &[]),
];

/// What was set up: the door unit's credentials and who is in the class.
#[derive(Debug)]
pub struct School {
    pub device: Registered,
    pub class: String,
    /// Each student's name and how many photos were enrolled.
    pub students: Vec<(String, usize)>,
    /// The lesson's start and end, local time, `HH:MM`.
    pub lesson: (String, String),
}

/// The hub's configuration for the demo: data in `dir/hub-data`, HTTP and the embedded broker
/// on the bound loopback sockets, local time as the school's time, unknown faces kept.
pub fn config(
    dir: &Path,
    models: &ModelsDir,
    http: &TcpListener,
    mqtt: &TcpListener,
) -> Result<Config, DemoError> {
    let addr = |l: &TcpListener| l.local_addr().map_err(DemoError::io(Path::new("socket")));
    let mut config = Config {
        site: SiteId::new("demo").expect("a valid site id"),
        data_dir: dir.join("hub-data"),
        ..Config::default()
    };
    config.http.listen = addr(http)?;
    config.mqtt.embedded.listen = addr(mqtt)?;
    config.faces.models_dir = Some(models.path().to_path_buf());
    // The demo keeps faces that match nobody so that Joe Biden's waits under Review, the flow
    // it shows. A school's default discards them on the door unit (`[privacy] unknown_faces`,
    // docs/PRIVACY.md): there only Uncertain matches wait for a teacher.
    config.privacy.unknown_faces = UnknownFaces::Keep;
    config
        .validate()
        .expect("the demo configuration is valid by construction");
    Ok(config)
}

impl School {
    /// Create the hub's data directory and set the school up in it.
    pub fn set_up(config: &Config, models: &ModelsDir, photos: &Path) -> Result<Self, DemoError> {
        setup::init(&config.data_dir, ADMIN.username, ADMIN.password)?;
        let db = setup::open(&config.data_dir)?;
        let teacher = setup::add_user(
            &db,
            TEACHER.username,
            "Demo Teacher",
            Role::Teacher,
            TEACHER.password,
            None,
        )?;
        let device = setup::add_device(&db, "demo-door", DEMO_ROOM, Direction::Both)?;
        let enroller = Enroller::load(Some(&models.path().to_path_buf()), config.faces.gate)?;
        let mut enrolments = Vec::new();
        for (name, files) in STUDENTS {
            let accepted = files
                .iter()
                .map(|f| assess(&enroller, &photos.join(f)))
                .collect::<Result<Vec<_>, _>>()?;
            enrolments.push((name, accepted));
        }
        let lesson = lesson_now(&config.timezone);
        let today = config.rules().local_day(rollcall_shared::UnixMillis::now());
        write_school(&db, (teacher.id, today), &lesson, &enrolments)?;
        let students = enrolments
            .iter()
            .map(|(n, a)| (n.to_string(), a.len()))
            .collect();
        let hhmm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        Ok(School {
            device,
            class: CLASS.into(),
            students,
            lesson: (hhmm(lesson.1), hhmm(lesson.2)),
        })
    }
}

/// Today's ISO weekday and a lesson from five minutes ago until midnight (minutes of the day),
/// in the school's zone.
fn lesson_now(zone: &SiteZone) -> (u8, u16, u16) {
    let now = zone.local(chrono::Utc::now().timestamp_millis());
    (now.weekday, now.minute.saturating_sub(5), 24 * 60)
}

/// Run one sample photo through the hub's enrolment rules.
fn assess(enroller: &Enroller, path: &Path) -> Result<Accepted, DemoError> {
    let bytes = std::fs::read(path).map_err(DemoError::io(path))?;
    enroller
        .assess(&bytes)
        .map_err(|refusal| DemoError::Refused {
            photo: path.display().to_string(),
            refusal,
        })
}

/// The class, its timetable slot, the students and their enrolments, in one transaction.
fn write_school(
    db: &Db,
    (teacher, today): (Uuid, chrono::NaiveDate),
    (weekday, start, end): &(u8, u16, u16),
    students: &[(&str, Vec<Accepted>)],
) -> Result<(), DemoError> {
    let now = UnixMillis(chrono::Utc::now().timestamp_millis());
    // The demo's class starts today: its lesson has no past sessions, and nobody past absences.
    let class = Class {
        id: ClassId::random(),
        name: CLASS.into(),
        teacher_id: Some(teacher),
        created_at: now,
        code: None,
    };
    let slot = Slot {
        id: Uuid::now_v7(),
        class_id: class.id,
        room: DEMO_ROOM.into(),
        weekday: *weekday,
        start_minute: *start,
        end_minute: *end,
        valid_from: Some(today),
        valid_until: None,
    };
    db.write_blocking(|tx| {
        school::insert_class(tx, &class)?;
        timetable::insert_slot(tx, &slot)?;
        for (name, photos) in students {
            add_student(tx, (class.id, today), name, photos, now)?;
        }
        Ok::<_, StoreError>(())
    })?;
    Ok(())
}

fn add_student(
    tx: &dyn Sql,
    (class, today): (ClassId, chrono::NaiveDate),
    name: &str,
    photos: &[Accepted],
    now: UnixMillis,
) -> Result<(), StoreError> {
    let student = Student {
        id: StudentId::random(),
        name: name.into(),
        external_ref: None,
        created_at: now,
        consent: State::NotAsked,
        profile: Default::default(),
    };
    school::insert_student(tx, &student)?;
    school::add_member(tx, class, student.id, Some(today))?;
    // The demo's people are public figures' photos, not children: consent is recorded as the
    // demo's own so that the door recognises them as it would a consenting student.
    let consent = Change {
        student: student.id,
        state: State::Given,
        by: Some("the demo".into()),
        signed_on: chrono::DateTime::from_timestamp_millis(now.0).map(|t| t.date_naive()),
        reference: Some("demo data".into()),
        note: None,
        recorded_by: ACTOR.into(),
        recorded_at: now,
    };
    consent::record(tx, &consent)?;
    for accepted in photos {
        save(tx, ACTOR, student.id, accepted, now)?;
    }
    Ok(())
}
