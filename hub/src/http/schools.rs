//! Which school a request is for. A hub of one school answers every request as that school's,
//! whatever host it was sent to. A hub serving several (`[[schools]]`) finds the school by the
//! host name the client addressed (HTTP/1.1's `Host`, HTTP/2's `:authority`), so each school's
//! web page and API have an address of their own, and a request to an address no school has
//! is answered 404 before anything else is read.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, PoisonError, RwLock};

use crate::http_state::Hub;

/// The schools the process serves, by the host names that reach them; a district admin's
/// new school joins them while the hub runs ([`Schools::add`]).
#[derive(Debug)]
pub struct Schools {
    /// The first school given: the one a hub of one school answers as, and whose `[http]`
    /// settings (the file's, shared by all) bound every connection.
    first: Arc<Hub>,
    served: RwLock<Served>,
}

#[derive(Debug, Default)]
struct Served {
    /// Each host name (lower-case, no port) and its school; empty on a hub of one school.
    by_host: HashMap<String, Arc<Hub>>,
    /// Each school by its site.
    by_site: BTreeMap<String, Arc<Hub>>,
}

impl Schools {
    /// One school, answering every request.
    pub fn one(hub: Arc<Hub>) -> Self {
        let one = Self {
            first: hub.clone(),
            served: RwLock::default(),
        };
        one.add(Vec::new(), hub);
        one
    }

    /// Several schools, each with the host names that reach it; `None` when there is none.
    /// A single school given without hosts answers every request, as [`Schools::one`].
    pub fn by_host(schools: impl IntoIterator<Item = (Vec<String>, Arc<Hub>)>) -> Option<Self> {
        let mut schools = schools.into_iter().peekable();
        let first = schools.peek()?.1.clone();
        let all = Self {
            first,
            served: RwLock::default(),
        };
        schools.for_each(|(hosts, hub)| all.add(hosts, hub));
        Some(all)
    }

    /// Answers, from now on, the requests sent to `hosts` as `hub`'s school's.
    pub fn add(&self, hosts: Vec<String>, hub: Arc<Hub>) {
        let mut served = self.served.write().unwrap_or_else(PoisonError::into_inner);
        let site = hub.config.site.to_string();
        for host in hosts {
            served.by_host.insert(host, hub.clone());
        }
        served.by_site.insert(site, hub);
    }

    /// The school whose `[http]` settings bound the connections (all schools share them).
    pub fn first(&self) -> &Arc<Hub> {
        &self.first
    }

    /// The school `host` (as the client sent it: any case, maybe a port) reaches; with a
    /// single school, that one whatever the host.
    pub fn pick(&self, host: Option<&str>) -> Option<Arc<Hub>> {
        let served = self.served.read().unwrap_or_else(PoisonError::into_inner);
        if served.by_host.is_empty() {
            return Some(self.first.clone());
        }
        let name = host_name(host?);
        served.by_host.get(&name).cloned()
    }

    /// The school whose site is `site`.
    pub fn site(&self, site: &str) -> Option<Arc<Hub>> {
        let served = self.served.read().unwrap_or_else(PoisonError::into_inner);
        served.by_site.get(site).cloned()
    }

    /// The sites of the schools served, in order.
    pub fn sites(&self) -> Vec<String> {
        let served = self.served.read().unwrap_or_else(PoisonError::into_inner);
        served.by_site.keys().cloned().collect()
    }
}

/// `host` without its port or a final dot, in lower case (`North.Example:8443` →
/// `north.example`); an IPv6 literal keeps its brackets.
fn host_name(host: &str) -> String {
    let name = match host.rsplit_once(':') {
        // `name:port` or `[v6]:port`; a bare IPv6 address has colons and no port.
        Some((name, port))
            if (!name.contains(':') || name.ends_with(']'))
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            name
        }
        _ => host,
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::host_name;

    #[test]
    fn a_host_is_its_name_in_lower_case_without_the_port() {
        assert_eq!(host_name("North.Example:8443"), "north.example");
        assert_eq!(host_name("north.example."), "north.example");
        assert_eq!(host_name("north.example"), "north.example");
        assert_eq!(host_name("[::1]:8443"), "[::1]");
        assert_eq!(host_name("::1"), "::1");
    }
}
