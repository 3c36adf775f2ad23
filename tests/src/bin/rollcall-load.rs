//! `rollcall-load`: simulated door units and teachers against a running `rollcall-hub`.
//!
//! Registers `--devices` door units through the API, logs each in to the hub's embedded broker
//! and publishes postcard `AttendanceRecord`s (QoS 1) at `--rate` records/s in all, measuring
//! the time from handing a record to the MQTT client to the hub's `RecordAck` naming it, and
//! the rate acks come at between the warm-up and the end of publishing. Like
//! a door unit, each publishes a record the hub has not acknowledged again after `--retry`
//! seconds, backing off (doubling, spread at random, up to a minute) and oldest first, and
//! after the run keeps at it for up to `--drain` seconds: a record never acknowledged by then
//! is counted as lost. Like a door unit, each has at most `MAX_IN_FLIGHT` records published
//! and unacknowledged; a record made while that window is full waits in the unit, and the
//! latency of a record counts from its first publish.
//! `--teachers` teachers (each with a class timetabled in every device's room all week, so
//! every record is theirs to review) poll `GET /review` once a second. With `--hub-pid` it
//! samples the hub's CPU and resident memory from `/proc`. Prints one summary at the end.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use rollcall_e2e::api::Api;
use rollcall_e2e::door::{self, options, record};
use rollcall_runtime::{AckTime, Backoff};
use rollcall_shared::topics::{Channel, Topic};
use rollcall_shared::{
    AttendanceRecord, Candidate, Decision, DeviceId, Limits, MAX_IN_FLIGHT, Message, RecordId,
    SiteId, StudentId, UnixMillis, decode, encode,
};
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use serde_json::json;

#[derive(Debug, Parser)]
#[command(about = "Load a running rollcall-hub with simulated door units and teachers")]
struct Args {
    /// The hub's API, e.g. http://127.0.0.1:8080/api/v1. A host name there (a school of a
    /// hub serving several, e.g. http://north.load.test:8080/api/v1) is taken to be on
    /// 127.0.0.1, where the generator expects every hub.
    #[arg(long)]
    api: String,
    /// The broker's MQTT port on 127.0.0.1; several (comma-separated, a clustered broker's
    /// nodes) spread the door units over them.
    #[arg(long, value_delimiter = ',', required = true)]
    mqtt_port: Vec<u16>,
    /// The hub's `site`.
    #[arg(long, default_value = "school")]
    site: String,
    /// Schools loaded at once, each with the devices, teachers, students and rate given: the
    /// school's number replaces `{school}` in --api, --other-api and --site (e.g. --api
    /// http://school-{school}.load.test:8080/api/v1 --site school-{school}).
    #[arg(long, default_value_t = 1)]
    schools: usize,
    #[arg(long, default_value = "admin")]
    admin_user: String,
    /// A file holding the admin's password.
    #[arg(long)]
    admin_password_file: std::path::PathBuf,
    /// Simulated door units.
    #[arg(long, default_value_t = 200)]
    devices: usize,
    /// Records per second, all of a school's devices together.
    #[arg(long, default_value_t = 5000.0)]
    rate: f64,
    /// Seconds of publishing.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Seconds at the start left out of the latency figures.
    #[arg(long, default_value_t = 3)]
    warmup: u64,
    /// Teachers polling the review queue once a second.
    #[arg(long, default_value_t = 4)]
    teachers: usize,
    /// Other hubs sharing the first one's database (`[store] url`): teachers are spread over
    /// all the hubs, one sign-in being good on each.
    #[arg(long)]
    other_api: Vec<String>,
    /// The hubs' process ids (repeat the flag for several), to sample their CPU and memory.
    #[arg(long)]
    hub_pid: Vec<u32>,
    /// Rooms the devices are spread over.
    #[arg(long, default_value_t = 20)]
    rooms: usize,
    /// Students on the roster, named by the Confident records (the hub refuses records naming
    /// students it does not have).
    #[arg(long, default_value_t = 500)]
    students: usize,
    /// Seconds before a record not acknowledged is published again (a door unit's
    /// `outbox.retry_min`); the wait doubles, spread at random, up to a minute.
    #[arg(long, default_value_t = 5)]
    retry: u64,
    /// Seconds after the last new record that unacknowledged ones are still published again.
    #[arg(long, default_value_t = 10)]
    drain: u64,
}

