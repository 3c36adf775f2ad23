//! The photo commands as a script or an admin uses them, run as the real binary on real photos
//! with the real models: `faces --json [--embed]` (one line per image, an `error` line for a
//! bad file, a non-zero exit at the end) and `calibrate` (the report and the lines to paste).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rollcall_e2e::faces::{faces_dir, photos_of};
use rollcall_models::pipeline::model_id;
use serde_json::Value;

fn edge(args: &[&str], files: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rollcall-edge"))
        .args(args)
        .args(files)
        .output()
        .expect("running rollcall-edge")
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn faces_json_gives_one_line_per_image_and_fails_at_the_end_for_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let not_an_image = dir.path().join("notes.jpg");
    std::fs::write(&not_an_image, "not a picture").unwrap();
    let missing = dir.path().join("missing.png");
    let ada = photos_of("Aaron_Peirsol").remove(0);
    let group = faces_dir().join("groups/face_recognition_obama_and_biden.jpg");
    let out = edge(
        &["faces", "--json", "--embed"],
        &[&ada, &not_an_image, &group, &missing],
    );
    assert!(
        !out.status.success(),
        "bad files must fail the run at the end"
    );
    let rows = lines(&out);
    assert_eq!(rows.len(), 4, "one line per image, in order: {rows:?}");

    let face = &rows[0]["faces"][0];
    assert_eq!(rows[0]["path"], ada.display().to_string());
    assert_eq!(
        (rows[0]["width"].as_u64(), rows[0]["height"].as_u64()),
        (Some(250), Some(250))
    );
    assert_eq!(face["box"].as_array().unwrap().len(), 4);
    assert!(face["score"].as_f64().unwrap() > 0.9);
    assert_eq!(face["landmarks"].as_array().unwrap().len(), 5);
    assert!(face["quality"]["inter_ocular_px"].as_f64().unwrap() > 18.0);
    let embedding: Vec<f64> = serde_json::from_value(face["embedding"].clone()).unwrap();
    assert_eq!(embedding.len(), 128);
    let norm = embedding.iter().map(|v| v * v).sum::<f64>().sqrt();
    assert!(
        (norm - 1.0).abs() < 1e-4,
        "align-3 embeddings are unit length: {norm}"
    );
    assert!(rows[0]["detect_ms"].as_f64().unwrap() > 0.0);
    assert!(rows[0]["embed_ms"].as_f64().unwrap() > 0.0);

    for bad in [&rows[1], &rows[3]] {
        assert!(
            bad["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{bad}"
        );
    }
    assert!(
        rows[2]["faces"].as_array().unwrap().len() >= 2,
        "two people: {}",
        rows[2]
    );

    let plain = edge(&["faces", "--json"], &[&ada]);
    assert!(plain.status.success());
    let row = &lines(&plain)[0];
    assert!(
        row["faces"][0].get("embedding").is_none(),
        "no embedding without --embed"
    );
}

/// A folder per person for the first `people` identities of the face set, as symlinks.
fn enrolment_photos(people: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let identities = faces_dir().join("identities");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&identities)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for person in names.into_iter().take(people) {
        std::os::unix::fs::symlink(&person, dir.path().join(person.file_name().unwrap())).unwrap();
    }
    dir
}

#[test]
fn calibrate_reports_the_figures_and_the_thresholds_to_paste() {
    let photos = enrolment_photos(12);
    let out = edge(&["calibrate", "--json"], &[photos.path()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["model"], model_id().as_str());
    assert_eq!(report["persons"], 12);
    assert_eq!(report["failure_rate"], 0.0);
    let v = &report["verification"];
    assert!(v["genuine_pairs"].as_u64().unwrap() > 30, "{v}");
    for rate in [
        &v["tar_at_far_1e3"]["rate"],
        &report["rank1_three_photos"],
        &report["open_set"]["dir_at_fpir_1e2"]["rate"],
    ] {
        let rate = rate.as_f64().unwrap();
        assert!(
            (0.8..=1.0).contains(&rate),
            "{rate} on real photos of 12 people"
        );
    }
    let confident = report["recommended"]["confident"].as_f64().unwrap();
    assert!(
        (0.1..0.6).contains(&confident),
        "unit-scale threshold: {confident}"
    );
    // Every probe is graded by the shipped gate; good and weak ones are counted apart (a face
    // the gate turns away is in neither).
    let grades = report["by_grade"].as_array().unwrap();
    let names: Vec<&str> = grades
        .iter()
        .map(|g| g["grade"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["good", "weak"]);
    let mated: u64 = grades
        .iter()
        .map(|g| g["mated_probes"].as_u64().unwrap())
        .sum();
    let all = report["open_set"]["mated_probes"].as_u64().unwrap();
    assert!(mated > 0 && mated <= all, "{mated} of {all}");
    let weak = report["recommended"]["confident_weak"].as_f64().unwrap();
    assert!(weak <= confident, "{weak} > {confident}");
    // A door that searches more students than a class uses narrower bands, row by row.
    let sized = report["bands_by_searched"].as_array().unwrap();
    assert_eq!(sized[0]["students"], 30);
    assert!((sized[0]["confident"].as_f64().unwrap() - confident).abs() < 1e-6);
    for pair in sized.windows(2) {
        let band = |row: &Value, key: &str| row[key].as_f64().unwrap();
        assert!(pair[1]["students"].as_u64() > pair[0]["students"].as_u64());
        for key in ["confident", "confident_weak"] {
            assert!(band(&pair[1], key) < band(&pair[0], key), "{sized:?}");
        }
    }

    let human = edge(&["calibrate"], &[photos.path()]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains(&format!("calibrated_for = \"{}\"", model_id())),
        "{text}"
    );
    assert!(
        text.contains("caution"),
        "too few strangers to measure 1e-3: {text}"
    );
    assert!(
        text.contains("by grade") && text.contains("confident_weak = "),
        "{text}"
    );
    assert!(text.contains("bands by students searched"), "{text}");
}

#[test]
fn calibrate_on_a_folder_without_photos_says_what_it_expected() {
    let empty = tempfile::tempdir().unwrap();
    let out = edge(&["calibrate"], &[empty.path()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no photos found"), "{err}");
}
