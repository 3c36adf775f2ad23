//! Real photos and real face models for enrolment tests. Both must be present: a missing
//! directory fails the test with what to do, never skips it.

use std::net::SocketAddr;

use rollcall_models::pipeline::model_id;
use rollcall_models::weights::ModelsDir;

use super::{TestHub, start_hub_with};

pub use rollcall_e2e::faces::faces_dir;

/// A photo under the faces directory, as (file name, bytes).
pub fn photo(relative: &str) -> (String, Vec<u8>) {
    let path = faces_dir().join(relative);
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("cannot read test photo {}: {e}", path.display()));
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    (name, bytes)
}

/// Fails loudly unless the face models are installed.
pub fn require_models() {
    let dir = ModelsDir::resolve(None).expect("no models directory: set ROLLCALL_MODELS_DIR");
    if let Err(e) = dir.check() {
        panic!(
            "face models missing in {}: {e}\nrun `cargo run -p rollcall-edge -- models fetch`",
            dir.path().display()
        );
    }
}

/// A hub with photo enrolment on (the real models) and the pipeline's model in the gallery.
pub async fn start_faces_hub(broker: Option<SocketAddr>) -> TestHub {
    require_models();
    start_hub_with(broker, |c| {
        c.faces.enabled = true;
        c.gallery.model = model_id();
    })
    .await
}
