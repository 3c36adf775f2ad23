//! `demo`: a hub with sample students and a door unit replaying sample photos, on this machine.

use anyhow::Context;

use crate::demo::{self, DemoOptions};

pub fn run(options: DemoOptions) -> anyhow::Result<()> {
    let edge = demo::edge_beside_me()?;
    println!(
        "Setting up the demo in {} (the first run fetches the face models and sample photos)...",
        options.dir.display()
    );
    let prepared = demo::prepare(&options)?;
    println!("{}", demo::summary(&prepared));
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    runtime.block_on(async {
        let shutdown =
            rollcall_runtime::shutdown::signal().context("installing signal handlers")?;
        demo::run(prepared, &edge, shutdown).await?;
        anyhow::Ok(())
    })?;
    println!("demo stopped");
    Ok(())
}