/// A record published and not yet acknowledged.
#[derive(Debug)]
struct Unacked {
    /// When it was first published: latency is counted from here, as a door unit sees it.
    first: Instant,
    payload: Vec<u8>,
    attempts: u32,
    retry_at: Instant,
}

/// What one run measured.
#[derive(Debug, Default)]
struct Tally {
    /// Publish→ack of the records first published in the window and acknowledged in it.
    latencies_us: Vec<u64>,
    acked: u64,
    /// Acks that came in the window (after the warm-up, before publishing ends), however
    /// long before their record was first published: the rate the hub acknowledges at. Past
    /// saturation a unit's window is full when the warm-up ends, and those records' acks are
    /// the hub's work in the window too.
    acked_in_window: u64,
    /// Publishes of records already published once.
    republished: u64,
    /// Records still not acknowledged when the drain ended.
    never_acked: u64,
    /// Records that waited in the unit for room in its window ([`MAX_IN_FLIGHT`]).
    held: u64,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let password = std::fs::read_to_string(&args.admin_password_file)?;
    let password = password.trim();
    let (mut doors, mut teachers) = (Vec::new(), Vec::new());
    for school in 1..=args.schools {
        let (school_doors, school_teachers) = setup_school(&args, school, password).await?;
        doors.extend(school_doors);
        teachers.extend(school_teachers);
    }
    println!("{} devices connected in all", doors.len());
    let start = Instant::now() + Duration::from_secs(2);
    let window_from = start + Duration::from_secs(args.warmup);
    let end = start + Duration::from_secs(args.duration);
    let tally = Arc::new(Mutex::new(Tally::default()));
    let per_device = args.rate / args.devices as f64;
    let mut tasks = Vec::new();
    for (door, room, students) in doors {
        let job = DoorJob {
            door,
            room,
            students,
            interval: Duration::from_secs_f64(1.0 / per_device),
            start,
            end,
            window_from,
            drain: Duration::from_secs(args.drain),
            backoff: Backoff {
                min: Duration::from_secs(args.retry.max(1)),
                max: Duration::from_secs(60),
            },
            acks: AckTime::default(),
            unacked: BTreeMap::new(),
            waiting: VecDeque::new(),
            tally: tally.clone(),
        };
        tasks.push(tokio::spawn(job.run()));
    }
    let review = tokio::spawn(poll_reviews(teachers, start, end));
    let usage: Vec<_> = args
        .hub_pid
        .iter()
        .map(|&pid| std::thread::spawn(move || sample(pid, start, end)))
        .collect();
    let mut sent = 0;
    for task in tasks {
        sent += task.await?;
    }
    let review = review.await?;
    let usage: Vec<_> = usage
        .into_iter()
        .map(|u| u.join().expect("the sampler"))
        .collect();
    report(&args, sent, &tally.lock().unwrap(), &review, usage);
    Ok(())
}

/// A school's door units, connected, with their rooms and its students; and its teachers,
/// spread over the hubs.
type School = (Vec<(Connected, String, Arc<[StudentId]>)>, Vec<Api>);

