//! `[district]`: who manages the schools of a hub that serves several. A district admin is an
//! admin of one of those schools, named here as `site/username`: signed in at their school's
//! address as usual, they also read every school's figures and make any school's admins (a
//! new school's first, or one to replace an admin who left). Only those who may edit this
//! file can make one; a school's own admins cannot.

use std::collections::HashSet;

use serde::Deserialize;

use super::SchoolConfig;

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DistrictConfig {
    /// The district admins, each `site/username` of an admin of a school in `[[schools]]`.
    pub admins: Vec<String>,
}

impl DistrictConfig {
    pub fn validate(&self, schools: &[SchoolConfig]) -> Result<(), String> {
        if self.admins.is_empty() {
            return Ok(());
        }
        if schools.is_empty() {
            return Err(
                "district.admins go with [[schools]]: a hub of one school has its \
                        own admins only"
                    .into(),
            );
        }
        let sites: HashSet<&str> = schools.iter().map(|s| s.site.as_str()).collect();
        for admin in &self.admins {
            let Some((site, user)) = admin.split_once('/') else {
                return Err(format!(
                    "district.admins: {admin:?} is not site/username (e.g. \"north/alice\")"
                ));
            };
            if !sites.contains(site) {
                return Err(format!(
                    "district.admins: {admin:?} names a school not in [[schools]]"
                ));
            }
            if user.is_empty() || user.contains('/') {
                return Err(format!(
                    "district.admins: {admin:?} has no username after /"
                ));
            }
        }
        Ok(())
    }
}
