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

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Datelike, NaiveDate};
use hmac::{Hmac, Mac};
use rollcall_shared::{ClassId, StudentId, UnixMillis};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Sha256;

use crate::access::{self, AccessError};
use crate::attendance::{self, Rules};
use crate::family_messages::{self as words, Kind, Values, date_in};
use crate::principal::Principal;
use crate::session_rosters::{self, calendar};
use rollcall_store::audit::{self, Change};
use rollcall_store::marks::{self, Mark, Override};
use rollcall_store::notices::{self as stored, Decision, NewMessage, Notice, Reply};
use rollcall_store::register::{self, Amendment};
use rollcall_store::{Sql, StoreError, guardians, school, timetable, users};

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

/// The reasons a family may give, with the attendance code each stands for when accepted.
pub const REASONS: [(&str, &str); 4] = [
    ("ill", "I"),
    ("medical", "M"),
    ("religious", "R"),
    ("other", "C"),
];
/// Longest note a family may add, in characters.
pub const MAX_NOTE: usize = 500;

/// The reasons as a family reads them in `language` (English, or Welsh).
pub fn reason_labels(language: &str) -> [(&'static str, &'static str); 4] {
    match words::choose(language, &words::BUILT_IN) {
        "cy" => [
            ("ill", "Sâl"),
            ("medical", "Apwyntiad meddyg neu ddeintydd"),
            ("religious", "Gŵyl neu ddefod grefyddol"),
            ("other", "Rheswm arall (dywedwch wrthym)"),
        ],
        _ => [
            ("ill", "Ill"),
            ("medical", "Medical or dental appointment"),
            ("religious", "Religious observance"),
            ("other", "Something else (please tell us)"),
        ],
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

/// The key reply links are signed with.
#[derive(Clone)]
pub struct ReplyKey([u8; 32]);

impl std::fmt::Debug for ReplyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReplyKey(<redacted>)")
    }
}

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the signature a link carries (128 bits).
const MAC_BYTES: usize = 16;

impl ReplyKey {
    /// The key derived from the hub's own secret, for this purpose only.
    pub fn derive(secret: &[u8]) -> ReplyKey {
        let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length");
        mac.update(b"rollcall family reply link v1");
        ReplyKey(mac.finalize().into_bytes().into())
    }

