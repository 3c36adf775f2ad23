//! The demo's door unit: its configuration (replay camera over sample photos the hub has not
//! enrolled, a burst every few seconds) and the `rollcall-edge run` child process.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rollcall_models::pipeline::model_id;

use super::error::DemoError;
use super::school::School;
use crate::config::Config;

/// The photos the door's "camera" shows, in this order, looping: a new photo of the enrolled
/// student, then a person who is not enrolled.
pub const REPLAY: [&str; 2] = ["obama3.jpg", "biden.jpg"];

/// Write `dir/edge.toml`, `dir/edge-secrets.toml` and the replay folder; return the config path.
pub fn write_config(
    dir: &Path,
    hub: &Config,
    school: &School,
    photos: &Path,
) -> Result<PathBuf, DemoError> {
    let replay = dir.join("replay");
    std::fs::create_dir_all(&replay).map_err(DemoError::io(&replay))?;
    for (i, name) in REPLAY.iter().enumerate() {
        let (from, to) = (photos.join(name), replay.join(format!("{}-{name}", i + 1)));
        std::fs::copy(&from, &to).map_err(DemoError::io(&to))?;
    }
    let secrets = dir.join("edge-secrets.toml");
    let password = format!("password = \"{}\"\n", school.device.mqtt_password);
    write_private(&secrets, &password)?;
    let config = dir.join("edge.toml");
    let text = config_text(dir, hub, school, &secrets, &replay);
    std::fs::write(&config, text).map_err(DemoError::io(&config))?;
    Ok(config)
}

fn config_text(dir: &Path, hub: &Config, school: &School, secrets: &Path, replay: &Path) -> String {
    let device = &school.device;
    format!(
        r#"# Written by `rollcall-hub demo`.
data_dir = "{data}"
[device]
id = "{id}"
site = "{site}"
room = "{room}"
[broker]
url = "mqtt://{mqtt}"
username = "{user}"
secrets_file = "{secrets}"
reconnect_min = "200ms"
reconnect_max = "2s"
[trigger]
interval = "5s"
manual = true
[camera]
kind = "replay"
dir = "{replay}"
fps = 10.0
[burst]
frames = 1
[matching]
calibrated_for = "{model}"
# The thresholds docs/ACCURACY.md recommends for this model.
confident = 0.26
uncertain = 0.30
min_margin = 0.035
cooldown = "3m"
[status]
heartbeat = "5s"
"#,
        data = dir.join("edge-data").display(),
        id = device.device.id,
        site = hub.site,
        room = device.device.room,
        mqtt = hub.mqtt.embedded.listen,
        user = device.mqtt_username,
        secrets = secrets.display(),
        replay = replay.display(),
        model = model_id(),
    )
}

fn write_private(path: &Path, text: &str) -> Result<(), DemoError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(DemoError::io(path))?;
    file.write_all(text.as_bytes()).map_err(DemoError::io(path))
}

/// A running `rollcall-edge run`, its output in a log file.
#[derive(Debug)]
pub struct EdgeProcess {
    child: Child,
}

impl EdgeProcess {
    pub fn start(program: &Path, config: &Path, log: &Path) -> Result<Self, DemoError> {
        let out = std::fs::File::create(log).map_err(DemoError::io(log))?;
        let err = out.try_clone().map_err(DemoError::io(log))?;
        let child = Command::new(program)
            .arg("run")
            .arg("--config")
            .arg(config)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|source| DemoError::EdgeStart {
                program: program.to_owned(),
                source,
            })?;
        Ok(Self { child })
    }

    /// SIGTERM, then wait up to ten seconds for it to flush and exit; SIGKILL after that.
    pub async fn stop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..100 {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for EdgeProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
