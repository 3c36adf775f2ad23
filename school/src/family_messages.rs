//! The words of the messages a family is sent, in their language (issue 57, point 3).
//!
//! - A message is a [`Kind`] (the first-day absence notice; the "arrived after all" note) in a
//!   language, with an e-mail subject, an e-mail body and an SMS text ([`Template`]).
//! - Its text may name only the placeholders of its kind ([`Kind::placeholders`]): the
//!   school's name, the child's first name, the date, and the reply link (a notice) or the
//!   time they arrived (a note). Anything else between braces, an unclosed brace, an empty or
//!   over-long text is refused where the text enters ([`Template::checked`]), saying which and
//!   where; a message never carries a face, a photo or a record's id, because no placeholder
//!   gives one.
//! - English and Welsh are built in, each complete ([`built_in`]); a school may write its own
//!   for any language. A contact's preferred language picks the template ([`choose`]): the
//!   whole tag (`cy-GB`), then its language (`cy`), then English.
//!
//! - An admin writes the school's own words for a kind and language ([`set`], checked and
//!   audited), sees every template in force ([`catalogue`]), or goes back to the built-in
//!   words ([`reset`]). [`words`] is what a contact is sent.
//!
//! Rendering ([`Template::render`]) fills in values already made safe for the channel; dates
//! are written in the message's language ([`date_in`]).

use std::fmt;

use chrono::{Datelike, NaiveDate};
use rollcall_shared::UnixMillis;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::guardians;
use rollcall_store::audit::{self, Change};
use rollcall_store::family_messages::{self as stored, Stored};
use rollcall_store::{Sql, StoreError};

/// Longest e-mail subject, in characters.
pub const MAX_SUBJECT: usize = 200;
/// Longest e-mail body, in characters.
pub const MAX_EMAIL: usize = 5_000;
/// Longest SMS text before its values are filled in, in characters (three SMS parts).
pub const MAX_SMS: usize = 459;
/// The language used when a contact's is not one the school has words for.
pub const FALLBACK_LANGUAGE: &str = "en";

/// Which message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The first-day notice: the child is not in school and the school has no reason.
    Absence,
    /// The child was marked after the notice was sent.
    Arrived,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Absence, Kind::Arrived];

    /// The placeholders its text may use, without braces.
    pub fn placeholders(self) -> &'static [&'static str] {
        match self {
            Kind::Absence => &["school", "first_name", "date", "reply_link"],
            Kind::Arrived => &["school", "first_name", "date", "time"],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Absence => "absence",
            Kind::Arrived => "arrived",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The words of one kind of message in one language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub subject: String,
    pub email: String,
    pub sms: String,
}

/// Which part of a template a refusal is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Subject,
    Email,
    Sms,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Subject => "subject",
            Part::Email => "email",
            Part::Sms => "sms",
        })
    }
}

/// Why a template's text cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("{part}: {{{name}}} is not a placeholder of this message (it may use {allowed})")]
    UnknownPlaceholder {
        part: Part,
        name: String,
        allowed: String,
    },
    #[error("{part}: a {{ at character {at} is not closed by }}")]
    Unclosed { part: Part, at: usize },
    #[error("{part}: a }} at character {at} closes nothing")]
    Stray { part: Part, at: usize },
    #[error("{part} is empty")]
    Empty { part: Part },
    #[error("{part} is {len} characters, the most is {max}")]
    TooLong { part: Part, len: usize, max: usize },
    #[error("the absence notice's {part} must give the family the reply link, {{reply_link}}")]
    NoReplyLink { part: Part },
}

/// The values a message is filled in with, already safe for its channel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Values {
    pub school: String,
    pub first_name: String,
    /// The day, as the family reads it ("Monday 7 December 2026").
    pub date: String,
    pub reply_link: String,
    /// When the child arrived, on the school's clock ("09:42").
    pub time: String,
}

impl Values {
    fn get(&self, name: &str) -> &str {
        match name {
            "school" => &self.school,
            "first_name" => &self.first_name,
            "date" => &self.date,
            "reply_link" => &self.reply_link,
            "time" => &self.time,
            _ => "",
        }
    }
}