    fn mac(&self, student: StudentId, day: i32) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(student.0.as_bytes());
        mac.update(&day.to_be_bytes());
        mac
    }

    /// The link's token for `student`'s absence on `day`: their id, the day and a signature,
    /// 48 URL-safe characters.
    pub fn token(&self, student: StudentId, day: NaiveDate) -> String {
        let days = day.num_days_from_ce();
        let signature = self.mac(student, days).finalize().into_bytes();
        let mut bytes = Vec::with_capacity(16 + 4 + MAC_BYTES);
        bytes.extend_from_slice(student.0.as_bytes());
        bytes.extend_from_slice(&days.to_be_bytes());
        bytes.extend_from_slice(&signature[..MAC_BYTES]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The student and day a token was made for, if this key signed it.
    pub fn open(&self, token: &str) -> Option<(StudentId, NaiveDate)> {
        if token.len() > 64 {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
        if bytes.len() != 16 + 4 + MAC_BYTES {
            return None;
        }
        let student = StudentId(uuid::Uuid::from_slice(&bytes[..16]).ok()?);
        let days = i32::from_be_bytes(bytes[16..20].try_into().ok()?);
        self.mac(student, days)
            .verify_truncated_left(&bytes[20..])
            .ok()?;
        Some((student, NaiveDate::from_num_days_from_ce_opt(days)?))
    }
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

/// Why a reply link cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    #[error("this link is not one the school sent: check it was copied whole")]
    Unknown,
    #[error("this link has been used already: the school has your answer")]
    Used,
    #[error("this link was for {0} and has expired: please telephone the school")]
    Expired(NaiveDate),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The notice a link is for, if it can still be answered at `now`.
pub fn look_up(
    conn: &dyn Sql,
    key: &ReplyKey,
    token: &str,
    rules: &Rules,
    now: UnixMillis,
) -> Result<Notice, ReplyError> {
    let (student, day) = key.open(token).ok_or(ReplyError::Unknown)?;
    let notice = stored::get(conn, student, day)?.ok_or(ReplyError::Unknown)?;
    let midnight = day.succ_opt().map(|next| rules.instant(next, 0));
    if midnight.is_none_or(|end| now >= end) {
        return Err(ReplyError::Expired(day));
    }
    if notice.reply.is_some() {
        return Err(ReplyError::Used);
    }
    Ok(notice)
}

/// Records the family's answer given through `token` (see the module docs, point 5).
pub fn reply(
    tx: &dyn Sql,
    key: &ReplyKey,
    token: &str,
    (reason, note): (&str, Option<&str>),
    rules: &Rules,
    now: UnixMillis,
) -> Result<Notice, ReplyError> {
    let notice = look_up(tx, key, token, rules, now)?;
    let answer = family_reason(reason, note, now).map_err(ReplyError::Invalid)?;
    if !stored::reply(tx, notice.student, notice.day, &answer)? {
        return Err(ReplyError::Used);
    }
    audit::log(
        tx,
        Change {
            actor: "family",
            action: "notice.reply",
            target: format!("notice:{}:{}", notice.student, notice.day),
            before: None,
            after: Some(json!({"reason": answer.reason})),
            at: now,
        },
    )?;
    Ok(Notice {
        reply: Some(answer),
        ..notice
    })
}

/// A family's reason, checked: one of [`REASONS`], and a note (required for `other`).
pub fn family_reason(reason: &str, note: Option<&str>, now: UnixMillis) -> Result<Reply, String> {
    if !REASONS.iter().any(|(r, _)| *r == reason) {
        return Err("reason: ill, medical, religious or other".into());
    }
    let note = crate::office::optional_text("note", note, MAX_NOTE)?;
    if reason == "other" && note.is_none() {
        return Err("note: please tell the school the reason".into());
    }
    Ok(Reply {
        reason: reason.to_owned(),
        note,
        replied_at: now,
    })
}

/// Why the office's decision could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error("no notice was sent for this student on this day")]
    NoNotice,
    #[error("the family has not replied yet")]
    NoReply,
    #[error("this reply was {0} already")]
    Decided(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The office accepts (the register gets the reason's code) or rejects the family's reply to
/// the notice of `student` on `day` (see the module docs, point 6).
pub fn decide(
    tx: &dyn Sql,
    who: &Principal,
    (student, day): (StudentId, NaiveDate),
    (accept, note): (bool, Option<&str>),
    rules: &Rules,
    now: UnixMillis,
) -> Result<Notice, DecideError> {
    access::student(tx, who, student)?;
    let notice = stored::get(tx, student, day)?.ok_or(DecideError::NoNotice)?;
    let reply = notice.reply.clone().ok_or(DecideError::NoReply)?;
    if let Some(d) = &notice.decision {
        return Err(DecideError::Decided(d.state.clone()));
    }
    let note =
        crate::office::optional_text("note", note, MAX_NOTE).map_err(DecideError::Invalid)?;
    if !accept && note.is_none() {
        return Err(DecideError::Invalid(
            "note: say why the family's reason is not accepted".into(),
        ));
    }
    let by_name = users::by_id(tx, who.user_id)?.display_name;
    if accept {
        let code = REASONS
            .iter()
            .find(|(r, _)| *r == reply.reason)
            .map_or("C", |(_, c)| *c);
        let why = match &note {
            Some(n) => format!(
                "Reported by the family ({}), accepted by {by_name}: {n}",
                reply.reason
            ),
            None => format!(
                "Reported by the family ({}), accepted by {by_name}",
                reply.reason
            ),
        };
        excuse(tx, who, (student, day), (code, &why), &by_name, rules, now)?;
    }
    let decision = Decision {
        state: if accept { "accepted" } else { "rejected" }.into(),
        by: who.username.clone(),
        at: now,
        note,
    };
    stored::decide(tx, student, day, &decision)?;
    audit::log(
        tx,
        Change {
            actor: &who.actor(),
            action: if accept {
                "notice.accept"
            } else {
                "notice.reject"
            },
            target: format!("notice:{student}:{day}"),
            before: Some(json!({"reason": reply.reason})),
            after: Some(json!(decision)),
            at: now,
        },
    )?;
    Ok(Notice {
        decision: Some(decision),
        ..notice
    })
}

/// Gives each of `student`'s sessions of `day` where they are not marked there `code`: an
/// amendment in a closed one, an excused mark carrying it in an open one.
fn excuse(
    tx: &dyn Sql,
    who: &Principal,
    (student, day): (StudentId, NaiveDate),
    (code, why): (&str, &str),
    by_name: &str,
    rules: &Rules,
    now: UnixMillis,
) -> Result<(), StoreError> {
    let classes = school::classes_of(tx, student)?;
    let mut slots = Vec::new();
    for class in &classes {
        slots.extend(timetable::slots_of_class(tx, *class)?);
    }
    for session in session_rosters::sessions_between(tx, (&classes, &slots), day, day)? {
        let roster = session_rosters::session_roster(tx, &session, rules, now)?;
        let Some(line) = roster.rows.iter().find(|l| l.student == student) else {
            continue;
        };
        if matches!(line.mark, Some(Mark::Present | Mark::Late)) {
            continue;
        }
        let (slot, target) = (
            session.slot.id,
            format!("session:{}/{day}/student:{student}", session.slot.id),
        );
        if roster.session.locked {
            let amendment = Amendment {
                code: code.into(),
                reason: why.into(),
                by_user: who.username.clone(),
                by_name: by_name.into(),
                by_role: who.role.as_str().into(),
                at: now,
            };
            register::amend(tx, (slot, day, student), &amendment)?;
            audit::log(
                tx,
                Change {
                    actor: &who.actor(),
                    action: "register.amend",
                    target,
                    before: Some(json!({"code": line.code})),
                    after: Some(json!(amendment)),
                    at: now,
                },
            )?;
        } else {
            let mark = Override {
                student,
                mark: Mark::Excused,
                reason: why.into(),
                set_by: who.actor(),
                set_at: now,
                code: Some(code.into()),
            };
            marks::set(tx, slot, day, &mark)?;
            audit::log(
                tx,
                Change {
                    actor: &who.actor(),
                    action: "mark.override",
                    target,
                    before: None,
                    after: Some(json!(mark)),
                    at: now,
                },
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
