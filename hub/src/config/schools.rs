//! `[[schools]]`: the schools one hub process serves, when it serves several of a district.
//! Each is a school of its own (students, classes, timetable, terms, codes, users, door units,
//! register: all in its schema of the shared PostgreSQL database) and names here only what
//! the process must know to reach it: its site (its door units' topics), its schema, its time
//! zone, the host names its web page and API answer on, and, when they are not the file's,
//! the attendance and retention rules it keeps, the webhooks its events go to, the e-mail
//! relay its digests leave by and the identity provider its staff sign in with. Everything
//! else is the file's, for all of them.
//!
//! Without any `[[schools]]`, the hub is one school's, as the rest of the file says: a single
//! school needs nothing here.

use std::collections::HashSet;

use rollcall_shared::{SiteId, SiteZone};
use serde::Deserialize;

use super::{
    AttendanceConfig, EmailConfig, MisConfig, NoticesConfig, OidcConfig, RetentionConfig,
    WebhookConfig,
};
use rollcall_store::postgres::{AddedSchool, DISTRICT_SCHEMA, Schema};

/// One school this process serves: its whole configuration, and the host names that reach it
/// (none: every request reaches it, as on a hub of one school).
#[derive(Clone, Debug)]
pub struct School {
    pub config: super::Config,
    pub hosts: Vec<String>,
}

/// One school of `[[schools]]`, as the file gives it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SchoolConfig {
    /// Its door units' site (their topics' `rollcall/v1/<site>/…`).
    pub site: SiteId,
    /// Its tables; the site with `-` and `.` written `_` when absent.
    #[serde(default)]
    pub schema: Option<Schema>,
    /// Its time zone; the file's `timezone` when absent.
    #[serde(default)]
    pub timezone: Option<SiteZone>,
    /// The host names (as in its URL, without a port) its web page and API answer on.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Its `[attendance]` rules; the file's when absent.
    #[serde(default)]
    pub attendance: Option<AttendanceConfig>,
    /// Its `[retention]` periods; the file's when absent.
    #[serde(default)]
    pub retention: Option<RetentionConfig>,
    /// Its `[[webhooks]]` receivers, in place of the file's; the file's when absent.
    #[serde(default)]
    pub webhooks: Option<Vec<WebhookConfig>>,
    /// Its `[email]` relay and digests, in place of the file's; the file's when absent.
    #[serde(default)]
    pub email: Option<EmailConfig>,
    /// Its staff's sign-in through its own identity provider (`[auth.oidc]`), in place of
    /// the file's; the file's when absent.
    #[serde(default)]
    pub oidc: Option<OidcConfig>,
    /// How its families are told of an absence (`[notices]`: its name, its pages, its SMS
    /// gateway), in place of the file's; the file's when absent.
    #[serde(default)]
    pub notices: Option<NoticesConfig>,
    /// Its MIS, for writing its register back (`[mis]`).
    pub mis: Option<MisConfig>,
}

impl SchoolConfig {
    /// The school at `site` answering at `hosts`, with everything else the file's.
    pub fn new(site: SiteId, hosts: Vec<String>) -> Self {
        Self {
            site,
            schema: None,
            timezone: None,
            hosts,
            attendance: None,
            retention: None,
            webhooks: None,
            email: None,
            oidc: None,
            notices: None,
            mis: None,
        }
    }

    /// The schema named, else the one its site gives.
    pub fn schema(&self) -> Result<Schema, String> {
        if let Some(schema) = &self.schema {
            return Ok(schema.clone());
        }
        let derived = self.site.as_str().replace(['-', '.'], "_");
        Schema::try_from(derived).map_err(|why| {
            format!(
                "schools: site {:?} gives no schema name ({why}); set its `schema`",
                self.site.as_str()
            )
        })
    }
}

impl TryFrom<&AddedSchool> for SchoolConfig {
    type Error = String;

    /// A school as the district's table keeps it ([`AddedSchool`]), each field checked.
    fn try_from(added: &AddedSchool) -> Result<Self, String> {
        let site = SiteId::new(added.site.clone()).map_err(|e| e.to_string())?;
        let schema = Schema::try_from(added.schema.clone())?;
        let timezone = SiteZone::named(&added.timezone).map_err(|e| e.to_string())?;
        Ok(Self {
            schema: Some(schema),
            timezone: Some(timezone),
            ..Self::new(site, added.hosts.clone())
        })
    }
}