/// A template's text, piece by piece.
enum Piece<'a> {
    Text(&'a str),
    Placeholder(&'a str),
}

/// `text` cut into plain text and placeholders, or where its braces go wrong.
fn pieces(part: Part, text: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut at = 0;
    loop {
        let open = rest.find('{');
        let close = rest.find('}');
        match (open, close) {
            (None, None) => {
                if !rest.is_empty() {
                    out.push(Piece::Text(rest));
                }
                return Ok(out);
            }
            (Some(o), Some(c)) if o < c => {
                if rest[o + 1..c].contains('{') {
                    let at = at + text_chars(rest, o);
                    return Err(TemplateError::Unclosed { part, at });
                }
                out.push(Piece::Text(&rest[..o]));
                out.push(Piece::Placeholder(&rest[o + 1..c]));
                at += text_chars(rest, c + 1);
                rest = &rest[c + 1..];
            }
            (Some(o), None) => {
                let at = at + text_chars(rest, o);
                return Err(TemplateError::Unclosed { part, at });
            }
            (_, Some(c)) => {
                let at = at + text_chars(rest, c);
                return Err(TemplateError::Stray { part, at });
            }
        }
    }
}

/// How many characters `text` has before byte `end`, counting from 1 at the next.
fn text_chars(text: &str, end: usize) -> usize {
    text[..end].chars().count() + 1
}

impl Template {
    /// The template with its texts trimmed, if each part is usable for `kind` (see the
    /// module docs).
    pub fn checked(self, kind: Kind) -> Result<Template, TemplateError> {
        let parts = [
            (Part::Subject, self.subject.trim(), MAX_SUBJECT),
            (Part::Email, self.email.trim(), MAX_EMAIL),
            (Part::Sms, self.sms.trim(), MAX_SMS),
        ];
        for (part, text, max) in parts {
            check(kind, part, text, max)?;
        }
        Ok(Template {
            subject: self.subject.trim().to_owned(),
            email: self.email.trim().to_owned(),
            sms: self.sms.trim().to_owned(),
        })
    }

    /// The three parts with `values` filled in.
    pub fn render(&self, values: &Values) -> Template {
        Template {
            subject: fill(&self.subject, values),
            email: fill(&self.email, values),
            sms: fill(&self.sms, values),
        }
    }
}

fn check(kind: Kind, part: Part, text: &str, max: usize) -> Result<(), TemplateError> {
    if text.is_empty() {
        return Err(TemplateError::Empty { part });
    }
    let len = text.chars().count();
    if len > max {
        return Err(TemplateError::TooLong { part, len, max });
    }
    let allowed = kind.placeholders();
    let mut names = Vec::new();
    for piece in pieces(part, text)? {
        if let Piece::Placeholder(name) = piece {
            if !allowed.contains(&name) {
                let allowed = allowed
                    .iter()
                    .map(|a| format!("{{{a}}}"))
                    .collect::<Vec<_>>();
                return Err(TemplateError::UnknownPlaceholder {
                    part,
                    name: name.chars().take(40).collect(),
                    allowed: allowed.join(", "),
                });
            }
            names.push(name);
        }
    }
    let needs_link = kind == Kind::Absence && part != Part::Subject;
    if needs_link && !names.contains(&"reply_link") {
        return Err(TemplateError::NoReplyLink { part });
    }
    Ok(())
}

/// `text` with its placeholders filled in (a text that does not check comes back as it is:
/// only checked templates are stored).
fn fill(text: &str, values: &Values) -> String {
    let Ok(pieces) = pieces(Part::Email, text) else {
        return text.to_owned();
    };
    pieces
        .into_iter()
        .map(|p| match p {
            Piece::Text(t) => t,
            Piece::Placeholder(name) => values.get(name),
        })
        .collect()
}

/// The languages built in, each complete for every kind.
pub const BUILT_IN: [&str; 2] = ["en", "cy"];

/// The built-in words of `kind` in `language` (`en` or `cy`).
pub fn built_in(language: &str, kind: Kind) -> Option<Template> {
    let t = |subject: &str, email: &str, sms: &str| Template {
        subject: subject.into(),
        email: email.into(),
        sms: sms.into(),
    };
    Some(match (language, kind) {
        ("en", Kind::Absence) => t(
            "{first_name} is not in school today",
            "Dear parent or carer,\n\n\
             {first_name} is not in school today, {date}, and we have not been told why.\n\n\
             Please tell us the reason here (the link works once, until midnight tonight):\n\
             {reply_link}\n\n\
             If {first_name} is on the way, thank you: there is nothing more to do.\n\n\
             {school}",
            "{school}: {first_name} is not in school today ({date}) and we do not know why. \
             Please tell us: {reply_link}",
        ),
        ("en", Kind::Arrived) => t(
            "{first_name} has arrived at school",
            "Dear parent or carer,\n\n\
             {first_name} arrived at school at {time} today, {date}. You need do nothing more \
             about this morning's message.\n\n\
             {school}",
            "{school}: {first_name} arrived at school at {time} today ({date}). Thank you.",
        ),
        ("cy", Kind::Absence) => t(
            "Nid yw {first_name} yn yr ysgol heddiw",
            "Annwyl riant neu ofalwr,\n\n\
             Nid yw {first_name} yn yr ysgol heddiw, {date}, ac nid ydym wedi cael gwybod \
             pam.\n\n\
             Rhowch y rheswm i ni yma (mae'r ddolen yn gweithio unwaith, tan hanner nos \
             heno):\n{reply_link}\n\n\
             Os yw {first_name} ar y ffordd, diolch: does dim angen gwneud dim mwy.\n\n\
             {school}",
            "{school}: nid yw {first_name} yn yr ysgol heddiw ({date}) ac ni wyddom pam. \
             Rhowch wybod i ni: {reply_link}",
        ),
        ("cy", Kind::Arrived) => t(
            "Mae {first_name} wedi cyrraedd yr ysgol",
            "Annwyl riant neu ofalwr,\n\n\
             Cyrhaeddodd {first_name} yr ysgol am {time} heddiw, {date}. Does dim angen i chi \
             wneud dim mwy am neges y bore yma.\n\n\
             {school}",
            "{school}: cyrhaeddodd {first_name} yr ysgol am {time} heddiw ({date}). Diolch.",
        ),
        _ => return None,
    })
}

/// Which of `languages` (those the school has words for) a contact whose preferred language
/// is `tag` is written to in: the whole tag, then its language, then [`FALLBACK_LANGUAGE`].
pub fn choose<'a>(tag: &str, languages: &[&'a str]) -> &'a str {
    let tag = tag.trim();
    let primary = tag.split(['-', '_']).next().unwrap_or(tag);
    let found = |want: &str| {
        languages
            .iter()
            .find(|l| l.eq_ignore_ascii_case(want))
            .copied()
    };
    found(tag)
        .or_else(|| found(primary))
        .or_else(|| found(FALLBACK_LANGUAGE))
        .unwrap_or(FALLBACK_LANGUAGE)
}

