//! Decodes a photo with this crate's decoder and writes its pixels as a binary PPM, so that
//! reference scripts (models/parity/landmarks) see exactly the pixels the Rust code sees.
//!
//! cargo run -p rollcall-models --example dump_rgb -- IN.jpg OUT.ppm

use std::io::Write;

use rollcall_models::image_io::{ImageLimits, load_image};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (input, output) = match (args.next(), args.next()) {
        (Some(i), Some(o)) => (i, o),
        _ => return Err("usage: dump_rgb IN OUT.ppm".into()),
    };
    let image = load_image(input.as_ref(), ImageLimits::default())?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(output)?);
    write!(out, "P6\n{} {}\n255\n", image.width(), image.height())?;
    out.write_all(image.as_raw())?;
    Ok(())
}
