//! One hub process serving two schools of a district (`[[schools]]`, issue 36): each school's
//! API answers at its own host name from its own tables, a request to an address no school
//! has is refused, one school's sign-in opens nothing of the other's, and each door unit's
//! records go through the one broker link into its own school's register, acknowledged to it.
//! Each school's events go to its own webhook receiver, naming the school. A district admin
//! sees every school and makes a school's admins. Two such hubs divide the
//! schools between them, each hearing only its own schools' records, and when one goes the
//! other answers every school. A school a district admin adds is served by every hub at once,
//! without a restart, and by a hub started later.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use rollcall_e2e::mosquitto::Mosquitto;
use rollcall_shared::topics::Channel;
use rollcall_shared::{Decision, DeviceId, Message, RecordAck, SiteId};
use serde_json::json;

use crate::common::door::Door;
use crate::common::*;

/// The two schools of each test: site, and the host name each answers at.
const SCHOOLS: [(&str, &str); 2] = [
    ("north", "north.school.test"),
    ("south", "south.school.test"),
];

/// A throwaway PostgreSQL database and Mosquitto for a district.
struct District {
    _server: rollcall_e2e::postgres::Postgres,
    url: String,
    broker: Mosquitto,
}

impl District {
    fn start() -> Self {
        let server = rollcall_e2e::postgres::Postgres::start()
            .unwrap_or_else(|e| panic!("the district test needs PostgreSQL: {e:#}"));
        let url = server.create_database("district").unwrap();
        Self {
            _server: server,
            url,
            broker: Mosquitto::start().unwrap(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_hub_serves_each_school_at_its_address_from_its_own_tables() {
    let District {
        _server,
        url,
        broker,
    } = District::start();
    let listen = free_loopback_addr();
    let hub = start_district_hub_with(&url, broker.addr(), &SCHOOLS, move |c| {
        c.metrics.listen = Some(listen)
    })
    .await;
    wait_connected(&hub).await;
    let north = Api::at_host(hub.addr, "north.school.test");
    let south = Api::at_host(hub.addr, "south.school.test");
    let (north_admin, south_admin) = (
        north.login(ADMIN, PASSWORD).await,
        south.login(ADMIN, PASSWORD).await,
    );

    // Each school's admin works in its school: what one adds, the other does not see.
    let ours = seed_school(&north_admin).await;
    let theirs = seed_school(&south_admin).await;
    for (admin, mine, other) in [
        (&north_admin, &ours, &theirs),
        (&south_admin, &theirs, &ours),
    ] {
        let (status, students) = admin.get("/students").await;
        assert_eq!(status, StatusCode::OK, "{students}");
        let text = students.to_string();
        assert!(
            mine.students.iter().all(|s| text.contains(s.as_str())),
            "{text}"
        );
        assert!(
            !other.students.iter().any(|s| text.contains(s.as_str())),
            "{text}"
        );
    }

    // A sign-in is its school's: north's token at south's address opens nothing there.
    let token = north_admin.token.clone().unwrap();
    let (status, body) = south.with_token(&token).get("/students").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    // An address no school has: refused before anything is read, and saying why.
    let (status, body) = Api::new(hub.addr).get("/health").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.to_string().contains("no school"), "{body}");
    let (status, _) = Api::at_host(hub.addr, "NORTH.School.Test")
        .get("/health")
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "host names are matched without case"
    );

    // The hub joins each school's hubs (its cluster) before it takes that school's records.
    for api in [&north, &south] {
        wait_for(
            "the hub joining the school's hubs",
            Duration::from_secs(20),
            || async { api.get("/health").await.1["cluster"]["hubs"] == json!(1) },
        )
        .await;
    }

    // Each door unit's record reaches its own school through the one link, and is acked.
    for (site, school, admin, other_admin) in [
        ("north", &ours, &north_admin, &south_admin),
        ("south", &theirs, &south_admin, &north_admin),
    ] {
        let device: DeviceId = school.device.parse().unwrap();
        let mut door = Door::connect(&broker, &SiteId::new(site).unwrap(), device).await;
        let at = monday_at(9, 1);
        let sent = record(
            device,
            Decision::Confident,
            &[(&school.students[0], 0.3)],
            at,
        );
        door.publish(Channel::Records, &Message::Record(sent.clone()))
            .await;
        let ack = door.next(Channel::Acks).await;
        let expected = Message::Ack(RecordAck {
            records: vec![sent.id],
        });
        assert_eq!(ack, expected, "{site}'s door unit is acked");
        let id = sent.id.to_string();
        let (_, records) = admin.get("/records").await;
        assert!(records.to_string().contains(&id), "{site}: {records}");
        let (_, records) = other_admin.get("/records").await;
        assert!(
            !records.to_string().contains(&id),
            "not the other's: {records}"
        );
        let (_, roster) = school
            .teacher
            .get(&format!("/sessions/{}/{}", school.slot, monday()))
            .await;
        assert_eq!(roster["rows"][0]["mark"], "present", "{site}: {roster}");
    }
    let (_, health) = north_admin.get("/metrics").await;
    assert_eq!(health["records_stored"], json!(1), "{health}");

    // Prometheus scrapes each school as a target of its own, each sample labelled with it.
    let scrape = |query: &'static str| async move {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let reply = client
            .get(format!("http://{listen}/metrics{query}"))
            .send()
            .await
            .unwrap();
        (reply.status(), reply.text().await.unwrap())
    };
    let (status, text) = scrape("?school=south").await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        text.contains("rollcall_hub_records_stored_total{school=\"south\"} 1"),
        "{text}"
    );
    assert!(!text.contains("school=\"north\""), "{text}");
    let (status, text) = scrape("").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{text}");
    assert!(
        text.contains("north, south"),
        "names the schools it serves: {text}"
    );
    let (status, _) = scrape("?school=east").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_district_admin_sees_every_school_and_makes_a_schools_admin() {
    let District {
        _server,
        url,
        broker,
    } = District::start();
    let hub = start_district_hub(&url, broker.addr(), &SCHOOLS).await;
    let north = Api::at_host(hub.addr, "north.school.test");
    let south = Api::at_host(hub.addr, "south.school.test");
    // North's admin is the district's ([district] admins); south's is its school's only.
    let district_admin = north.login(ADMIN, PASSWORD).await;
    let south_admin = south.login(ADMIN, PASSWORD).await;
    let south_school = seed_school(&south_admin).await;

    let (status, district) = district_admin.get("/district/schools").await;
    assert_eq!(status, StatusCode::OK, "{district}");
    let listed: Vec<(String, String, i64)> = district["schools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let site = s["site"].as_str().unwrap_or("-").to_owned();
            (
                s["schema"].as_str().unwrap().to_owned(),
                site,
                s["students"].as_i64().unwrap(),
            )
        })
        .collect();
    let expected = [("north", "north", 0), ("south", "south", 2)]
        .map(|(schema, site, n)| (schema.to_owned(), site.to_owned(), n));
    assert_eq!(listed, expected, "{district}");
    assert_eq!(district["totals"]["students"], json!(2), "{district}");
    assert_eq!(district["totals"]["schools"], json!(2), "{district}");

