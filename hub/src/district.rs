//! The district a hub of several schools serves (`[[schools]]`, `[district]`): which school
//! each site is, and who the district admins are. A district admin reads every school's
//! figures (from the one database all of them share) and makes a school's admins; everything
//! else they do, they do as an admin of their own school.

use std::collections::{BTreeMap, HashSet};

use rollcall_shared::SiteId;

use crate::attendance::Rules;
use crate::auth::Principal;
use crate::config::DistrictConfig;
use crate::store::Db;
use crate::store::postgres::Schema;

/// The schools of a hub's process, by site, and its district admins.
#[derive(Debug)]
pub struct District {
    /// `site/username` of each district admin.
    admins: HashSet<String>,
    schools: BTreeMap<String, School>,
}

/// One school of the district this hub serves: its store, and how its sessions are marked.
#[derive(Debug, Clone)]
pub struct School {
    pub db: Db,
    pub rules: Rules,
}

impl District {
    pub fn new(
        config: &DistrictConfig,
        schools: impl IntoIterator<Item = (SiteId, School)>,
    ) -> Self {
        Self {
            admins: config.admins.iter().cloned().collect(),
            schools: schools
                .into_iter()
                .map(|(site, school)| (site.to_string(), school))
                .collect(),
        }
    }

    /// Each school this hub serves, by site, in order.
    pub fn schools(&self) -> impl Iterator<Item = (&str, &School)> {
        self.schools
            .iter()
            .map(|(site, school)| (site.as_str(), school))
    }

    /// Whether `who`, signed in at school `site`, is a district admin: an admin there whom
    /// `[district] admins` names.
    pub fn admits(&self, site: &SiteId, who: &Principal) -> bool {
        who.is_admin() && self.admins.contains(&format!("{site}/{}", who.username))
    }

    /// The store of the school whose site is `site`, when this hub serves it.
    pub fn school(&self, site: &str) -> Option<&Db> {
        self.schools.get(site).map(|school| &school.db)
    }

    /// The site of the school whose tables are in `schema`, when this hub serves it.
    pub fn site_of(&self, schema: &Schema) -> Option<&str> {
        self.schools
            .iter()
            .find(|(_, school)| school.db.schema() == Some(schema))
            .map(|(site, _)| site.as_str())
    }
}