/// School number `school` (`{school}` in --api, --other-api and --site) set up through its
/// API: its teachers, door units and students; every unit connected before the clock starts
/// (logins, argon2 on the hub's embedded broker, are not part of the load, and no unit starts
/// with ticks to catch up).
async fn setup_school(args: &Args, school: usize, password: &str) -> anyhow::Result<School> {
    let numbered = |s: &str| s.replace("{school}", &school.to_string());
    let api = numbered(&args.api);
    let admin = Api::login_with(http_client(&api)?, &api, &args.admin_user, password).await?;
    let site = SiteId::new(numbered(&args.site))?;
    let rooms: Vec<String> = (0..args.rooms).map(|i| format!("Load room {i}")).collect();
    let mut teachers = setup_teachers(&admin, args.teachers, &rooms).await?;
    let bases: Vec<String> = std::iter::once(&args.api)
        .chain(&args.other_api)
        .map(|base| numbered(base))
        .collect();
    for (i, teacher) in teachers.iter_mut().enumerate() {
        teacher.base = bases[i % bases.len()].clone();
    }
    let devices = register(&admin, args.devices, &rooms).await?;
    let students: Arc<[StudentId]> = enrol(&admin, args.students).await?.into();
    println!(
        "{site}: registered {} devices, {} teachers, {} students",
        devices.len(),
        teachers.len(),
        students.len()
    );
    let mut doors = Vec::with_capacity(devices.len());
    for (i, (device, secret, room)) in devices.into_iter().enumerate() {
        // Each unit starts on a node of its own turn and moves on to the next when its dies.
        let mut ports = args.mqtt_port.clone();
        ports.rotate_left(i % args.mqtt_port.len());
        let door = connect(&ports, &site, device, &secret).await?;
        doors.push((door, room, students.clone()));
    }
    println!("{site}: {} devices connected", doors.len());
    Ok((doors, teachers))
}

/// Teachers, each with a class timetabled in every room, all day, every day.
async fn setup_teachers(admin: &Api, n: usize, rooms: &[String]) -> anyhow::Result<Vec<Api>> {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let mut teachers = Vec::new();
    for i in 0..n {
        let (user, pass) = (
            format!("load-{}-{i}", &tag[..8]),
            format!("load password {tag}"),
        );
        let body = json!({"username": user, "role": "teacher", "password": pass});
        let made = admin.post("/users", body).await?;
        let class = json!({"name": format!("Load {i} {}", &tag[..8]), "teacher_id": made["id"]});
        let class = admin.post("/classes", class).await?["id"].clone();
        for room in rooms {
            for weekday in 1..=7 {
                let slot = json!({"class_id": class, "room": room, "weekday": weekday,
                    "start": "00:00", "end": "23:59"});
                admin.post("/timetable", slot).await?;
            }
        }
        teachers.push(Api::login_with(admin.http.clone(), &admin.base, &user, &pass).await?);
    }
    Ok(teachers)
}

/// Puts `n` students on the roster through the API.
async fn enrol(admin: &Api, n: usize) -> anyhow::Result<Vec<StudentId>> {
    anyhow::ensure!(n > 0, "--students must be at least 1");
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let made = admin
            .post("/students", json!({"name": format!("Load student {i}")}))
            .await?;
        out.push(made["id"].as_str().context("no student id")?.parse()?);
    }
    Ok(out)
}

/// Registers `n` devices through the API: `(id, secret, room)`.
async fn register(
    admin: &Api,
    n: usize,
    rooms: &[String],
) -> anyhow::Result<Vec<(DeviceId, String, String)>> {
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let room = rooms[i % rooms.len()].clone();
        let made = admin
            .post(
                "/devices",
                json!({"name": format!("load-{tag}-{i}"), "room": room}),
            )
            .await?;
        let id = made["device"]["id"]
            .as_str()
            .context("no device id")?
            .parse()?;
        let secret = made["mqtt_password"].as_str().context("no mqtt_password")?;
        out.push((id, secret.to_owned(), room));
    }
    Ok(out)
}

/// A logged-in, subscribed door unit: its client, and the acks its event loop's task reads.
struct Connected {
    client: AsyncClient,
    topic: String,
    device: DeviceId,
    acks: tokio::sync::mpsc::UnboundedReceiver<(RecordId, Instant)>,
}

/// The HTTP client for the API at `api`: its host name, when it has one, resolves to
/// 127.0.0.1 (as a district's DNS would to its hubs); its port is the URL's.
fn http_client(api: &str) -> anyhow::Result<reqwest::Client> {
    let url = reqwest::Url::parse(api).context("--api")?;
    let mut client = reqwest::Client::builder();
    let host = url.host_str().unwrap_or_default();
    let bracketed = host.trim_start_matches('[').trim_end_matches(']');
    if bracketed.parse::<std::net::IpAddr>().is_err() {
        client = client.resolve(host, ([127, 0, 0, 1], 0).into());
    }
    Ok(client.build()?)
}

