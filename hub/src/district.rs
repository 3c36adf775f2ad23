//! The district a hub of several schools serves (`[[schools]]`, `[district]`): which school
//! each site is, and who the district admins are. A district admin reads every school's
//! figures (from the one database all of them share), adds schools, which join those served
//! while the hub runs, and makes a school's admins; everything else they do, they do as an
//! admin of their own school.

use std::collections::{BTreeMap, HashSet};
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use rollcall_shared::SiteId;
use tokio::sync::{Notify, watch};

use crate::config::{DistrictConfig, SchoolConfig};
use rollcall_school::attendance::Rules;
use rollcall_school::principal::Principal;
use rollcall_store::Db;
use rollcall_store::postgres::Schema;

/// The schools of a hub's process, by site, and its district admins.
#[derive(Debug)]
pub struct District {
    /// `site/username` of each district admin.
    admins: HashSet<String>,
    /// The schools of the file's `[[schools]]`: a school added must be told apart from them.
    listed: Vec<SchoolConfig>,
    /// Each school served now: the file's from the start, and each added as the hub starts it.
    schools: RwLock<BTreeMap<String, School>>,
    /// How many schools are served: changed by each one added.
    served: watch::Sender<usize>,
    /// Wakes the task that starts added schools, so it looks now rather than at its next turn.
    look: Notify,
}

/// One school of the district this hub serves: its store, and how its sessions are marked.
#[derive(Debug, Clone)]
pub struct School {
    pub db: Db,
    pub rules: Rules,
}

impl District {
    /// The district of `config`, whose schools the file lists as `listed`; serving none yet.
    pub fn new(config: &DistrictConfig, listed: Vec<SchoolConfig>) -> Self {
        Self {
            admins: config.admins.iter().cloned().collect(),
            listed,
            schools: RwLock::default(),
            served: watch::Sender::new(0),
            look: Notify::new(),
        }
    }

    /// Serves `school` at `site` from now on.
    pub fn serve(&self, site: &SiteId, school: School) {
        let mut schools = self.schools.write().unwrap_or_else(PoisonError::into_inner);
        schools.insert(site.to_string(), school);
        self.served.send_replace(schools.len());
    }

    /// Each school this hub serves, by site, in order.
    pub fn schools(&self) -> Vec<(String, School)> {
        let schools = self.schools.read().unwrap_or_else(PoisonError::into_inner);
        schools
            .iter()
            .map(|(site, s)| (site.clone(), s.clone()))
            .collect()
    }

    /// The schools the file lists.
    pub fn listed(&self) -> &[SchoolConfig] {
        &self.listed
    }

    /// Whether `who`, signed in at school `site`, is a district admin: an admin there whom
    /// `[district] admins` names.
    pub fn admits(&self, site: &SiteId, who: &Principal) -> bool {
        who.is_admin() && self.admins.contains(&format!("{site}/{}", who.username))
    }

    /// The store of the school whose site is `site`, when this hub serves it.
    pub fn school(&self, site: &str) -> Option<Db> {
        let schools = self.schools.read().unwrap_or_else(PoisonError::into_inner);
        schools.get(site).map(|school| school.db.clone())
    }

    /// The site of the school whose tables are in `schema`, when this hub serves it.
    pub fn site_of(&self, schema: &Schema) -> Option<String> {
        let schools = self.schools.read().unwrap_or_else(PoisonError::into_inner);
        schools
            .iter()
            .find(|(_, school)| school.db.schema() == Some(schema))
            .map(|(site, _)| site.clone())
    }

    /// Has the task that starts added schools look at the district's table now.
    pub fn look_now(&self) {
        self.look.notify_one();
    }

    /// Waits for a call of [`District::look_now`].
    pub async fn told_to_look(&self) {
        self.look.notified().await
    }

    /// Whether this hub serves `site` within `patience`, waiting for it to start.
    pub async fn serves_within(&self, site: &str, patience: Duration) -> bool {
        let mut served = self.served.subscribe();
        let started = served.wait_for(|_| self.school(site).is_some());
        tokio::time::timeout(patience, started).await.is_ok()
    }
}