/// `day` as a family reads it in `language` ("Monday 7 December 2026", "Dydd Llun 7 Rhagfyr
/// 2026"); English for a language without its own.
pub fn date_in(language: &str, day: NaiveDate) -> String {
    const CY_DAYS: [&str; 7] = [
        "Dydd Llun",
        "Dydd Mawrth",
        "Dydd Mercher",
        "Dydd Iau",
        "Dydd Gwener",
        "Dydd Sadwrn",
        "Dydd Sul",
    ];
    const CY_MONTHS: [&str; 12] = [
        "Ionawr",
        "Chwefror",
        "Mawrth",
        "Ebrill",
        "Mai",
        "Mehefin",
        "Gorffennaf",
        "Awst",
        "Medi",
        "Hydref",
        "Tachwedd",
        "Rhagfyr",
    ];
    match choose(language, &BUILT_IN) {
        "cy" => {
            let weekday = CY_DAYS[day.weekday().num_days_from_monday() as usize];
            let month = CY_MONTHS[day.month0() as usize];
            format!("{weekday} {} {month} {}", day.day(), day.year())
        }
        _ => day.format("%A %-d %B %Y").to_string(),
    }
}

/// Why the school's words could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("the school has no words of its own for this message in {0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A template in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InForce {
    pub kind: Kind,
    pub language: String,
    #[serde(flatten)]
    pub template: Template,
    /// Whether the school wrote it (else the built-in words).
    pub edited: bool,
    /// Whether there are built-in words to go back to.
    pub built_in: bool,
    pub updated_by: Option<String>,
    pub updated_at: Option<UnixMillis>,
}

/// Every template in force: each kind in every built-in language and every language the
/// school wrote, by kind then language.
pub fn catalogue(conn: &dyn Sql) -> Result<Vec<InForce>, StoreError> {
    let school = stored::list(conn)?;
    let mut out = Vec::new();
    for kind in Kind::ALL {
        let mut languages: Vec<String> = BUILT_IN.iter().map(|l| (*l).to_owned()).collect();
        let own = school.iter().filter(|t| t.kind == kind.as_str());
        languages.extend(own.map(|t| t.language.clone()));
        languages.sort();
        languages.dedup();
        for language in languages {
            let own = school
                .iter()
                .find(|t| t.kind == kind.as_str() && t.language == language);
            let built = built_in(&language, kind);
            let template = match (own, &built) {
                (Some(t), _) => Template {
                    subject: t.subject.clone(),
                    email: t.email.clone(),
                    sms: t.sms.clone(),
                },
                (None, Some(b)) => b.clone(),
                (None, None) => continue,
            };
            out.push(InForce {
                kind,
                language,
                template,
                edited: own.is_some(),
                built_in: built.is_some(),
                updated_by: own.map(|t| t.updated_by.clone()),
                updated_at: own.map(|t| t.updated_at),
            });
        }
    }
    Ok(out)
}

