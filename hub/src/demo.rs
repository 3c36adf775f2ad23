//! `rollcall-hub demo`: the whole system on one machine in one command. Fetches the face
//! models and the pinned sample photos when missing, sets up a small school in a demo
//! directory (accounts, a class meeting now in "Demo room", students enrolled from the photos
//! through the hub's own enrolment path, a registered door unit), then runs the hub with its
//! embedded broker and a `rollcall-edge` replaying other photos of the same people.
//!
//! Owns only the demo directory it is given (and refuses a non-empty one it did not create).
//! Production set-up goes through `init`, `user`, `device` and the API, never through here.

mod edge;
mod error;
mod school;

use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rollcall_models::weights::{self, DEMO_PHOTOS, ModelsDir};
use rollcall_runtime::clock::SystemClock;

use crate::config::Config;
use crate::server::{Listeners, run_on};

pub use edge::EdgeProcess;
pub use error::DemoError;
pub use school::{ADMIN, DEMO_ROOM, School, TEACHER};

/// The file that marks a directory as made by the demo (so it may be emptied and reused).
const MARKER: &str = "rollcall-demo.txt";

/// Where the demo lives and what it serves on.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The demo directory (hub and door-unit data, sample photos, logs).
    pub dir: PathBuf,
    /// HTTP port of the teacher pages, on 127.0.0.1 (0 picks a free one).
    pub port: u16,
    /// Where face models are (else `ROLLCALL_MODELS_DIR` and the usual places).
    pub models_dir: Option<PathBuf>,
}

