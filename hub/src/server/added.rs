//! The schools a district admin adds while the hubs run (`POST /district/schools`). The
//! district's table in the shared database lists them ([`AddedSchool`]); each hub reads it
//! when it starts, again every few seconds, and at once when its own API added one. For each
//! school it does not serve yet, it does what it does for a school of `[[schools]]` at
//! start: opens its schema, starts its tasks, and hands it its door units' messages and its
//! host names' requests. A row the hub cannot serve (a site or a host name the file now
//! gives to another school, a time zone this system does not know) is said once in the log
//! and left; the other schools go on.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::started::{Common, join_all};
use super::stores::open_school;
use crate::config::{Config, SchoolConfig};
use crate::district::District;
use crate::http::Schools;
use crate::ingest::route::Intakes;
use rollcall_store::Db;
use rollcall_store::postgres::AddedSchool;

/// How often a hub looks for schools added on another hub.
const LOOK_EVERY: Duration = Duration::from_secs(5);

/// What starting an added school takes, and the tasks of those started.
pub(super) struct Adding {
    common: Common,
    /// The file's configuration: an added school takes its settings.
    file: Config,
    /// The first school's store: its pool reaches the district's table and every schema.
    first: Db,
    schools: Arc<Schools>,
    intakes: Intakes,
    district: Arc<District>,
    tasks: JoinSet<()>,
    /// Each site that could not be served, and why, as last said in the log.
    refused: HashMap<String, String>,
}

impl Adding {
    pub fn new(
        common: Common,
        file: &Config,
        first: Db,
        schools: &Arc<Schools>,
        intakes: &Intakes,
        district: Arc<District>,
    ) -> Self {
        Self {
            common,
            file: file.clone(),
            first,
            schools: schools.clone(),
            intakes: intakes.clone(),
            district,
            tasks: JoinSet::new(),
            refused: HashMap::new(),
        }
    }

    /// Looks at the district's table every [`LOOK_EVERY`] and when told to, until `stop`;
    /// then waits for the added schools' tasks.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                _ = self.district.told_to_look() => {}
                _ = tokio::time::sleep(LOOK_EVERY) => {}
            }
            self.look().await;
        }
        join_all(self.tasks).await;
    }

    /// Starts each school of the district's table this hub does not serve yet.
    pub async fn look(&mut self) {
        let added = match self.first.added_schools().await {
            Ok(added) => added,
            Err(e) => return tracing::warn!("cannot read the district's added schools: {e}"),
        };
        for school in added {
            if self.district.school(&school.site).is_some() {
                continue;
            }
            match self.start(&school).await {
                Ok(()) => {
                    self.refused.remove(&school.site);
                    tracing::info!(site = %school.site, by = %school.added_by, "serving a school a district admin added");
                }
                Err(why) => {
                    if self.refused.get(&school.site) != Some(&why) {
                        tracing::error!(site = %school.site, "cannot serve an added school: {why}");
                        self.refused.insert(school.site.clone(), why);
                    }
                }
            }
        }
    }

    /// Serves `added` from now on, as a school of the file's `[[schools]]` is served.
    async fn start(&mut self, added: &AddedSchool) -> Result<(), String> {
        let school = SchoolConfig::try_from(added)?;
        let mut all = self.district.listed().to_vec();
        all.push(school.clone());
        crate::config::schools::validate(&all)?;
        let school = self.file.school_of(&school).map_err(|e| e.to_string())?;
        let db = open_school(&self.first, &school.config).await;
        let db = db.map_err(|e| e.to_string())?;
        let started = self.common.start(school, db, &mut self.tasks).await;
        let started = started.map_err(|e| e.to_string())?;
        self.intakes.add(started.intake());
        self.schools.add(started.hosts.clone(), started.hub.clone());
        let site = &started.parts.config.site;
        self.district.serve(site, started.district_school());
        Ok(())
    }
}