/// The words `kind` is sent in to a contact whose preferred language is `tag`: the language
/// chosen ([`choose`] among those in force) and its template.
pub fn words(conn: &dyn Sql, kind: Kind, tag: &str) -> Result<(String, Template), StoreError> {
    let in_force: Vec<InForce> = catalogue(conn)?
        .into_iter()
        .filter(|t| t.kind == kind)
        .collect();
    let languages: Vec<&str> = in_force.iter().map(|t| t.language.as_str()).collect();
    let language = choose(tag, &languages).to_owned();
    let template = in_force
        .iter()
        .find(|t| t.language == language)
        .map(|t| t.template.clone())
        .or_else(|| built_in(FALLBACK_LANGUAGE, kind))
        .unwrap_or_else(|| Template {
            subject: String::new(),
            email: String::new(),
            sms: String::new(),
        });
    Ok((language, template))
}

/// Stores the school's words for `kind` in `language`, checked; audited with the texts.
pub fn set(
    tx: &dyn Sql,
    kind: Kind,
    language: &str,
    template: Template,
    actor: &str,
    now: UnixMillis,
) -> Result<InForce, MessageError> {
    let language = guardians::language(language).map_err(MessageError::Invalid)?;
    let template = template.checked(kind)?;
    let row = Stored {
        kind: kind.as_str().to_owned(),
        language: language.clone(),
        subject: template.subject.clone(),
        email: template.email.clone(),
        sms: template.sms.clone(),
        updated_by: actor.to_owned(),
        updated_at: now,
    };
    stored::put(tx, &row)?;
    audit::log(
        tx,
        Change {
            actor,
            action: "family_message.set",
            target: format!("family_message:{}:{language}", kind.as_str()),
            before: None,
            after: Some(json!(template)),
            at: now,
        },
    )?;
    Ok(InForce {
        kind,
        built_in: built_in(&language, kind).is_some(),
        language,
        template,
        edited: true,
        updated_by: Some(actor.to_owned()),
        updated_at: Some(now),
    })
}

