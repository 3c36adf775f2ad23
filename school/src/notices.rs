//! The first-day notice (issue 57): telling a family the same morning that their child is not
//! in school and nobody has said why, and bringing their answer back into the register.
//!
//! 1. **When** ([`due_at`]): `after_first_lesson_minutes` after the day's first lesson starts,
//!    on the school's clock (the zone's daylight saving included). A closed day or a holiday
//!    has no lessons, so no notice.
//! 2. **Who** ([`absent_without_reason`]): each student expected in a lesson that has started
//!    today, marked in none (present, late) and with no reason (excused by hand, a code).
//! 3. **Whom** ([`contacts`]): their guardians who receive notices, first priority first, with
//!    an address for a channel the school uses; the words are the family's language's
//!    (`crate::family_messages`).
//! 4. **Once** ([`morning`]): a notice is opened once per absence and each message once per
//!    kind, contact and channel; the second contact is told only when the school asks and the
//!    first has not replied within its minutes. The hub sends what is pending and retries.
//! 5. **The reply link** ([`ReplyKey`]): the student and day, signed; it works until midnight
//!    of that day and for one reply ([`look_up`], [`reply`]). A forged, used or expired link
//!    says so and changes nothing.
//! 6. **The office** ([`decide`]): an admin or the class's teacher accepts the reason, and each
//!    of the child's sessions that day gets its code (`I`, `M`, `R`, `C`): an amendment saying
//!    who and why in a closed one, an excused mark carrying the code in an open one; or
//!    rejects it with a note, and the register is unchanged.
//! 7. **Arrived after all** (in [`morning`]): a child marked after their family was told gets
//!    an "arrived" message to the same contacts, and the notice says when.

mod decide;
mod reasons;
mod reply;

pub use decide::{DecideError, decide};
pub use reasons::{MAX_NOTE, REASONS, family_reason, reason_labels};
pub use reply::{ReplyError, ReplyKey, look_up, reply};

use chrono::NaiveDate;
use rollcall_shared::{ClassId, StudentId, UnixMillis};
use serde::{Deserialize, Serialize};

use crate::attendance::{self, Rules};
use crate::family_messages::{self as words, Kind, Values, date_in};
use crate::session_rosters::{self, calendar};
use rollcall_store::marks::Mark;
use rollcall_store::notices::{self as stored, NewMessage, Notice};
use rollcall_store::{Sql, StoreError, guardians, timetable};

/// How a family is reached.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Through the hub's relay.
    Email,
    /// Through the school's SMS gateway.
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }
}

/// What the school chose (`[notices]`).
#[derive(Clone, Debug)]
pub struct Settings {
    pub school: String,
    pub after_first_lesson_minutes: u16,
    pub channels: Vec<Channel>,
    /// 0: only the first contact.
    pub second_contact_after_minutes: u16,
    pub arrived_message: bool,
}

/// When `day`'s notices go out: the first lesson's start plus the school's minutes; `None` on
/// a day without lessons.
pub fn due_at(
    conn: &dyn Sql,
    rules: &Rules,
    day: NaiveDate,
    after_minutes: u16,
) -> Result<Option<UnixMillis>, StoreError> {
    let slots = timetable::all_slots(conn)?;
    let first = attendance::sessions_on(day, &slots, &calendar(conn)?)
        .iter()
        .map(|s| s.starts_at(rules))
        .min();
    Ok(first.map(|at| UnixMillis(at.0 + i64::from(after_minutes) * 60_000)))
}

/// A student absent without a reason.
#[derive(Clone, Debug, PartialEq)]
pub struct Absent {
    pub student: StudentId,
    pub name: String,
}

/// Whether a roster mark accounts for the student: there, or away for a reason.
fn accounted(mark: Option<Mark>) -> bool {
    matches!(
        mark,
        Some(Mark::Present | Mark::Late | Mark::Excused | Mark::NotRequired)
    )
}

/// The sessions of `day` (closed ones as the register has them), with their rosters at `now`.
fn rosters_of_day(
    conn: &dyn Sql,
    rules: &Rules,
    day: NaiveDate,
    now: UnixMillis,
) -> Result<Vec<session_rosters::SessionRoster>, StoreError> {
    let slots = timetable::all_slots(conn)?;
    let mut classes: Vec<ClassId> = slots.iter().map(|s| s.class_id).collect();
    classes.sort();
    classes.dedup();
    session_rosters::rosters_between(conn, (&classes, &slots), day, day, rules, now)
}

