//! A three-node NATS cluster with JetStream and its MQTT listener, as a district runs it for
//! hubs with `[mqtt] mode = "external"` (docs/DISTRICT.md): each node's MQTT listener on TLS
//! with a certificate from the school's [`Pki`], no anonymous clients, the hub's account
//! reading every door unit's uplink channels and writing their downlink ones, and each door
//! unit only its own topics. Every node is its own
//! process, on its own loopback ports and store directory; a node can be killed (SIGKILL)
//! and started again, and every node's log is printed when a test fails.
//!
//! NATS maps MQTT topics to subjects (`/` becomes `.`), so the permissions are written on
//! subjects; an MQTT client also needs the server's own `$MQTT.>` subjects, through which the
//! MQTT gateway keeps sessions and QoS 1 deliveries in JetStream.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use rollcall_shared::topics::{Channel, Topic, hub_filter};
use rollcall_shared::{DeviceId, SiteId};

use crate::pki::Pki;
use crate::school_broker::{Account, HUB_USER};

/// Where Debian puts the server (package `nats-server`).
const CANDIDATES: &[&str] = &[
    "nats-server",
    "/usr/sbin/nats-server",
    "/usr/bin/nats-server",
];

/// Nodes in the cluster: JetStream keeps going with two of three.
pub const NODES: usize = 3;

/// One node: its config, MQTT and monitoring addresses and directory (store and log).
#[derive(Debug)]
struct Node {
    child: Option<Child>,
    conf: PathBuf,
    dir: PathBuf,
    mqtt: SocketAddr,
    monitor: SocketAddr,
}

/// The running cluster.
#[derive(Debug)]
pub struct NatsCluster {
    nodes: Vec<Node>,
}

impl NatsCluster {
    /// Writes each node's config under `dir` and starts all three, MQTT on TLS at the given
    /// loopback `mqtt_ports`, with `accounts` (the hub's is [`HUB_USER`]; every other account
    /// is a door unit of `site`, its user name its device id).
    pub fn start(
        dir: &Path,
        mqtt_ports: [u16; NODES],
        pki: &Pki,
        site: &str,
        accounts: &[Account],
    ) -> anyhow::Result<Self> {
        let site = SiteId::new(site)?;
        let users = users(&site, accounts)?;
        // Every port the nodes listen on, picked together so no two are the same (a node left
        // to choose its own client port once chose its route port, just released).
        let picked = crate::free_ports(3 * NODES)?;
        let (routes, rest) = picked.split_at(NODES);
        let (clients, monitors) = rest.split_at(NODES);
        let mut nodes = Vec::new();
        for (i, mqtt_port) in mqtt_ports.into_iter().enumerate() {
            let node_dir = dir.join(format!("n{}", i + 1));
            std::fs::create_dir_all(&node_dir)?;
            let conf = node_dir.join("nats.conf");
            let monitor: SocketAddr = ([127, 0, 0, 1], monitors[i]).into();
            let ports = Ports {
                client: clients[i],
                mqtt: mqtt_port,
                monitor: monitor.port(),
            };
            std::fs::write(&conf, config(i, routes, ports, pki, &node_dir, &users)?)?;
            nodes.push(Node {
                child: None,
                conf,
                dir: node_dir,
                mqtt: ([127, 0, 0, 1], mqtt_port).into(),
                monitor,
            });
        }
        let mut cluster = Self { nodes };
        for i in 0..NODES {
            cluster.spawn(i)?;
        }
        for i in 0..NODES {
            cluster.wait_ready(i)?;
        }
        Ok(cluster)
    }

    /// Kills node `i` (0-based) with SIGKILL, as a crash or a power cut would.
    pub fn kill(&mut self, i: usize) -> anyhow::Result<()> {
        if let Some(mut child) = self.nodes[i].child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    /// Starts node `i` again with its config and store, and waits until it has caught up
    /// with the others (its `/healthz` says JetStream is current) and takes MQTT clients.
    /// NATS 2.9 (Debian's) sometimes never reports a restarted node current although it has
    /// found the meta leader (nats-io/nats-server#3563, #4695); such a node is killed and
    /// started once more, as an operator would.
    pub fn restart(&mut self, i: usize) -> anyhow::Result<()> {
        anyhow::ensure!(self.nodes[i].child.is_none(), "node {i} is running");
        self.spawn(i)?;
        if self.wait_ready(i).is_ok() {
            return Ok(());
        }
        eprintln!(
            "nats node {} not current after its restart: starting it again",
            i + 1
        );
        self.kill(i)?;
        self.spawn(i)?;
        self.wait_ready(i)
    }

    /// Every node's log so far.
    pub fn output(&self) -> String {
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let log = std::fs::read_to_string(n.dir.join("nats.log")).unwrap_or_default();
                format!("---- nats node {} ----\n{log}", i + 1)
            })
            .collect()
    }

    fn spawn(&mut self, i: usize) -> anyhow::Result<()> {
        let binary = find_binary().with_context(|| {
            let why = "the clustered-broker test needs a real NATS cluster";
            crate::setup::missing("nats-server", why)
        })?;
        let node = &mut self.nodes[i];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(node.dir.join("nats.log"))?;
        let child = Command::new(binary)
            .arg("-c")
            .arg(&node.conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting nats-server")?;
        node.child = Some(child);
        Ok(())
    }

    fn wait_ready(&mut self, i: usize) -> anyhow::Result<()> {
        let (mqtt, monitor) = (self.nodes[i].mqtt, self.nodes[i].monitor);
        crate::wait_until("a NATS node, healthy", Duration::from_secs(60), || {
            (healthy(monitor) && crate::accepts_connections(mqtt)) || self.exited(i)
        })?;
        anyhow::ensure!(
            !self.exited(i),
            "nats node {} exited at start:\n{}",
            i + 1,
            self.output()
        );
        Ok(())
    }

    fn exited(&mut self, i: usize) -> bool {
        let Some(child) = self.nodes[i].child.as_mut() else {
            return true;
        };
        matches!(child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            let _ = self.kill(i);
        }
        if std::thread::panicking() {
            eprintln!("{}", self.output());
        }
    }
}