/// Goes back to the built-in words of `kind` in `language` (a language without any is no
/// longer written in); audited.
pub fn reset(
    tx: &dyn Sql,
    kind: Kind,
    language: &str,
    actor: &str,
    now: UnixMillis,
) -> Result<(), MessageError> {
    let language = guardians::language(language).map_err(MessageError::Invalid)?;
    if !stored::delete(tx, kind.as_str(), &language)? {
        return Err(MessageError::NotFound(language));
    }
    audit::log(
        tx,
        Change {
            actor,
            action: "family_message.reset",
            target: format!("family_message:{}:{language}", kind.as_str()),
            before: None,
            after: None,
            at: now,
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values {
        Values {
            school: "Ysgol y Bryn".into(),
            first_name: "Ada".into(),
            date: "Monday 7 December 2026".into(),
            reply_link: "https://hub.school.example/#/reply/abc".into(),
            time: "09:42".into(),
        }
    }

    #[test]
    fn every_built_in_template_is_complete_checks_and_fills_every_placeholder() {
        for language in BUILT_IN {
            for kind in Kind::ALL {
                let t = built_in(language, kind).unwrap();
                let checked = t.clone().checked(kind).unwrap();
                assert_eq!(checked, t, "{language} {kind:?} is stored as written");
                let filled = t.render(&values());
                for part in [&filled.subject, &filled.email, &filled.sms] {
                    assert!(!part.contains('{') && !part.contains('}'), "{part}");
                }
                assert!(filled.email.contains("Ada") && filled.sms.contains("Ysgol y Bryn"));
                if kind == Kind::Absence {
                    assert!(
                        filled
                            .sms
                            .contains("https://hub.school.example/#/reply/abc")
                    );
                } else {
                    assert!(filled.email.contains("09:42"));
                }
                let sms = filled.sms.chars().count();
                assert!(
                    sms <= 320,
                    "{language} {kind:?}: an SMS of {sms} characters"
                );
            }
        }
        assert_eq!(built_in("fr", Kind::Absence), None);
    }

    #[test]
    fn a_template_naming_what_is_not_a_placeholder_or_with_broken_braces_is_refused() {
        let absence = built_in("en", Kind::Absence).unwrap();
        let with = |sms: &str| Template {
            sms: sms.into(),
            ..absence.clone()
        };
        let err = with("{first_name}: {record_id} {reply_link}")
            .checked(Kind::Absence)
            .unwrap_err();
        assert!(
            matches!(&err, TemplateError::UnknownPlaceholder { name, part: Part::Sms, .. } if name == "record_id"),
            "{err}"
        );
        assert!(
            err.to_string().contains("{reply_link}"),
            "says what may be used: {err}"
        );
        assert_eq!(
            with("Hello {first_name {reply_link}").checked(Kind::Absence),
            Err(TemplateError::Unclosed {
                part: Part::Sms,
                at: 7
            })
        );
        assert_eq!(
            with("Hello } {reply_link}").checked(Kind::Absence),
            Err(TemplateError::Stray {
                part: Part::Sms,
                at: 7
            })
        );
        assert_eq!(
            with("Ada is away").checked(Kind::Absence),
            Err(TemplateError::NoReplyLink { part: Part::Sms })
        );
        assert_eq!(
            with("  ").checked(Kind::Absence),
            Err(TemplateError::Empty { part: Part::Sms })
        );
        let long = format!("{{reply_link}}{}", "x".repeat(MAX_SMS));
        assert!(matches!(
            with(&long).checked(Kind::Absence),
            Err(TemplateError::TooLong {
                part: Part::Sms,
                ..
            })
        ));
        let arrived = built_in("en", Kind::Arrived).unwrap();
        let linked = Template {
            sms: "{reply_link}".into(),
            ..arrived
        };
        assert!(
            linked.checked(Kind::Arrived).is_err(),
            "an arrival note has no reply link"
        );
    }

    #[test]
    fn dates_are_written_in_the_message_s_language() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(date_in("en", day), "Monday 7 December 2026");
        assert_eq!(date_in("cy-GB", day), "Dydd Llun 7 Rhagfyr 2026");
        assert_eq!(date_in("pl", day), "Monday 7 December 2026");
    }

    #[test]
    fn the_school_s_words_replace_the_built_in_ones_and_a_language_of_its_own_is_chosen() {
        rollcall_store::engines::each(|db| {
            let polish = Template {
                subject: "{first_name} nie ma dziś w szkole".into(),
                email: "{first_name} nie ma dziś ({date}) w szkole. {reply_link}\n{school}".into(),
                sms: "{school}: {first_name} nie ma dziś w szkole. {reply_link}".into(),
            };
            db.write_blocking(|tx| {
                let now = UnixMillis(1);
                let set_pl = set(tx, Kind::Absence, "PL", polish.clone(), "user:1", now)?;
                assert_eq!((set_pl.language.as_str(), set_pl.built_in), ("pl", false));
                let (language, words_pl) = words(tx, Kind::Absence, "pl-PL")?;
                assert_eq!((language.as_str(), &words_pl), ("pl", &polish));
                assert_eq!(
                    words(tx, Kind::Arrived, "pl")?.0,
                    "en",
                    "no Polish note yet"
                );
                let bad = Template {
                    sms: "{child}".into(),
                    ..polish.clone()
                };
                let refused = set(tx, Kind::Absence, "pl", bad, "user:1", now).unwrap_err();
                assert!(refused.to_string().contains("{child}"), "{refused}");
                assert!(set(tx, Kind::Absence, "not a tag", polish.clone(), "u", now).is_err());
                let listed = catalogue(tx)?;
                assert_eq!(listed.len(), 5, "en, cy and pl absence; en and cy arrived");
                reset(tx, Kind::Absence, "pl", "user:1", now)?;
                assert!(matches!(
                    reset(tx, Kind::Absence, "pl", "user:1", now),
                    Err(MessageError::NotFound(_))
                ));
                assert_eq!(words(tx, Kind::Absence, "pl")?.0, "en");
                Ok::<_, MessageError>(())
            })
            .unwrap();
        });
    }

    #[test]
    fn a_contact_is_written_to_in_their_language_else_its_family_else_english() {
        let school = ["en", "cy", "pl"];
        assert_eq!(choose("cy", &school), "cy");
        assert_eq!(choose("cy-GB", &school), "cy");
        assert_eq!(choose("PL", &school), "pl");
        assert_eq!(choose("pt-BR", &school), "en");
        assert_eq!(choose("", &school), "en");
        assert_eq!(choose("cy", &["pl"]), "en", "English is always there");
    }
}