    // Last Monday's lesson at south: Ada marked present, Bo not (absent once it closed).
    let last_monday = "2026-11-16";
    let ada = &south_school.students[0];
    let path = format!("/sessions/{}/{last_monday}/marks/{ada}", south_school.slot);
    let present = json!({"mark": "present", "reason": "register taken by hand"});
    let (status, body) = south_admin.put(&path, present).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let range = format!("?from={last_monday}&to={last_monday}");
    let (status, report) = district_admin
        .get(&format!("/district/attendance{range}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let of = |site: &str| {
        let all = report["schools"].as_array().unwrap();
        all.iter().find(|s| s["site"] == site).unwrap().clone()
    };
    assert_eq!(
        (
            of("south")["expected"].clone(),
            of("south")["present"].clone()
        ),
        (json!(2), json!(1)),
        "{report}"
    );
    assert_eq!(of("north")["expected"], json!(0), "{report}");
    assert_eq!(report["district"]["present"], json!(1), "{report}");
    assert_eq!(report["district"]["expected"], json!(2), "{report}");
    let csv_path = format!("/district/attendance{range}&format=csv");
    let (status, csv) = district_admin.raw(Method::GET, &csv_path, None).await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    assert!(csv.lines().any(|l| l.starts_with("south,2,1,")), "{csv}");
    assert!(
        csv.lines().any(|l| l.starts_with("(district),2,1,")),
        "{csv}"
    );
    let (status, _) = south_admin
        .get(&format!("/district/attendance{range}"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, body) = south_admin.get("/district/schools").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a school's admin is not the district's: {body}"
    );
    let deputy = json!({"username": "deputy", "password": "a deputy's long password"});
    let (status, body) = south_admin
        .post("/district/schools/north/admins", deputy.clone())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // The district admin makes south an admin: it signs in there, and only there.
    let (status, made) = district_admin
        .post("/district/schools/south/admins", deputy.clone())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["role"], "admin", "{made}");
    let at_south = south.login("deputy", "a deputy's long password").await;
    let (status, users) = at_south.get("/users").await;
    assert_eq!(status, StatusCode::OK, "{users}");
    let (status, _) = north
        .post(
            "/auth/login",
            json!({"username": "deputy", "password": "a deputy's long password"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "south's new admin is not north's"
    );
    let (_, audit) = south_admin.get("/audit").await;
    assert!(
        audit.to_string().contains("district:north/admin"),
        "{audit}"
    );

    let (status, body) = district_admin
        .post("/district/schools/south/admins", deputy)
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "the username is taken: {body}"
    );
    let (status, body) = district_admin
        .post(
            "/district/schools/east/admins",
            json!({"username": "x", "password": "long enough password"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "no school east on this hub: {body}"
    );

    hub.stop().await;
}

/// The live hubs each school's health counts.
async fn wait_hubs(api: &Api, hubs: u64) {
    wait_for(
        "the schools' hubs to agree",
        Duration::from_secs(30),
        || async { api.get("/health").await.1["cluster"]["hubs"] == json!(hubs) },
    )
    .await;
}

/// Door units each school of the division test has.
const UNITS: u64 = 6;

/// A record of `door`'s, naming `school`'s first student at 9:`minute`, published and acked.
async fn acked_once(door: &mut Door, school: &School, minute: u16) {
    let at = monday_at(9, minute);
    let sent = record(
        door.device,
        Decision::Confident,
        &[(&school.students[0], 0.3)],
        at,
    );
    door.publish(Channel::Records, &Message::Record(sent.clone()))
        .await;
    let ack = door.next(Channel::Acks).await;
    let expected = Message::Ack(RecordAck {
        records: vec![sent.id],
    });
    assert_eq!(ack, expected, "door unit {}", door.device);
}

/// A count of the hub at `api`'s metrics for its school.
async fn counted(api: &Api, name: &str) -> u64 {
    api.get("/metrics").await.1[name].as_u64().unwrap()
}

/// Records the hub at `api` stored for its school.
async fn stored(api: &Api) -> u64 {
    counted(api, "records_stored").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hubs_divide_the_schools_and_one_takes_them_all_when_the_other_goes() {
    let District {
        _server,
        url,
        broker,
    } = District::start();
    let first = start_district_hub(&url, broker.addr(), &SCHOOLS).await;
    let second = another_district_hub(&first, &url, broker.addr(), &SCHOOLS).await;
    let at = |hub: &TestHub, host: &str| Api::at_host(hub.addr, host);
    // Six door units a school: divided by unit, two hubs would all but never store all six
    // schools' records on one hub (1 chance in 32); divided by school they always do.
    let mut schools_doors = Vec::new();
    for (site, host) in SCHOOLS {
        let admin = at(&first, host).login(ADMIN, PASSWORD).await;
        let school = seed_school(&admin).await;
        let mut devices = vec![school.device.clone()];
        for i in 1..UNITS {
            let made = admin
                .created(
                    "/devices",
                    json!({"name": format!("door-{i}"), "room": "Lab 3"}),
                )
                .await;
            devices.push(made["device"]["id"].as_str().unwrap().to_owned());
        }
        let mut doors = Vec::new();
        for device in devices {
            let device: DeviceId = device.parse().unwrap();
            doors.push(Door::connect(&broker, &SiteId::new(site).unwrap(), device).await);
        }
        wait_hubs(&at(&first, host), 2).await;
        wait_hubs(&at(&second, host), 2).await;
        schools_doors.push((host, school, doors));
    }

    // Every unit of a school is answered by the same one of the two hubs.
    for (_, school, doors) in &mut schools_doors {
        for door in doors.iter_mut() {
            acked_once(door, school, 1).await;
        }
    }
    for (host, _, _) in &schools_doors {
        let counts = (
            stored(&at(&first, host)).await,
            stored(&at(&second, host)).await,
        );
        assert!(
            counts == (UNITS, 0) || counts == (0, UNITS),
            "{host}: records stored by each hub {counts:?}"
        );
        // Each hub subscribes to its own schools' records: the broker did not deliver the
        // other's to it at all.
        for hub in [&first, &second] {
            let others = counted(&at(hub, host), "records_for_other_hubs").await;
            assert_eq!(
                others, 0,
                "{host}: records delivered to the hub not answering"
            );
        }
    }

    // The first hub goes: the second answers every unit of both schools.
    first.stop().await;
    let mut before = Vec::new();
    for (host, _, _) in &schools_doors {
        wait_hubs(&at(&second, host), 1).await;
        before.push(stored(&at(&second, host)).await);
    }
    for (_, school, doors) in &mut schools_doors {
        for door in doors.iter_mut() {
            acked_once(door, school, 2).await;
        }
    }
    for (i, (host, _, _)) in schools_doors.iter().enumerate() {
        assert_eq!(
            stored(&at(&second, host)).await,
            before[i] + UNITS,
            "{host}"
        );
    }
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_schools_events_go_to_its_own_receiver_naming_the_school() {
    use crate::webhooks::{SECRET, receiver, wait_posts};
    let District {
        _server,
        url,
        broker,
    } = District::start();
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("webhook.secret");
    std::fs::write(&secret_file, SECRET).unwrap();
    let (north_at, north_got) = receiver(0).await;
    let (south_at, south_got) = receiver(0).await;
    let hooks = [north_at, south_at].map(|at| rollcall_hub::config::WebhookConfig {
        url: format!("http://{at}/hook"),
        secret_file: secret_file.clone(),
        events: vec!["device.offline".into()],
    });
    let hub = start_district_hub_with(&url, broker.addr(), &SCHOOLS, move |c| {
        for (school, hook) in c.schools.iter_mut().zip(&hooks) {
            school.webhooks = Some(vec![hook.clone()]);
        }
    })
    .await;

    // Each school's door unit drops off: each school's receiver hears of its own.
    for (site, host) in SCHOOLS {
        let api = Api::at_host(hub.addr, host);
        let school = seed_school(&api.login(ADMIN, PASSWORD).await).await;
        wait_hubs(&api, 1).await;
        let device: DeviceId = school.device.parse().unwrap();
        let door = Door::connect(&broker, &SiteId::new(site).unwrap(), device).await;
        let offline = Message::Offline(rollcall_shared::DeviceOffline { device });
        door.publish(Channel::Status, &offline).await;
    }
    for (got, site) in [(&north_got, "north"), (&south_got, "south")] {
        let posts = wait_posts(got, 1).await;
        let body: serde_json::Value = serde_json::from_str(&posts[0].2).unwrap();
        assert_eq!(body["event"], "device.offline");
        assert_eq!(body["school"], site, "{body}");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    for got in [&north_got, &south_got] {
        assert_eq!(
            got.lock().unwrap().len(),
            1,
            "one school's event, to its receiver alone"
        );
    }
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_school_a_district_admin_adds_is_served_by_every_hub_without_a_restart() {
    let District {
        _server,
        url,
        broker,
    } = District::start();
    let first = start_district_hub(&url, broker.addr(), &SCHOOLS).await;
    let second = another_district_hub(&first, &url, broker.addr(), &SCHOOLS).await;
    let district_admin = Api::at_host(first.addr, "north.school.test")
        .login(ADMIN, PASSWORD)
        .await;
    let east_at = |hub: &TestHub| Api::at_host(hub.addr, "east.school.test");
    let (status, _) = east_at(&first).get("/health").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no school answers there yet");

    // What is not a school, or is another's, is refused, and nothing is added.
    let refused = [
        (
            json!({"site": "East!", "hosts": ["east.school.test"]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"site": "east", "hosts": []}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"site": "east", "hosts": ["east.school.test:8443"]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"site": "east", "hosts": ["east.school.test"], "timezone": "Mars/Olympus"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"site": "south", "hosts": ["east.school.test"]}),
            StatusCode::CONFLICT,
        ),
        (
            json!({"site": "east", "hosts": ["north.school.test"]}),
            StatusCode::CONFLICT,
        ),
    ];
    for (body, expected) in refused {
        let (status, answer) = district_admin.post("/district/schools", body.clone()).await;
        assert_eq!(status, expected, "{body}: {answer}");
    }
    let east = json!({"site": "east", "hosts": ["east.school.test"], "timezone": "Europe/Paris"});
    let south_admin = Api::at_host(first.addr, "south.school.test")
        .login(ADMIN, PASSWORD)
        .await;
    let (status, _) = south_admin.post("/district/schools", east.clone()).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a school's admin adds no school"
    );

    // Added: this hub serves it when it answers, so its first admin can be made at once.
    let (status, added) = district_admin.post("/district/schools", east.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(
        (&added["schema"], &added["timezone"], &added["added_by"]),
        (
            &json!("east"),
            &json!("Europe/Paris"),
            &json!("north/admin")
        ),
        "{added}"
    );
    let (status, again) = district_admin.post("/district/schools", east).await;
    assert_eq!(status, StatusCode::CONFLICT, "added twice: {again}");
    let head = json!({"username": "head", "password": "east's head's long password"});
    let (status, made) = district_admin
        .post("/district/schools/east/admins", head.clone())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let east_admin = east_at(&first)
        .login("head", "east's head's long password")
        .await;
    let (_, audit) = east_admin.get("/audit").await;
    assert!(audit.to_string().contains("school.add"), "{audit}");
    let (status, settings) = east_admin.get("/health").await;
    assert_eq!(status, StatusCode::OK, "{settings}");
    // The command line finds it too, by its site, beside the file's schools.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hub.toml");
    let toml = format!(
        "data_dir = {:?}\n[store]\nurl = {url:?}\n[mqtt]\nmode = \"external\"\n\
         [[schools]]\nsite = \"north\"\nhosts = [\"north.school.test\"]\n\
         [[schools]]\nsite = \"south\"\nhosts = [\"south.school.test\"]\n",
        first.data_dir.display().to_string()
    );
    std::fs::write(&file, toml).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rollcall-hub"))
        .args(["user", "list", "--school", "east", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("head"), "east's users: {stdout}");

    // The other hub, which was not asked, serves it within seconds.
    wait_for(
        "the second hub to serve the added school",
        Duration::from_secs(30),
        || async {
            let (status, _) = east_at(&second).post("/auth/login", head.clone()).await;
            status == StatusCode::OK
        },
    )
    .await;

    // Its door unit's records reach its register through whichever hub answers it, once.
    let school = seed_school(&east_admin).await;
    let device: DeviceId = school.device.parse().unwrap();
    let mut door = Door::connect(&broker, &SiteId::new("east").unwrap(), device).await;
    wait_hubs(&east_at(&first), 2).await;
    wait_hubs(&east_at(&second), 2).await;
    acked_once(&mut door, &school, 1).await;
    let on = |hub| async move { stored(&east_at(hub)).await };
    assert_eq!(on(&first).await + on(&second).await, 1);

    let (_, district) = district_admin.get("/district/schools").await;
    let listed = district["schools"].as_array().unwrap();
    assert!(
        listed
            .iter()
            .any(|s| s["schema"] == "east" && s["site"] == "east"),
        "{district}"
    );

    // A hub started later serves it from its first request.
    first.stop().await;
    let third = another_district_hub(&second, &url, broker.addr(), &SCHOOLS).await;
    let (status, body) = east_at(&third).post("/auth/login", head).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    third.stop().await;
    second.stop().await;
}
