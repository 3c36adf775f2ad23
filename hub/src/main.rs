//! `rollcall-hub`: the school server. Parses the command line, loads the configuration,
//! installs logging and hands over to the library.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use rollcall_hub::clock::SystemClock;
use rollcall_hub::config::{Config, DEFAULT_CONFIG};
use rollcall_hub::store::users::Role;
use rollcall_hub::{demo, setup};

/// Rollcall's school server: gallery, ingest, review queue, attendance and reports.
#[derive(Debug, Parser)]
#[command(name = "rollcall-hub", version, about)]
struct Cli {
    /// Print a commented example configuration and exit.
    #[arg(long)]
    print_default_config: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the data directory, database, token key and first admin.
    Init {
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long)]
        admin_user: String,
        /// File holding the admin password (else it is asked for on the terminal).
        #[arg(long)]
        admin_password_file: Option<PathBuf>,
    },
    /// Run the server.
    Serve {
        #[arg(long)]
        config: PathBuf,
    },
    /// Check a configuration file and print it (secrets redacted).
    CheckConfig { file: PathBuf },
    /// Register and list door units.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Add and list users.
    #[command(subcommand)]
    User(UserCommand),
    /// Try Rollcall on this machine: a hub with sample students and a door unit replaying
    /// sample photos (fetches the face models and photos the first time).
    Demo {
        /// The demo's directory, emptied and set up again on each run.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Port of the teacher pages on 127.0.0.1.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        #[arg(long)]
        models_dir: Option<PathBuf>,
    },
}

/// Where the database is: a data directory, or the one named by a configuration file.
#[derive(Debug, clap::Args)]
struct Target {
    #[arg(long, conflicts_with = "config")]
    data_dir: Option<PathBuf>,
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    /// Register a device; prints its id and MQTT credentials once.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        room: String,
        /// Also write the MQTT password, as the door unit's secrets file, to this new file
        /// (mode 0600); the password is then not printed.
        #[arg(long)]
        secrets_file: Option<PathBuf>,
        /// Also issue the door unit a client certificate: write client-cert.pem and
        /// client-key.pem (mode 0600) into this directory, made if missing. Makes the hub's
        /// door-unit CA in the data directory on first use.
        #[arg(long, value_name = "DIR")]
        cert: Option<PathBuf>,
        #[command(flatten)]
        target: Target,
    },
    /// Issue a client certificate to a registered device (to move it from its password to a
    /// certificate, or to renew one): writes client-cert.pem and client-key.pem into DIR.
    Cert {
        /// The device id `device add` printed.
        #[arg(long)]
        id: rollcall_shared::DeviceId,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[command(flatten)]
        target: Target,
    },
    List {
        #[command(flatten)]
        target: Target,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: Option<String>,
        /// admin or teacher
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long)]
        password_file: Option<PathBuf>,
        /// Where the e-mail digest goes (optional).
        #[arg(long, value_parser = parse_email)]
        email: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    List {
        #[command(flatten)]
        target: Target,
    },
    /// Set a user's password (for an admin who is locked out); ends all their sign-ins.
    ResetPassword {
        #[arg(long)]
        username: String,
        /// File holding the new password (else it is asked for on the terminal).
        #[arg(long)]
        password_file: Option<PathBuf>,
        #[command(flatten)]
        target: Target,
    },
}

fn parse_email(s: &str) -> Result<String, String> {
    rollcall_hub::accounts::email_address(s)
}

fn parse_role(s: &str) -> Result<Role, String> {
    match s {
        "admin" => Ok(Role::Admin),
        "teacher" => Ok(Role::Teacher),
        _ => Err("admin or teacher".into()),
    }
}

/// Makes glibc serve every block of 1 MiB or more from its own mapping, unmapped when freed.
///
/// By default glibc raises that threshold whenever such a block is freed, after which argon2's
/// 19 MiB working memory (one per device login, sign-in and password hash) is carved from the
/// heap instead; small long-lived allocations settle in the freed holes and the heap only
/// grows. 200 door units registering and logging in left the hub at 2.1 GB resident; with the
/// fixed threshold, 17 MB (docs/RELIABILITY.md).
fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; it runs first in main, before any thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