/// Door unit `device` on the broker node at 127.0.0.1:`ports[0]`, subscribed to its acks,
/// moving on to the next of `ports` when its node goes (as a door unit's `other_nodes`).
async fn connect(
    ports: &[u16],
    site: &SiteId,
    device: DeviceId,
    secret: &str,
) -> anyhow::Result<Connected> {
    let nodes: Vec<MqttOptions> = ports
        .iter()
        .map(|&port| {
            let mut opts = options(port, device, secret);
            opts.set_inflight(1000);
            opts
        })
        .collect();
    let (client, mut events) = door::client(nodes[0].clone(), 4096);
    let acks_topic = Topic::new(site, device, Channel::Acks).to_string();
    client.subscribe(&acks_topic, QoS::AtLeastOnce).await?;
    loop {
        match tokio::time::timeout(Duration::from_secs(30), events.poll()).await {
            Ok(Ok(Event::Incoming(Packet::SubAck(_)))) => break,
            Ok(Ok(_)) => {}
            Ok(Err(e)) => anyhow::bail!("device {device}: {e}"),
            Err(_) => anyhow::bail!("device {device}: no SUBACK in 30 s"),
        }
    }
    let (tx, acks) = tokio::sync::mpsc::unbounded_channel();
    let link = Link {
        client: client.clone(),
        nodes,
        acks_topic,
    };
    tokio::spawn(pump(events, link, tx));
    Ok(Connected {
        client,
        topic: Topic::new(site, device, Channel::Records).to_string(),
        device,
        acks,
    })
}

/// What a unit's event loop needs to reconnect: its client, the broker's nodes in its order
/// and the topic its acks come on.
struct Link {
    client: AsyncClient,
    nodes: Vec<MqttOptions>,
    acks_topic: String,
}

