//! Write-back with two hubs of one school on PostgreSQL (a district's hubs, or a school's
//! spare): exactly one hub, the leader, writes the school's marks; killed while a write waits
//! on the MIS, it leaves the day pending, and the hub that takes the school over writes each
//! pupil's day once.

use std::time::Duration;

use reqwest::StatusCode;
use rollcall_shared::UnixMillis;
use serde_json::json;

use crate::common::*;
use crate::mis::{
    kept, known_to_the_mis, left_hanging, mis_until, taken_by_student, wonde, write_back_to,
};

/// Whether the hub at `api` leads its school, once the cluster counts `hubs`.
async fn leads(api: &Api, hubs: u64) -> Option<bool> {
    let (status, health) = api.get("/health").await;
    let cluster = &health["cluster"];
    (status == StatusCode::OK && cluster["hubs"] == json!(hubs))
        .then(|| cluster["leader"].as_bool())
        .flatten()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_killed_while_it_holds_the_school_leaves_its_writes_to_the_next() {
    let postgres = rollcall_e2e::postgres::Postgres::start()
        .unwrap_or_else(|e| panic!("the district test needs PostgreSQL: {e:#}"));
    let url = postgres.create_database("mis").unwrap();
    let fake = wonde();
    let dir = tempfile::tempdir().unwrap();
    let configure = |c: &mut rollcall_hub::config::Config| {
        write_back_to(c, &fake, dir.path());
        c.mis.timeout_secs = 120;
    };
    let first = start_school_hub_with(&url, "north", None, configure).await;
    let second = join_school_hub(&first, &url, "north", configure).await;
    let (one, two) = (first.api(), second.api());
    wait_for(
        "two hubs, the first leading",
        Duration::from_secs(30),
        || async { leads(&one, 2).await == Some(true) && leads(&two, 2).await == Some(false) },
    )
    .await;

    let admin = first.admin().await;
    let s = seed_school(&admin).await;
    known_to_the_mis(&admin, &s, &["N"]).await;

    // The MIS hangs; the register closes (nobody came) and the leader's write waits on it.
    fake.control(json!({"mode": "hang"})).await;
    for hub in [&first, &second] {
        hub.clock.set(UnixMillis(monday_at(10, 35)));
    }
    wait_for(
        "the leader's write left hanging",
        Duration::from_secs(30),
        || async { left_hanging(&fake).await > 0 },
    )
    .await;

    // The leader is killed mid-write; the MIS recovers; once its lease has run out the other
    // hub leads and writes the pending days.
    let killed = first.addr;
    first.kill().await;
    let health = format!("http://{killed}/api/v1/health");
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    assert!(
        client.get(health).send().await.is_err(),
        "the killed hub still answers"
    );
    fake.control(json!({"mode": "ok"})).await;
    second.clock.set(UnixMillis(monday_at(10, 37)));
    let admin = second.admin().await;
    mis_until(&admin, "the days written by the hub that took over", |m| {
        m["counts"]["written"] == 2
    })
    .await;
    assert_eq!(kept(&fake).await.len(), 2);
    let taken = taken_by_student(&fake).await;
    assert_eq!(
        taken.values().copied().collect::<Vec<_>>(),
        vec![1, 1],
        "each pupil's morning taken once: {taken:?}"
    );
    second.stop().await;
}
