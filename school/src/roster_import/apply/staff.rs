//! Teachers and administrators as staff: each teacher the file names is also a member of
//! staff, and so is each administrator (OneRoster's `administrator`, `siteAdministrator`,
//! `principal`: no user of the hub), by their
//! personnel code (OneRoster's `identifier`, else their `sourcedId`), so the Staff page and the
//! roll call know them without typing them in again. Matched by the file's id first, then by
//! code (a member the office added by hand is linked, not doubled). A teacher whose code cannot
//! be one (too long, spaces) or is another member's is listed and left out; never an error that
//! stops the students' import. A teacher the file no longer has stays on the Staff page: a
//! person decides when someone has left.

use uuid::Uuid;

use super::Planner;
use crate::roster_import::plan::Action;
use crate::roster_import::roster::{Person, Role};
use crate::staff::Details;
use rollcall_store::StoreError;
use rollcall_store::staff::{self, StaffMember};

impl<'a> Planner<'a> {
    pub(super) fn staff(&mut self) -> Result<(), StoreError> {
        let mut held = staff::list(self.sql)?;
        for p in &self.roster.people {
            let is_teacher = p.role == Some(Role::Teacher)
                || (p.role.is_none() && self.teachers.contains_key(p.source_id.as_str()));
            if is_teacher {
                self.member(p, &mut held)?;
            }
        }
        for p in &self.roster.administrators {
            self.member(p, &mut held)?;
        }
        Ok(())
    }

    fn member(&mut self, p: &Person, held: &mut Vec<StaffMember>) -> Result<(), StoreError> {
        let code = p.identifier.clone().unwrap_or_else(|| p.source_id.clone());
        let details = Details {
            code,
            name: p.name.clone(),
            email: p.email.clone(),
            active: true,
            ..Details::default()
        };
        let left_out = |why: String| (Action::Unchanged, format!("not on the Staff page: {why}"));
        let checked = match details.checked() {
            Ok(c) => c,
            Err(why) => {
                let (action, why) = left_out(why);
                self.plan.push("staff", &p.source_id, &p.name, action, &why);
                return Ok(());
            }
        };
        let by_ref = held
            .iter()
            .position(|m| m.external_ref.as_deref() == Some(p.source_id.as_str()));
        let by_code = held
            .iter()
            .position(|m| m.code == checked.code() && m.external_ref.is_none());
        let taken = held.iter().any(|m| {
            m.code == checked.code() && m.external_ref.as_deref() != Some(p.source_id.as_str())
        });
        let (action, why) = match by_ref.or(by_code) {
            Some(i) => {
                let was = held[i].clone();
                let now = StaffMember {
                    code: checked.code().to_owned(),
                    name: p.name.clone(),
                    email: p.email.clone().or(was.email.clone()),
                    external_ref: Some(p.source_id.clone()),
                    ..was.clone()
                };
                if now == was {
                    (Action::Unchanged, "as on the Staff page".to_owned())
                } else if by_ref.is_none() {
                    self.save(&now, false)?;
                    held[i] = now;
                    (
                        Action::Update,
                        format!("linked to the member with code {}", was.code),
                    )
                } else if now.code != was.code && taken {
                    left_out(format!("code {} is another member's", now.code))
                } else {
                    self.save(&now, false)?;
                    held[i] = now;
                    (Action::Update, "name, code or e-mail changed".to_owned())
                }
            }
            None if taken => left_out(format!("code {} is another member's", checked.code())),
            None => {
                let member = StaffMember {
                    external_ref: Some(p.source_id.clone()),
                    ..checked.into_member(Uuid::now_v7(), self.now)
                };
                self.save(&member, true)?;
                held.push(member);
                (Action::Create, "new member of staff".to_owned())
            }
        };
        self.plan.push("staff", &p.source_id, &p.name, action, &why);
        Ok(())
    }

    fn save(&self, member: &StaffMember, new: bool) -> Result<(), StoreError> {
        match (self.apply(), new) {
            (false, _) => Ok(()),
            (true, true) => staff::insert(self.sql, member),
            (true, false) => staff::update(self.sql, member),
        }
    }
}