/// The default demo directory: `$XDG_DATA_HOME/rollcall/demo` or `~/.local/share/rollcall/demo`.
pub fn default_dir() -> PathBuf {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    var("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(std::env::temp_dir)
        .join("rollcall/demo")
}

/// `rollcall-edge` in the same directory as the running program.
pub fn edge_beside_me() -> Result<PathBuf, DemoError> {
    let me = std::env::current_exe().map_err(DemoError::io(Path::new("current executable")))?;
    let edge = me.with_file_name("rollcall-edge");
    if edge.is_file() {
        Ok(edge)
    } else {
        Err(DemoError::EdgeMissing(edge))
    }
}

/// A demo ready to run: its configuration, bound sockets and what was set up.
#[derive(Debug)]
pub struct Prepared {
    pub config: Config,
    pub http: StdListener,
    pub mqtt: StdListener,
    pub school: School,
    pub edge_config: PathBuf,
    pub dir: PathBuf,
}

impl Prepared {
    /// The teacher pages' address.
    pub fn url(&self) -> String {
        let port = self.http.local_addr().map_or(0, |a| a.port());
        format!("http://127.0.0.1:{port}/")
    }
}

/// What to tell the person who started the demo: where to go, how to sign in, what to expect.
pub fn summary(prepared: &Prepared) -> String {
    let school = &prepared.school;
    let (start, end) = &school.lesson;
    let students: Vec<String> = school
        .students
        .iter()
        .map(|(name, photos)| format!("{name} ({photos} enrolment photos)"))
        .collect();
    format!(
        "Rollcall demo running (data in {dir}).

  Teacher pages:  {url}
  Sign in as:     {teacher} / {teacher_pw}   (admin: {admin} / {admin_pw})

{class} meets in {room} today {start}-{end}: {students}.
A door unit in {room} replays two photos, one every 5 seconds (log: {log}):
  - a new photo of Barack Obama: a Confident record, he is marked Present at once (Today);
  - Joe Biden, who has no enrolment photo: No close match, waiting for you under Review.
    Press \"Someone else...\" and pick Joe Biden (or Reject). Every 3 minutes they are seen again.
The demo keeps faces that match nobody so that you see the review; a school's default
discards them on the door unit ([privacy] unknown_faces).
Press Ctrl-C to stop the hub and the door unit.
",
        dir = prepared.dir.display(),
        url = prepared.url(),
        teacher = TEACHER.username,
        teacher_pw = TEACHER.password,
        admin = ADMIN.username,
        admin_pw = ADMIN.password,
        class = school.class,
        room = DEMO_ROOM,
        students = students.join(", "),
        log = prepared.dir.join("edge.log").display(),
    )
}

/// Fetch what is missing, start the demo directory afresh, bind the sockets, set up the school.
/// Blocking (downloads, the face pipeline): call it before starting the runtime.
pub fn prepare(options: &DemoOptions) -> Result<Prepared, DemoError> {
    let models = ModelsDir::resolve(options.models_dir.as_deref())?;
    let fetched = weights::fetch(&models)?;
    if !fetched.was_complete() {
        print!("{fetched}");
    }
    let dir = fresh_dir(&options.dir)?;
    let photos = dir.join("photos");
    weights::fetch_photos(&DEMO_PHOTOS, &photos)?;
    let http = bind(SocketAddr::from(([127, 0, 0, 1], options.port)))?;
    let mqtt = bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let config = school::config(&dir, &models, &http, &mqtt)?;
    let school = School::set_up(&config, &models, &photos)?;
    let edge_config = edge::write_config(&dir, &config, &school, &photos)?;
    Ok(Prepared {
        config,
        http,
        mqtt,
        school,
        edge_config,
        dir,
    })
}

/// Run the hub and the door unit until `shutdown`, then stop the door unit and the hub.
pub async fn run(
    prepared: Prepared,
    edge_program: &Path,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DemoError> {
    let Prepared {
        config,
        http,
        mqtt,
        edge_config,
        dir,
        ..
    } = prepared;
    let listeners = Listeners {
        http: tokio_listener(http)?,
        mqtt: Some(tokio_listener(mqtt)?),
    };
    let mut edge = EdgeProcess::start(edge_program, &edge_config, &dir.join("edge.log"))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let hub = run_on(config, listeners, Arc::new(SystemClock), async {
        let _ = stopped.await;
    });
    let watch = async {
        shutdown.await;
        edge.stop().await;
        let _ = stop.send(());
    };
    let (result, ()) = tokio::join!(hub, watch);
    Ok(result?)
}

fn bind(addr: SocketAddr) -> Result<StdListener, DemoError> {
    StdListener::bind(addr).map_err(|source| DemoError::Bind { addr, source })
}

fn tokio_listener(listener: StdListener) -> Result<tokio::net::TcpListener, DemoError> {
    let io = |source| DemoError::Io {
        path: "listening socket".into(),
        source,
    };
    listener.set_nonblocking(true).map_err(io)?;
    tokio::net::TcpListener::from_std(listener).map_err(io)
}

/// Empty `dir` of a previous demo's data (keeping the photos), or create it.
fn fresh_dir(dir: &Path) -> Result<PathBuf, DemoError> {
    std::fs::create_dir_all(dir).map_err(DemoError::io(dir))?;
    let dir = dir.canonicalize().map_err(DemoError::io(dir))?;
    let marker = dir.join(MARKER);
    let mut entries = std::fs::read_dir(&dir).map_err(DemoError::io(&dir))?;
    if !marker.is_file() && entries.next().is_some() {
        return Err(DemoError::NotADemoDir(dir));
    }
    for old in ["hub-data", "edge-data", "replay"] {
        let path = dir.join(old);
        if path.exists() {
            std::fs::remove_dir_all(&path).map_err(DemoError::io(&path))?;
        }
    }
    let note =
        "Made by `rollcall-hub demo`, which empties this directory (but photos/) each run.\n";
    std::fs::write(&marker, note).map_err(DemoError::io(&marker))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_foreign_directory_is_refused_and_a_demo_one_emptied() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("thesis.tex"), "mine").unwrap();
        let err = fresh_dir(tmp.path()).unwrap_err();
        assert!(matches!(err, DemoError::NotADemoDir(_)), "{err}");
        assert!(tmp.path().join("thesis.tex").exists());

        let demo = tmp.path().join("demo");
        let dir = fresh_dir(&demo).unwrap();
        std::fs::create_dir_all(dir.join("hub-data/x")).unwrap();
        std::fs::create_dir_all(dir.join("photos")).unwrap();
        fresh_dir(&demo).unwrap();
        assert!(!dir.join("hub-data").exists(), "old hub data removed");
        assert!(dir.join("photos").exists(), "photos kept");
    }
}
