//! Several hubs on one database (`[store] url`, docs/DISTRICT.md). Every few seconds each hub
//! says it is alive and reads which others are; door units are divided among the live hubs
//! (rendezvous hashing: a unit moves only when its hub comes or goes), or on hubs serving
//! several schools the schools are, so each record is handled by one hub while the others
//! ignore it; and one hub, the holder of the leader lease, runs the scheduled work (closing
//! registers, webhooks, the e-mail digest, retention).
//!
//! A hub that dies stops beating: within [`ALIVE`] its units belong to the others, whose acks
//! the units were waiting for (they publish again until acked), and within [`LEASE`] another
//! hub leads. On SQLite there is one hub, which owns every unit and always leads.
//!
//! The server's floor: the beats and the lease in SQL are `rollcall_store::cluster`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rollcall_shared::{DeviceId, SiteId, UnixMillis};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use rollcall_store::{Db, Dialect, cluster};

/// How often a hub says it is alive, renews its lease and reads the others.
pub const BEAT: Duration = Duration::from_secs(2);
/// A hub not seen for this long is dead.
pub const ALIVE: Duration = Duration::from_secs(10);
/// A hub takes its share of door units this long after it first beat, when every other hub
/// has beaten since and so counts it too: a unit is then answered by two hubs at once only
/// for the part of a beat the hubs' clocks of beating differ by (the database, deciding by
/// record id, keeps each record once even then).
pub const JOIN: Duration = Duration::from_secs(4);
/// How long after each multiple of [`BEAT`] the hubs read the others (their beats of the
/// instant before are all written by then).
const READ_AFTER: Duration = Duration::from_millis(50);
/// How long the leader lease lasts unless renewed.
pub const LEASE: Duration = Duration::from_secs(15);
/// The lease of the hub that runs the scheduled work.
const LEADER: &str = "leader";

/// What a hub knows of the others: the live hubs and whether it leads.
#[derive(Clone, Debug, PartialEq)]
pub struct View {
    pub me: Arc<str>,
    /// Live hubs by id, this one included.
    pub live: Arc<[String]>,
    pub leader: bool,
}

impl View {
    /// The one hub of a SQLite database: owning every unit, leading once its task runs.
    pub fn alone(me: &str) -> Self {
        Self {
            me: me.into(),
            live: Arc::new([me.to_owned()]),
            leader: false,
        }
    }

    /// A hub sharing the database, before it has joined: owning no unit, not leading.
    pub fn joining(me: &str) -> Self {
        Self {
            me: me.into(),
            live: Arc::new([]),
            leader: false,
        }
    }

    /// Whether this hub handles `device`'s messages.
    pub fn owns(&self, device: DeviceId) -> bool {
        owner(device, &self.live) == Some(&*self.me)
    }

    /// Whether this hub handles every door unit of the school whose site is `site` (a hub of
    /// several schools divides the schools, not their units).
    pub fn owns_school(&self, site: &SiteId) -> bool {
        owner_of(site.as_str().as_bytes(), &self.live) == Some(&*self.me)
    }
}

/// The hub that handles `device` among `live`: the one scoring highest for it, so a hub
/// coming or going moves only its own share of units.
pub fn owner(device: DeviceId, live: &[String]) -> Option<&str> {
    owner_of(device.0.as_bytes(), live)
}

/// The hub that handles what `key` names (a unit, a school) among `live`.
fn owner_of<'a>(key: &[u8], live: &'a [String]) -> Option<&'a str> {
    live.iter()
        .max_by_key(|hub| score(key, hub))
        .map(String::as_str)
}

fn score(key: &[u8], hub: &str) -> [u8; 8] {
    let digest = Sha256::new()
        .chain_update(key)
        .chain_update(hub.as_bytes())
        .finalize();
    let mut first = [0; 8];
    first.copy_from_slice(&digest[..8]);
    first
}

/// Beats, reads the live hubs and holds (or waits for) the lease until `stop`; then leaves,
/// giving the lease and its units up at once.
pub async fn run(db: Db, view: watch::Sender<View>, mut stop: watch::Receiver<bool>) {
    let me = view.borrow().me.clone();
    if db.dialect() == Dialect::Sqlite {
        // One hub per SQLite file (the data directory's lock): it owns and leads everything.
        view.send_modify(|v| v.leader = true);
        let _ = stop.changed().await;
        return;
    }
    loop {
        // Every hub reads the others at the same instants (multiples of BEAT on the
        // database's clock) and judges them against the same cut-offs, so their views of who
        // is alive and who has joined agree but for the milliseconds between their reads,
        // however far their own clocks are apart.
        let id = me.clone();
        let seen = db
            .write_membership(move |sql| {
                let now = cluster::now(sql)?;
                let read = Instant::now();
                let epoch = UnixMillis(now.0 - now.0.rem_euclid(millis(BEAT)));
                cluster::beat(sql, &id, now)?;
                let live =
                    cluster::live(sql, epoch.saturating_sub(ALIVE), epoch.saturating_sub(JOIN))?;
                let leader = cluster::hold(sql, LEADER, &id, now, now.saturating_add(LEASE))?;
                // When the database's next read instant comes, on this hub's monotonic clock.
                let next = epoch.saturating_add(BEAT + READ_AFTER);
                let wake = read + Duration::from_millis(next.millis_since(now).unsigned_abs());
                Ok::<_, rollcall_store::StoreError>((live, leader, wake))
            })
            .await;
        let wake = match seen {
            Ok((live, leader, wake)) => {
                view.send_if_modified(|v| {
                    let next = View {
                        me: me.clone(),
                        live: live.into(),
                        leader,
                    };
                    if next.leader != v.leader {
                        tracing::info!(
                            hubs = next.live.len(),
                            "{}",
                            match next.leader {
                                true => "this hub now runs the scheduled work",
                                false => "another hub runs the scheduled work",
                            }
                        );
                    }
                    let changed = *v != next;
                    *v = next;
                    changed
                });
                wake
            }
            // The database unreachable: keep the last view; a lease not renewed runs out,
            // and another hub that can reach the database leads.
            Err(e) => {
                tracing::warn!("cluster: {e}");
                Instant::now() + BEAT
            }
        };
        tokio::select! {
            _ = stop.changed() => break,
            _ = tokio::time::sleep_until(wake.into()) => {}
        }
    }
    let id = me.clone();
    let left = db
        .write_membership(move |sql| {
            cluster::release(sql, LEADER, &id)?;
            cluster::leave(sql, &id)
        })
        .await;
    if let Err(e) = left {
        tracing::warn!("cluster: leaving: {e}");
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hubs(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("hub-{i}")).collect()
    }

    #[test]
    fn units_are_shared_out_and_a_hub_leaving_moves_only_its_own() {
        let devices: Vec<DeviceId> = (0..3000).map(|_| DeviceId::random()).collect();
        let three = hubs(3);
        let before: Vec<&str> = devices.iter().map(|&d| owner(d, &three).unwrap()).collect();
        for hub in &three {
            let share = before.iter().filter(|&&o| o == hub).count();
            assert!((800..1200).contains(&share), "{hub}: {share} of 3000");
        }
        let two = hubs(2);
        for (&d, &was) in devices.iter().zip(&before) {
            let now = owner(d, &two).unwrap();
            if was != "hub-2" {
                assert_eq!(now, was, "a unit of a hub that stayed does not move");
            }
        }
    }

    #[test]
    fn a_hub_alone_owns_every_unit_and_a_joining_one_none() {
        assert!(View::alone("me").owns(DeviceId::random()));
        assert!(!View::joining("me").owns(DeviceId::random()));
    }
}