fn main() -> anyhow::Result<()> {
    install_panic_abort();
    return_large_blocks_to_the_system();
    let cli = Cli::parse();
    if cli.print_default_config {
        print!("{DEFAULT_CONFIG}");
        return Ok(());
    }
    // The demo talks to a person on this terminal: only warnings unless RUST_LOG says more.
    let level = match cli.command {
        Some(Command::Demo { .. }) => "warn",
        _ => "info",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| level.into()),
        )
        .init();
    match cli.command {
        None => bail!("nothing to do: see `rollcall-hub --help`"),
        Some(Command::Init {
            data_dir,
            admin_user,
            admin_password_file,
        }) => {
            let password = read_password(admin_password_file.as_deref(), "admin password: ")?;
            let user = setup::init(&data_dir, &admin_user, &password)?;
            println!(
                "initialised {} with admin {}",
                data_dir.display(),
                user.username
            );
        }
        Some(Command::Serve { config }) => serve(&config)?,
        Some(Command::CheckConfig { file }) => {
            let config = Config::load(&file)?;
            println!("{config:#?}");
        }
        Some(Command::Device(cmd)) => device(cmd)?,
        Some(Command::User(cmd)) => user(cmd)?,
        Some(Command::Demo {
            dir,
            port,
            models_dir,
        }) => {
            let dir = dir.unwrap_or_else(demo::default_dir);
            demo(demo::DemoOptions {
                dir,
                port,
                models_dir,
            })?
        }
    }
    Ok(())
}

fn demo(options: demo::DemoOptions) -> anyhow::Result<()> {
    let edge = demo::edge_beside_me()?;
    println!(
        "Setting up the demo in {} (the first run fetches the face models and sample photos)...",
        options.dir.display()
    );
    let prepared = demo::prepare(&options)?;
    println!("{}", demo::summary(&prepared));
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    runtime.block_on(demo::run(prepared, &edge, shutdown_signal()))?;
    println!("demo stopped");
    Ok(())
}

/// A panicking task must not leave a half-working daemon: log and abort so systemd restarts it.
/// A panic inside one request or one database call is contained instead: logged here,
/// answered 500 by the API, and the hub serves on (see `rollcall_hub::contain`).
fn install_panic_abort() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if rollcall_hub::contain::is_contained() {
            let backtrace = std::backtrace::Backtrace::force_capture();
            tracing::error!("contained panic: {info}\n{backtrace}");
            return;
        }
        default(info);
        std::process::abort();
    }));
}

fn serve(path: &Path) -> anyhow::Result<()> {
    let config = Config::load(path)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.http.listen)
            .await
            .with_context(|| format!("binding {}", config.http.listen))?;
        let scheme = if config.http.tls.is_some() {
            "https"
        } else {
            "http"
        };
        tracing::info!("API on {scheme}://{}/api/v1", listener.local_addr()?);
        rollcall_hub::run(config, listener, Arc::new(SystemClock), shutdown_signal()).await?;
        Ok(())
    })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

fn read_password(file: Option<&Path>, prompt: &str) -> anyhow::Result<String> {
    if let Some(file) = file {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        return Ok(text.trim_end_matches(['\n', '\r']).to_owned());
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to ask for the password on: pass a password file");
    }
    let first = rpassword::prompt_password(prompt)?;
    let again = rpassword::prompt_password("again: ")?;
    if first != again {
        bail!("the passwords differ");
    }
    Ok(first)
}

/// Writes `password = "..."` to a new file readable only by its owner.
fn write_secret_file(path: &Path, password: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    writeln!(file, "password = \"{password}\"")?;
    Ok(())
}

/// The door unit's `[device]` and `[broker]` settings for this hub.
fn print_edge_snippet(
    config: &Config,
    r: &rollcall_hub::accounts::Registered,
    secrets: Option<&Path>,
) {
    use rollcall_hub::config::MqttMode;
    let url = match config.mqtt.mode {
        MqttMode::Embedded => {
            let e = &config.mqtt.embedded;
            let scheme = if e.tls.is_some() { "mqtts" } else { "mqtt" };
            format!("{scheme}://{}", e.listen)
        }
        MqttMode::External => format!("mqtt://{}", config.mqtt.broker),
    };
    let secrets = secrets.map_or("/etc/rollcall/edge-secrets.toml".into(), |p| {
        p.display().to_string()
    });
    println!();
    println!(
        "# for the door unit's edge.toml (use the hub's host name in url when the hub listens on"
    );
    println!("# all addresses, and mqtts:// with ca_file when it serves TLS):");
    println!("[device]");
    println!("id = \"{}\"", r.device.id);
    println!("site = \"{}\"", config.site);
    println!("room = \"{}\"", r.device.room);
    println!();
    println!("[broker]");
    println!("url = \"{url}\"");
    println!("username = \"{}\"", r.mqtt_username);
    println!("secrets_file = \"{secrets}\"");
}

