//! The command line of `rollcall-hub`: what each subcommand takes. Parsing only; the commands
//! themselves are in [`crate::commands`].

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use rollcall_shared::Direction;

use rollcall_store::users::Role;

/// Rollcall's school server: gallery, ingest, review queue, attendance and reports.
#[derive(Debug, Parser)]
#[command(name = "rollcall-hub", version, about)]
pub struct Cli {
    /// Print a commented example configuration and exit.
    #[arg(long)]
    pub print_default_config: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the data directory, database, token key and first admin.
    Init {
        #[command(flatten)]
        target: Target,
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
    /// Bring the database up to this version's schema (SQLite or PostgreSQL, as the
    /// configuration says) and print its version; hubs starting together migrate once.
    Migrate {
        #[arg(long)]
        config: PathBuf,
    },
    /// List the schools sharing the PostgreSQL database the configuration names: each one's
    /// schema version, students, door units (online), records of the last 24 hours and
    /// review queue.
    Schools {
        #[arg(long)]
        config: PathBuf,
    },
    /// Check a configuration file and print it (secrets redacted).
    CheckConfig { file: PathBuf },
    /// Copy the database into a new file while the hub serves, and check the copy.
    Backup {
        /// The backup file to write (never overwritten).
        #[arg(long)]
        to: PathBuf,
        #[command(flatten)]
        target: Target,
    },
    /// Write the school's data (students, classes, timetable, register, records, audit; no
    /// faces, no secrets) as CSV and JSON in one zip archive, while the hub serves.
    Export {
        /// The archive to write (never overwritten; readable by its owner only).
        #[arg(long)]
        to: PathBuf,
        /// The hub's configuration (its data directory, site and time zone).
        #[arg(long)]
        config: PathBuf,
        /// Which school of a configuration that serves several (`[[schools]]`), by site.
        #[arg(long)]
        school: Option<String>,
    },
    /// Check a backup file: SQLite's integrity check, its schema version, what it holds.
    CheckBackup { file: PathBuf },
    /// Replace the hub's database with a backup. The hub must be stopped; the database it
    /// replaces is kept beside it.
    Restore {
        /// The backup file.
        file: PathBuf,
        #[command(flatten)]
        target: Target,
    },
    /// Register and list door units.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Import classes, students, teachers and memberships from the school information system.
    #[command(subcommand)]
    Roster(RosterCommand),
    /// Enrol a folder of photos in one go (a school photographer's), or a zip of one: each
    /// named by the student's reference (`S0042.jpg`, `S0042-2.jpg`), or named in a mapping
    /// file. Students without consent are skipped and listed; a photo enrolled before is not
    /// enrolled again.
    Enrol {
        /// The folder of photos (JPEG, PNG, TIFF, BMP or WebP), or a `.zip` file of them.
        folder: PathBuf,
        /// A CSV file with the columns `photo` and `reference`: whose each photo is.
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// Write every photo's outcome to this CSV file.
        #[arg(long)]
        report: Option<PathBuf>,
        #[command(flatten)]
        target: Target,
    },
    /// Add and list users.
    #[command(subcommand)]
    User(UserCommand),
    /// The keys that seal faces at rest: see them, rotate them, or give up a lost one.
    #[command(subcommand)]
    FacesKey(FacesKeyCommand),
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
pub struct Target {
    #[arg(long, conflicts_with = "config")]
    pub data_dir: Option<PathBuf>,
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Which school of a configuration that serves several (`[[schools]]`), by site.
    #[arg(long, requires = "config")]
    pub school: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum RosterCommand {
    /// Import a plain CSV file, or a OneRoster 1.1 or 1.2 CSV package (a folder or a zip of
    /// its files, its manifest saying which are bulk, delta or absent); with --dry-run, only
    /// say what would change.
    Import {
        /// The CSV file, or the OneRoster folder or zip.
        path: PathBuf,
        /// `csv` or `oneroster` (default: oneroster for a folder or a .zip, else csv).
        #[arg(long)]
        format: Option<String>,
        /// Say what would be created, changed and left alone, and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Let the import make this many students leavers, past `roster.max_leavers_percent`
        /// (the number a dry run shows).
        #[arg(long, value_name = "N")]
        confirm_leavers: Option<usize>,
        /// Add the file's terms that the calendar lacks.
        #[arg(long)]
        terms: bool,
        /// List every row, not only the changes.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        target: Target,
    },
}

#[derive(Debug, Subcommand)]
pub enum FacesKeyCommand {
    /// The keys in the key file, the keys the database names, and how its faces are sealed.
    Status {
        #[command(flatten)]
        target: Target,
    },
    /// Add a new key to the key file and seal every face under it while the hub serves; the
    /// old key then leaves the key file (kept in `<key file>.retired` for older backups).
    Rotate {
        /// Only add the key (several hubs: copy the key file to each, then `reseal`).
        #[arg(long)]
        no_reseal: bool,
        #[command(flatten)]
        target: Target,
    },
    /// Seal every face under the key file's newest key, then retire the older keys.
    Reseal {
        #[command(flatten)]
        target: Target,
    },
    /// The key file has lost a key the database's faces are sealed with: erase those faces
    /// (templates, crops, strangers' averages; records and the register stay) so the hub can
    /// start. Says what it would erase unless given --yes.
    Lost {
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        target: Target,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Register a device; prints its id and MQTT credentials once.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        room: String,
        /// Which way the camera faces: in (an entrance), out (an exit) or both (a classroom
        /// door)
        #[arg(long, default_value = "both", value_parser = parse_direction)]
        direction: Direction,
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
pub enum UserCommand {
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
    rollcall_school::accounts::email_address(s)
}

fn parse_direction(s: &str) -> Result<Direction, String> {
    s.parse()
        .map_err(|e: rollcall_shared::invalid::Invalid| e.to_string())
}

fn parse_role(s: &str) -> Result<Role, String> {
    match s {
        "admin" => Ok(Role::Admin),
        "teacher" => Ok(Role::Teacher),
        _ => Err("admin or teacher".into()),
    }
}

impl Cli {
    /// The log level unless `RUST_LOG` says otherwise: the demo talks to a person on this
    /// terminal, so only warnings there.
    pub fn log_level(&self) -> &'static str {
        match self.command {
            Some(Command::Demo { .. }) => "warn",
            _ => "info",
        }
    }
}