/// Each student expected in a lesson of `day` that has started by `now`, accounted for in
/// none of them (see the module docs), by name.
pub fn absent_without_reason(
    conn: &dyn Sql,
    rules: &Rules,
    day: NaiveDate,
    now: UnixMillis,
) -> Result<Vec<Absent>, StoreError> {
    let rosters = rosters_of_day(conn, rules, day, now)?;
    let started = rosters.iter().filter(|r| r.session.starts_at <= now);
    let mut expected: Vec<Absent> = Vec::new();
    let mut accounted_for: Vec<StudentId> = Vec::new();
    for roster in started {
        for line in &roster.rows {
            if accounted(line.mark) {
                accounted_for.push(line.student);
            } else if !expected.iter().any(|a| a.student == line.student) {
                expected.push(Absent {
                    student: line.student,
                    name: line.name.clone(),
                });
            }
        }
    }
    expected.retain(|a| !accounted_for.contains(&a.student));
    expected.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(expected)
}

/// When `student` was first marked there on `day` (present or late): when a door saw them,
/// or `now` for a mark by hand (a pass runs every minute or so).
fn arrived_at(
    rosters: &[session_rosters::SessionRoster],
    student: StudentId,
    now: UnixMillis,
) -> Option<UnixMillis> {
    rosters
        .iter()
        .flat_map(|r| &r.rows)
        .filter(|l| l.student == student && matches!(l.mark, Some(Mark::Present | Mark::Late)))
        .map(|l| l.first_seen_at.unwrap_or(now))
        .min()
}

/// A guardian told of absences, with where they can be reached.
#[derive(Clone, Debug, PartialEq)]
pub struct Contact {
    /// 1: the first told; 2: the next.
    pub order: u8,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: String,
}

impl Contact {
    fn address(&self, channel: Channel) -> Option<&str> {
        match channel {
            Channel::Email => self.email.as_deref(),
            Channel::Sms => self.phone.as_deref(),
        }
    }
}

/// `student`'s guardians who receive notices and can be reached by one of `channels`, first
/// priority first.
pub fn contacts(
    conn: &dyn Sql,
    student: StudentId,
    channels: &[Channel],
) -> Result<Vec<Contact>, StoreError> {
    let reachable = guardians::of(conn, student)?
        .into_iter()
        .filter(|g| g.notices)
        .map(|g| Contact {
            order: 0,
            name: g.name,
            email: g.email,
            phone: g.phone,
            language: g.language,
        })
        .filter(|c| channels.iter().any(|ch| c.address(*ch).is_some()));
    Ok(reachable
        .zip(1..=9)
        .map(|(c, order)| Contact { order, ..c })
        .collect())
}

/// The first word of a name: how a message names the child.
pub fn first_name(name: &str) -> String {
    name.split_whitespace()
        .next()
        .unwrap_or(name)
        .chars()
        .take(50)
        .collect()
}

/// What one morning's pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Pass {
    /// Absences newly told.
    pub told: usize,
    /// Absent students no guardian can be told of.
    pub unreachable: usize,
    /// Second contacts told.
    pub second: usize,
    /// Children marked after their family was told.
    pub arrived: usize,
}

/// One pass at `now` over `day` (see the module docs, points 1 to 4 and 7): the messages it
/// adds are pending, for the hub to send.
pub fn morning(
    tx: &dyn Sql,
    rules: &Rules,
    settings: &Settings,
    day: NaiveDate,
    now: UnixMillis,
) -> Result<Pass, StoreError> {
    let mut pass = Pass::default();
    let due = due_at(tx, rules, day, settings.after_first_lesson_minutes)?;
    if due.is_none_or(|at| now < at) {
        return Ok(pass);
    }
    for absent in absent_without_reason(tx, rules, day, now)? {
        if stored::get(tx, absent.student, day)?.is_some() {
            continue;
        }
        let reachable = contacts(tx, absent.student, &settings.channels)?;
        let Some(first) = reachable.first() else {
            pass.unreachable += 1;
            continue;
        };
        let (language, _) = words::words(tx, Kind::Absence, &first.language)?;
        stored::open(tx, absent.student, day, &language, now)?;
        let child = Child {
            student: absent.student,
            name: &absent.name,
            day,
        };
        write(tx, settings, Kind::Absence, child, first, None, now)?;
        pass.told += 1;
    }
    if settings.second_contact_after_minutes > 0 {
        pass.second = second_contacts(tx, settings, day, now)?;
    }
    if settings.arrived_message {
        pass.arrived = arrivals(tx, rules, settings, day, now)?;
    }
    Ok(pass)
}

/// Whose absence a message is about.
#[derive(Clone, Copy, Debug)]
struct Child<'a> {
    student: StudentId,
    name: &'a str,
    day: NaiveDate,
}

