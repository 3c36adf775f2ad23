//! The daemon's subcommands: `run`, `check-config`, `trigger`, `faces-key-lost`,
//! `--print-default-config`. Like the other command modules they report with `anyhow`; the
//! daemon itself (`crate::daemon`) uses typed errors.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use rollcall_models::pipeline::{FacePipeline, PipelineOptions};
use rollcall_models::weights::ModelsDir;

use crate::cli::{CheckConfigArgs, FacesKeyLostArgs, RunArgs, TriggerArgs};
use crate::config::{self, DEFAULT_CONFIG, Secrets};
use crate::daemon::Hardware;
use crate::daemon::capture::socket::{send_trigger, socket_path};

/// Threads for the async executor: networking and SQLite hand-offs need little.
const EXECUTOR_THREADS: usize = 2;

pub fn print_default_config() -> anyhow::Result<ExitCode> {
    print!("{DEFAULT_CONFIG}");
    Ok(ExitCode::SUCCESS)
}

pub fn check_config(args: CheckConfigArgs) -> anyhow::Result<ExitCode> {
    let config = config::load(&args.file)?;
    Secrets::load(config.broker.secrets_file.as_deref())?;
    println!(
        "{}: ok (device {}, site {}, room {:?}, broker {})",
        args.file.display(),
        config.device.id,
        config.device.site,
        config.device.room,
        config.broker.url
    );
    Ok(ExitCode::SUCCESS)
}

/// `faces-key-lost`: drops what is sealed with keys the key file lacks.
pub fn faces_key_lost(args: FacesKeyLostArgs) -> anyhow::Result<ExitCode> {
    use rollcall_runtime::seal::FaceKeys;
    let config = config::load(&args.config)?;
    let key_file = config.face_key_path();
    let keys = match key_file.exists() {
        true => FaceKeys::load(&key_file)?,
        false => FaceKeys::generate(),
    };
    let db =
        crate::daemon::db::Db::open(&config.data_dir.join(crate::daemon::db::FILE_NAME), keys)?;
    let lacking = db.lacking()?;
    let records: usize = lacking.records.values().sum();
    if records == 0 && lacking.gallery.is_none() {
        println!("the key file opens everything stored: nothing to do");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "sealed with a key {} lacks: {records} records waiting to be sent{}",
        key_file.display(),
        if lacking.gallery.is_some() {
            ", and the gallery"
        } else {
            ""
        }
    );
    if !args.yes {
        println!("nothing dropped: run again with --yes if that key is lost for good");
        return Ok(ExitCode::FAILURE);
    }
    db.forget_lost()?;
    if !key_file.exists() {
        FaceKeys::create(&key_file)?;
    }
    println!("dropped them; the daemon can start (the hub sends the gallery again)");
    Ok(ExitCode::SUCCESS)
}

pub fn trigger(args: TriggerArgs) -> anyhow::Result<ExitCode> {
    let path = match (&args.socket, &args.config) {
        (Some(socket), _) => socket.clone(),
        (None, Some(file)) => socket_path(&config::load(file)?.data_dir),
        (None, None) => anyhow::bail!("give --config FILE or --socket PATH"),
    };
    if send_trigger(&path, args.hold)? {
        println!("burst requested");
    } else {
        println!("busy: a burst is already waiting; trigger ignored");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(args: RunArgs, models_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let config = config::load(&args.config)?;
    rollcall_runtime::logging::use_format(config.logging.format);
    let secrets = Secrets::load(config.broker.secrets_file.as_deref())?;
    let dir = ModelsDir::resolve(models_dir)?;
    let pipeline = FacePipeline::load(&dir, PipelineOptions::door()).context(
        "loading the face models (run `rollcall-edge models fetch` if they are missing)",
    )?;
    let hardware = Hardware::from_config(&config, Box::new(pipeline))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(EXECUTOR_THREADS)
        .thread_name("rollcall-async")
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let shutdown =
            rollcall_runtime::shutdown::signal().context("installing signal handlers")?;
        crate::daemon::run(config, secrets, hardware, shutdown).await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