fn data_dir(target: Target) -> anyhow::Result<PathBuf> {
    match (target.data_dir, target.config) {
        (Some(dir), _) => Ok(dir),
        (None, Some(config)) => Ok(Config::load(&config)?.data_dir),
        (None, None) => bail!("say which hub: --data-dir DIR or --config FILE"),
    }
}

/// Tells what to copy to the door unit and how its edge.toml names the files.
fn print_cert_files(files: &rollcall_hub::device_ca::DeviceFiles) {
    println!("client certificate: {}", files.cert.display());
    println!("client key:         {} (mode 0600)", files.key.display());
    println!();
    println!("# copy both to the door unit (e.g. into /etc/rollcall/, the key readable only by");
    println!(
        "# the rollcall-edge user); its edge.toml [broker] then says (besides url and ca_file):"
    );
    println!("client_cert = \"/etc/rollcall/client-cert.pem\"");
    println!("client_key = \"/etc/rollcall/client-key.pem\"");
    println!(
        "# the hub accepts it once [mqtt.embedded.tls] client_auth = \"optional\" or \"required\""
    );
}

fn device(cmd: DeviceCommand) -> anyhow::Result<()> {
    match cmd {
        DeviceCommand::Add {
            name,
            room,
            secrets_file,
            cert,
            target,
        } => {
            let config = target.config.as_deref().map(Config::load).transpose()?;
            let dir = data_dir(target)?;
            let db = setup::open(&dir)?;
            let r = setup::add_device(&db, &name, &room)?;
            println!("device id:     {}", r.device.id);
            println!("mqtt username: {}", r.mqtt_username);
            match &secrets_file {
                Some(path) => {
                    write_secret_file(path, &r.mqtt_password)?;
                    println!("mqtt password: written to {}", path.display());
                }
                None => {
                    println!("mqtt password: {}", r.mqtt_password);
                    println!("(shown once)");
                }
            }
            if let Some(config) = config {
                print_edge_snippet(&config, &r, secrets_file.as_deref());
            }
            if let Some(out) = cert {
                println!();
                print_cert_files(&setup::issue_device_cert(&dir, &db, r.device.id, &out)?);
            }
        }
        DeviceCommand::Cert { id, out, target } => {
            let dir = data_dir(target)?;
            let db = setup::open(&dir)?;
            print_cert_files(&setup::issue_device_cert(&dir, &db, id, &out)?);
        }
        DeviceCommand::List { target } => {
            for d in setup::list_devices(&setup::open(&data_dir(target)?)?)? {
                let state = if d.enabled { "enabled" } else { "disabled" };
                println!("{}  {:<20} {:<12} {state}", d.id, d.name, d.room);
            }
        }
    }
    Ok(())
}

fn user(cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add {
            username,
            display_name,
            role,
            password_file,
            email,
            target,
        } => {
            let db = setup::open(&data_dir(target)?)?;
            let password = read_password(password_file.as_deref(), "password: ")?;
            let shown = display_name.as_deref().unwrap_or(&username);
            let user = setup::add_user(&db, &username, shown, role, &password, email.as_deref())?;
            println!("{}  {} ({})", user.id, user.username, user.role.as_str());
        }
        UserCommand::List { target } => {
            for u in setup::list_users(&setup::open(&data_dir(target)?)?)? {
                let email = u.email.as_deref().unwrap_or("");
                println!(
                    "{}  {:<20} {:<8} {email}",
                    u.id,
                    u.username,
                    u.role.as_str()
                );
            }
        }
        UserCommand::ResetPassword {
            username,
            password_file,
            target,
        } => {
            let db = setup::open(&data_dir(target)?)?;
            let password = read_password(password_file.as_deref(), "new password: ")?;
            let user = setup::reset_password(&db, &username, &password)?;
            println!(
                "password of {} set; all their sign-ins ended",
                user.username
            );
        }
    }
    Ok(())
}