/// Reads the event loop, timestamping every acknowledged id; when the connection breaks,
/// tries the broker's next node a second later and subscribes again once connected.
async fn pump(
    mut events: EventLoop,
    link: Link,
    acks: tokio::sync::mpsc::UnboundedSender<(RecordId, Instant)>,
) {
    let mut node = 0;
    loop {
        let event = match events.poll().await {
            Ok(event) => event,
            Err(_) => {
                node = (node + 1) % link.nodes.len();
                events.mqtt_options = link.nodes[node].clone();
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Event::Incoming(Packet::ConnAck(_)) = event {
            let _ = link
                .client
                .try_subscribe(&link.acks_topic, QoS::AtLeastOnce);
        }
        if let Event::Incoming(Packet::Publish(p)) = event
            && let Ok(Message::Ack(ack)) = decode(&p.payload, Limits::FROM_HUB)
        {
            let now = Instant::now();
            for id in ack.records {
                if acks.send((id, now)).is_err() {
                    return;
                }
            }
        }
    }
}

/// One simulated door unit publishing on its schedule.
struct DoorJob {
    door: Connected,
    room: String,
    students: Arc<[StudentId]>,
    interval: Duration,
    start: Instant,
    end: Instant,
    window_from: Instant,
    drain: Duration,
    backoff: Backoff,
    /// How long this unit's acks lately take: as a door unit, no copy sooner than twice it.
    acks: AckTime,
    /// Oldest first (record ids are UUID v7), as a door unit's outbox drains; at most
    /// [`MAX_IN_FLIGHT`], as a door unit's window.
    unacked: BTreeMap<RecordId, Unacked>,
    /// Made while the window was full, oldest first: sent (and only then encoded, as the
    /// generator's time is better spent keeping up) as acks make room.
    waiting: VecDeque<AttendanceRecord>,
    tally: Arc<Mutex<Tally>>,
}

/// Most records a door unit publishes again at once (the edge daemon's batch).
const REPUBLISH_BATCH: usize = 100;

impl DoorJob {
    /// Publishes until `end`, then publishes what is unacknowledged again for up to `drain`.
    /// Returns the records sent.
    async fn run(mut self) -> u64 {
        let mut ticks = tokio::time::interval_at(self.start.into(), self.interval);
        let mut retries = tokio::time::interval(Duration::from_millis(250));
        let mut sent = 0;
        let mut local = Tally::default();
        loop {
            tokio::select! {
                at = ticks.tick() => {
                    if Instant::from(at) >= self.end { break; }
                    self.publish(&mut local).await;
                    sent += 1;
                }
                _ = retries.tick() => self.republish_due(&mut local).await,
                Some((id, at)) = self.door.acks.recv() => {
                    self.acked(id, at, &mut local);
                    self.send_waiting().await;
                }
            }
        }
        let drain_until = tokio::time::Instant::now() + self.drain;
        while !self.unacked.is_empty() || !self.waiting.is_empty() {
            tokio::select! {
                _ = tokio::time::sleep_until(drain_until) => break,
                _ = retries.tick() => self.republish_due(&mut local).await,
                Some((id, at)) = self.door.acks.recv() => {
                    self.acked(id, at, &mut local);
                    self.send_waiting().await;
                }
            }
        }
        let _ = self.door.client.disconnect().await;
        local.never_acked = (self.unacked.len() + self.waiting.len()) as u64;
        let mut tally = self.tally.lock().unwrap();
        tally.latencies_us.extend(local.latencies_us);
        tally.acked += local.acked;
        tally.acked_in_window += local.acked_in_window;
        tally.republished += local.republished;
        tally.never_acked += local.never_acked;
        tally.held += local.held;
        sent
    }

    async fn publish(&mut self, local: &mut Tally) {
        let mut r = record(self.door.device, &self.room, UnixMillis::now());
        // Mostly Confident (no thumbnail), one in twenty Unknown, as at a school door.
        if !r.id.0.as_bytes()[15].is_multiple_of(20) {
            r.decision = Decision::Confident;
            r.thumbnail = None;
            let pick =
                usize::from(r.id.0.as_bytes()[14]) * 256 + usize::from(r.id.0.as_bytes()[13]);
            r.candidates = vec![Candidate {
                student: self.students[pick % self.students.len()],
                distance: 0.3,
            }];
        }
        if self.unacked.len() < MAX_IN_FLIGHT {
            self.send_first(r).await;
        } else {
            local.held += 1;
            self.waiting.push_back(r);
        }
    }

    /// Publishes a record for the first time; latency counts from here.
    async fn send_first(&mut self, r: AttendanceRecord) {
        let (id, message) = (r.id, Message::Record(r));
        let payload = encode(&message, Limits::FROM_DEVICE).expect("encodes");
        let now = Instant::now();
        let unacked = Unacked {
            first: now,
            payload: payload.clone(),
            attempts: 1,
            retry_at: now + self.acks.patient(self.backoff).jittered(1),
        };
        self.unacked.insert(id, unacked);
        self.send(payload).await;
    }

    /// Sends the records that waited, oldest first, while the window has room.
    async fn send_waiting(&mut self) {
        while self.unacked.len() < MAX_IN_FLIGHT
            && let Some(r) = self.waiting.pop_front()
        {
            self.send_first(r).await;
        }
    }

    /// Publishes again, oldest first, the records whose wait for an ack is over.
    async fn republish_due(&mut self, local: &mut Tally) {
        let now = Instant::now();
        let due: Vec<RecordId> = self
            .unacked
            .iter()
            .filter(|(_, u)| u.retry_at <= now)
            .map(|(id, _)| *id)
            .take(REPUBLISH_BATCH)
            .collect();
        for id in due {
            let Some(u) = self.unacked.get_mut(&id) else {
                continue;
            };
            u.attempts = u.attempts.saturating_add(1);
            u.retry_at = now + self.acks.patient(self.backoff).jittered(u.attempts);
            let payload = u.payload.clone();
            local.republished += 1;
            self.send(payload).await;
        }
    }

    async fn send(&self, payload: Vec<u8>) {
        let topic = self.door.topic.clone();
        let client = &self.door.client;
        if let Err(e) = client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
        {
            eprintln!("publish: {e}");
        }
    }

    fn acked(&mut self, id: RecordId, at: Instant, local: &mut Tally) {
        let Some(sent) = self.unacked.remove(&id) else {
            return;
        };
        if sent.attempts == 1 {
            self.acks.observe(at.saturating_duration_since(sent.first));
        }
        local.acked += 1;
        if at < self.window_from || at > self.end {
            return;
        }
        local.acked_in_window += 1;
        if sent.first >= self.window_from {
            local
                .latencies_us
                .push(at.duration_since(sent.first).as_micros() as u64);
        }
    }
}

/// Review polls: `(count, failures, latencies in µs)`.
async fn poll_reviews(teachers: Vec<Api>, start: Instant, end: Instant) -> (u64, u64, Vec<u64>) {
    let mut polls = Vec::new();
    for teacher in teachers {
        polls.push(tokio::spawn(async move {
            let (mut n, mut failed, mut lat) = (0, 0, Vec::new());
            let mut ticks = tokio::time::interval_at(start.into(), Duration::from_secs(1));
            while ticks.tick().await < end.into() {
                let asked = Instant::now();
                match teacher
                    .call(reqwest::Method::GET, "/review?limit=50", None)
                    .await
                {
                    Ok((status, _)) if status.is_success() => n += 1,
                    _ => failed += 1,
                }
                lat.push(asked.elapsed().as_micros() as u64);
            }
            (n, failed, lat)
        }));
    }
    let mut all = (0, 0, Vec::new());
    for poll in polls {
        if let Ok((n, failed, lat)) = poll.await {
            all.0 += n;
            all.1 += failed;
            all.2.extend(lat);
        }
    }
    all
}

/// The hub's CPU (% of one core, mean over the run) and peak resident memory (MiB).
fn sample(pid: u32, start: Instant, end: Instant) -> (f64, f64, f64) {
    std::thread::sleep(start.saturating_duration_since(Instant::now()));
    let (t0, cpu0) = (Instant::now(), cpu_ticks(pid).unwrap_or(0));
    // Up to the last time the process was seen: a hub killed during the run counts until then.
    let (mut t1, mut cpu1) = (t0, cpu0);
    let (mut peak, mut last) = (0.0f64, 0.0);
    while Instant::now() < end {
        std::thread::sleep(Duration::from_millis(500));
        if let Some(ticks) = cpu_ticks(pid) {
            (t1, cpu1) = (Instant::now(), ticks);
        }
        last = rss_mib(pid);
        peak = peak.max(last);
    }
    let seconds = t1.duration_since(t0).as_secs_f64().max(0.001);
    let cpu = cpu1.saturating_sub(cpu0) as f64 / 100.0 / seconds * 100.0;
    (cpu, peak, last)
}

/// utime + stime in clock ticks (100 per second on Linux); `None` once the process is gone.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat; index 11 and 12 after the name and state.
    let get = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Some(get(11) + get(12))
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn report(
    args: &Args,
    sent: u64,
    tally: &Tally,
    review: &(u64, u64, Vec<u64>),
    usage: Vec<(f64, f64, f64)>,
) {
    let mut lat = tally.latencies_us.clone();
    lat.sort_unstable();
    let window = (args.duration - args.warmup) as f64;
    println!(
        "devices {} | offered {:.0} records/s for {} s | made {sent}, {} waited for room in \
         a unit's window, published again {} | acked {} ({} never acked after a {} s drain)",
        args.devices * args.schools,
        args.rate * args.schools as f64,
        args.duration,
        tally.held,
        tally.republished,
        tally.acked,
        tally.never_acked,
        args.drain
    );
    println!(
        "sustained {:.0} acked records/s after {} s warm-up | publish→ack ms: p50 {:.1} p99 {:.1} max {:.1}",
        tally.acked_in_window as f64 / window,
        args.warmup,
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        percentile(&lat, 1.0)
    );
    let mut rl = review.2.clone();
    rl.sort_unstable();
    println!(
        "review polls {} ok, {} failed | GET /review ms: p50 {:.1} p99 {:.1} max {:.1}",
        review.0,
        review.1,
        percentile(&rl, 0.50),
        percentile(&rl, 0.99),
        percentile(&rl, 1.0)
    );
    for (i, (cpu, peak, last)) in usage.into_iter().enumerate() {
        println!(
            "hub {}: CPU {cpu:.0} % of one core (mean), RSS peak {peak:.0} MiB, at end {last:.0} MiB",
            i + 1
        );
    }
}