/// What makes the list one a process can serve: each school told apart from the others by its
/// site, its schema and its host names, and each reachable.
pub fn validate(schools: &[SchoolConfig]) -> Result<(), String> {
    let (mut sites, mut schemas, mut hosts) = (HashSet::new(), HashSet::new(), HashSet::new());
    for school in schools {
        let site = school.site.as_str();
        if !school.site.is_valid() {
            return Err(format!(
                "schools: site {site:?} must be 1 to 48 characters of a-z, 0-9, '-', '_' or '.'"
            ));
        }
        if !sites.insert(site) {
            return Err(format!("schools: site {site:?} is listed twice"));
        }
        let schema = school.schema()?;
        if schema.is_public() {
            return Err(format!(
                "schools: {site:?} may not use the schema public: each school of a district \
                 has a schema named for it"
            ));
        }
        if schema.as_str() == DISTRICT_SCHEMA {
            return Err(format!(
                "schools: {site:?} may not use the schema {DISTRICT_SCHEMA}: it holds the \
                 district's list of schools; set its `schema`"
            ));
        }
        if !schemas.insert(schema.to_string()) {
            return Err(format!(
                "schools: schema {schema:?} is named by two schools ({site:?} is the second)"
            ));
        }
        if schools.len() > 1 && school.hosts.is_empty() {
            return Err(format!(
                "schools: {site:?} has no hosts: with several schools, a request finds its \
                 school by the host name it was sent to"
            ));
        }
        for host in &school.hosts {
            if !is_host_name(host) {
                return Err(format!(
                    "schools: {site:?}: host {host:?} is not a host name (lower-case letters, \
                     digits, '-' and '.', no port)"
                ));
            }
            if !hosts.insert(host.as_str()) {
                return Err(format!("schools: host {host:?} is given to two schools"));
            }
        }
        if let Some(retention) = &school.retention {
            retention
                .validate()
                .map_err(|e| format!("schools: {site:?}: {e}"))?;
        }
        if let Some(attendance) = &school.attendance {
            attendance
                .validate()
                .map_err(|e| format!("schools: {site:?}: {e}"))?;
        }
    }
    Ok(())
}

/// A DNS name as a browser sends it in `Host`, lower-case: labels of letters, digits and `-`.
fn is_host_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn school(site: &str, hosts: &[&str]) -> SchoolConfig {
        let hosts = hosts.iter().map(|h| h.to_string()).collect();
        SchoolConfig::new(SiteId::new(site).unwrap(), hosts)
    }

    #[test]
    fn a_schema_comes_from_the_site_unless_named() {
        assert_eq!(
            school("st-anne.north", &[]).schema().unwrap().as_str(),
            "st_anne_north"
        );
        let mut numbered = school("7oaks", &[]);
        assert!(numbered.schema().unwrap_err().contains("set its `schema`"));
        numbered.schema = Some(Schema::try_from("sevenoaks".to_owned()).unwrap());
        assert_eq!(numbered.schema().unwrap().as_str(), "sevenoaks");
    }

    #[test]
    fn schools_must_be_told_apart_and_reachable() {
        let ok = [
            school("north", &["north.example.org"]),
            school("south", &["south.example.org"]),
        ];
        validate(&ok).unwrap();
        let twice = [
            school("north", &["a.example"]),
            school("north", &["b.example"]),
        ];
        assert!(validate(&twice).unwrap_err().contains("listed twice"));
        let same_schema = [
            school("st-anne", &["a.example"]),
            school("st_anne", &["b.example"]),
        ];
        assert!(
            validate(&same_schema)
                .unwrap_err()
                .contains("named by two schools")
        );
        let same_host = [
            school("north", &["x.example"]),
            school("south", &["x.example"]),
        ];
        assert!(
            validate(&same_host)
                .unwrap_err()
                .contains("given to two schools")
        );
        let hostless = [school("north", &["x.example"]), school("south", &[])];
        assert!(validate(&hostless).unwrap_err().contains("has no hosts"));
        for bad in [
            "North.example",
            "x.example:8443",
            "-x.example",
            "x..example",
            "",
        ] {
            let one = [school("north", &[bad])];
            assert!(
                validate(&one).unwrap_err().contains("not a host name"),
                "{bad}"
            );
        }
        let mut public = school("north", &[]);
        public.schema = Some(Schema::public());
        assert!(validate(&[public]).unwrap_err().contains("schema public"));
        let districts = school("rollcall.district", &[]);
        let refused = validate(&[districts]).unwrap_err();
        assert!(
            refused.contains("the district's list of schools"),
            "{refused}"
        );
    }
}