/// Whether the node's monitoring endpoint answers `/healthz` with 200: it is in the cluster
/// and its JetStream is current.
fn healthy(monitor: SocketAddr) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&monitor, Duration::from_secs(1))
    else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut answer = String::new();
    stream
        .write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .and_then(|()| stream.read_to_string(&mut answer))
        .is_ok_and(|_| answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200"))
}

/// The MQTT topic `topic` as the NATS subject the gateway maps it to.
fn subject(topic: &str) -> String {
    topic.replace('/', ".").replace('+', "*").replace('#', ">")
}

/// The `users` block: the hub writes every door unit's downlink channels and reads their
/// uplink ones; a door unit writes its own uplink channels and reads its own downlink ones.
fn users(site: &SiteId, accounts: &[Account]) -> anyhow::Result<String> {
    let mut out = String::new();
    for a in accounts {
        let topic: Box<dyn Fn(Channel) -> String> = if a.user == HUB_USER {
            Box::new(|c| hub_filter(site, c))
        } else {
            let device: DeviceId = a.user.parse().context("a door unit's user is its id")?;
            Box::new(move |c| Topic::new(site, device, c).to_string())
        };
        let writes_uplink = a.user != HUB_USER;
        out += &format!(
            "    {{ user: {}, password: {}, permissions: {{ publish: [{}], subscribe: [{}] }} }}\n",
            json(&a.user),
            json(&a.password),
            subjects(writes_uplink, &topic),
            subjects(!writes_uplink, &topic),
        );
    }
    Ok(out)
}

/// The subjects of the uplink (or downlink) channels, each topic as `topic` writes it, and
/// the gateway's own `$MQTT.>`: a quoted, comma-separated list.
fn subjects(uplink: bool, topic: &dyn Fn(Channel) -> String) -> String {
    let subjects: Vec<String> = Channel::ALL
        .into_iter()
        .filter(|c| c.from_device() == uplink)
        .map(|c| json(&subject(&topic(c))))
        .chain(std::iter::once(json("$MQTT.>")))
        .collect();
    subjects.join(", ")
}

/// A node's MQTT and monitoring ports.
#[derive(Debug, Clone, Copy)]
struct Ports {
    client: u16,
    mqtt: u16,
    monitor: u16,
}

/// One node's config: its client port (nobody here uses NATS's own protocol, but a port the
/// node chose itself could be one of the ports picked for the others), monitoring, cluster
/// routes to all three, JetStream, MQTT over TLS.
fn config(
    i: usize,
    routes: &[u16],
    ports: Ports,
    pki: &Pki,
    dir: &Path,
    users: &str,
) -> anyhow::Result<String> {
    let routes: Vec<String> = routes
        .iter()
        .map(|p| format!("\"nats-route://127.0.0.1:{p}\""))
        .collect();
    Ok(format!(
        "server_name: n{n}\n\
         listen: 127.0.0.1:{client}\n\
         http: 127.0.0.1:{monitor}\n\
         jetstream {{ store_dir: {store} }}\n\
         cluster {{\n  name: rollcall\n  listen: 127.0.0.1:{route}\n  routes: [{routes}]\n}}\n\
         mqtt {{\n  listen: 127.0.0.1:{mqtt}\n  \
         tls {{ cert_file: {cert}, key_file: {key} }}\n}}\n\
         authorization {{\n  users: [\n{users}  ]\n}}\n",
        n = i + 1,
        client = ports.client,
        monitor = ports.monitor,
        mqtt = ports.mqtt,
        store = json(&dir.join("jetstream").display().to_string()),
        route = routes_port(&routes, i)?,
        routes = routes.join(", "),
        cert = json(&pki.server_cert.display().to_string()),
        key = json(&pki.server_key.display().to_string()),
    ))
}

/// Node `i`'s own route port, read back from its `nats-route://` URL.
fn routes_port(routes: &[String], i: usize) -> anyhow::Result<u16> {
    let url = routes.get(i).context("no route for the node")?;
    let port = url
        .trim_matches('"')
        .rsplit(':')
        .next()
        .context("route without a port")?;
    Ok(port.parse()?)
}

/// `s` as a quoted string NATS's config reads back unchanged.
fn json(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn find_binary() -> Option<PathBuf> {
    CANDIDATES.iter().map(PathBuf::from).find(|p| {
        Command::new(p)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    })
}
