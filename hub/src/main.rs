//! `rollcall-hub`: the school server. Installs the panic policy, parses the command line,
//! installs logging and hands over to the library's commands.

use std::process::ExitCode;

use clap::Parser;
use rollcall_hub::cli::Cli;

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

fn main() -> ExitCode {
    rollcall_runtime::panic::install();
    return_large_blocks_to_the_system();
    let cli = Cli::parse();
    rollcall_runtime::logging::init(cli.log_level());
    match rollcall_hub::commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