/// Adds `kind`'s message to `contact` by every channel of the school's they can be reached
/// by; a notice's reply link is left as `{reply_link}`, made when it is sent. Returns how
/// many were new.
fn write(
    tx: &dyn Sql,
    settings: &Settings,
    kind: Kind,
    child: Child<'_>,
    contact: &Contact,
    time: Option<&str>,
    now: UnixMillis,
) -> Result<usize, StoreError> {
    let (language, template) = words::words(tx, kind, &contact.language)?;
    let values = Values {
        school: settings.school.clone(),
        first_name: first_name(child.name),
        date: date_in(&language, child.day),
        reply_link: "{reply_link}".into(),
        time: time.unwrap_or_default().into(),
    };
    let filled = template.render(&values);
    let mut added = 0;
    for channel in &settings.channels {
        let Some(address) = contact.address(*channel) else {
            continue;
        };
        let (subject, body) = match channel {
            Channel::Email => (Some(filled.subject.as_str()), filled.email.as_str()),
            Channel::Sms => (None, filled.sms.as_str()),
        };
        let message = NewMessage {
            student: child.student,
            day: child.day,
            kind: kind.as_str(),
            contact: contact.order,
            guardian: &contact.name,
            channel: channel.as_str(),
            address,
            subject,
            body,
            at: now,
        };
        added += usize::from(stored::add(tx, &message)?);
    }
    Ok(added)
}

/// Tells the next contact of each notice of `day` whose family has not replied within the
/// school's minutes of the first message going out. Returns how many were told.
fn second_contacts(
    tx: &dyn Sql,
    settings: &Settings,
    day: NaiveDate,
    now: UnixMillis,
) -> Result<usize, StoreError> {
    let wait = i64::from(settings.second_contact_after_minutes) * 60_000;
    let messages = stored::messages_of_day(tx, day)?;
    let mut told = 0;
    let unanswered = stored::of_day(tx, day)?
        .into_iter()
        .filter(|n| n.reply.is_none() && n.arrived_at.is_none());
    for notice in unanswered {
        let theirs = || messages.iter().filter(|m| m.student == notice.student);
        let first: Vec<_> = theirs()
            .filter(|m| m.kind == "absence" && m.contact == 1)
            .collect();
        let first_sent = first.iter().filter_map(|m| m.sent_at).min();
        // The first contact could not be reached at all: the next is told at once.
        let unreachable = !first.is_empty() && first.iter().all(|m| m.status == "failed");
        let waited = first_sent.is_some_and(|at| now.0 >= at.0 + wait);
        let asked_second = theirs().any(|m| m.kind == "absence" && m.contact == 2);
        if asked_second || !(waited || unreachable) {
            continue;
        }
        let reachable = contacts(tx, notice.student, &settings.channels)?;
        if let Some(second) = reachable.iter().find(|c| c.order == 2) {
            let child = Child {
                student: notice.student,
                name: &notice.name,
                day,
            };
            told += usize::from(write(tx, settings, Kind::Absence, child, second, None, now)? > 0);
        }
    }
    Ok(told)
}

/// Notes each child of `day` marked after their family was told, and tells the contacts the
/// notice reached that they arrived, and when. Returns how many.
fn arrivals(
    tx: &dyn Sql,
    rules: &Rules,
    settings: &Settings,
    day: NaiveDate,
    now: UnixMillis,
) -> Result<usize, StoreError> {
    let waiting: Vec<Notice> = stored::of_day(tx, day)?
        .into_iter()
        .filter(|n| n.arrived_at.is_none())
        .collect();
    if waiting.is_empty() {
        return Ok(0);
    }
    let rosters = rosters_of_day(tx, rules, day, now)?;
    let messages = stored::messages_of_day(tx, day)?;
    let mut arrived = 0;
    for notice in waiting {
        let Some(at) = arrived_at(&rosters, notice.student, now) else {
            continue;
        };
        stored::arrived(tx, notice.student, day, at)?;
        // An absence message still waiting to go would now be wrong: it never goes.
        stored::cancel_pending(
            tx,
            notice.student,
            day,
            "absence",
            "not sent: the child arrived",
        )?;
        arrived += 1;
        let local = rules.zone.local(at.0);
        let time = format!("{:02}:{:02}", local.minute / 60, local.minute % 60);
        let told: Vec<u8> = {
            let mut told: Vec<u8> = messages
                .iter()
                .filter(|m| m.student == notice.student && m.kind == "absence")
                .filter(|m| m.status == "sent")
                .map(|m| m.contact)
                .collect();
            told.dedup();
            told
        };
        let reachable = contacts(tx, notice.student, &settings.channels)?;
        for contact in reachable.iter().filter(|c| told.contains(&c.order)) {
            let child = Child {
                student: notice.student,
                name: &notice.name,
                day,
            };
            write(
                tx,
                settings,
                Kind::Arrived,
                child,
                contact,
                Some(&time),
                now,
            )?;
        }
    }
    Ok(arrived)
}

#[cfg(test)]
mod tests;
