use std::path::Path;
use std::time::Duration;

use rollcall_models::matching::{MatchMode, Thresholds};
use rollcall_models::pipeline::{model_id, previous_model_id};
use rollcall_models::quality::QualityGate;

use super::*;

fn no_env() -> Vec<(String, String)> {
    Vec::new()
}

#[test]
fn the_default_config_parses_and_validates() {
    let config = load_str(DEFAULT_CONFIG, "default", no_env()).unwrap();
    assert_eq!(config.burst.frames, 5);
    assert_eq!(config.matching.cooldown, Duration::from_secs(600));
    assert!(matches!(config.camera, CameraConfig::Replay { .. }));
    assert_eq!(
        config.outbox.thumbnail_retention,
        Duration::from_secs(7 * 86400)
    );
}

#[test]
fn the_door_follows_a_walk_in_as_shipped_and_refuses_what_it_cannot_do() {
    use rollcall_models::burst::follow::Follow;
    let config = load_str(DEFAULT_CONFIG, "default", no_env()).unwrap();
    let walk = config.burst.walk();
    assert_eq!(
        (walk.first, walk.most),
        (5, 20),
        "3 s of frames 150 ms apart"
    );
    assert!(walk.keep >= 1 && walk.keep <= walk.most);
    let burst_only = BurstConfig {
        follow: Duration::ZERO,
        keep: None,
        ..config.burst
    };
    let only = Follow {
        first: 5,
        most: 5,
        keep: 5,
    };
    assert_eq!(burst_only.walk(), only, "0s: the burst, every frame kept");
    for (bad, field) in [
        ("follow = \"11s\"", "burst.follow"),
        ("keep = 0", "burst.keep"),
        ("keep = 11", "burst.keep"),
    ] {
        let shipped: Vec<&str> = DEFAULT_CONFIG
            .lines()
            .filter(|l| !l.starts_with("follow = ") && !l.starts_with("keep = "))
            .collect();
        let text = (shipped.join("\n") + "\n").replace("[burst]\n", &format!("[burst]\n{bad}\n"));
        let err = load_str(&text, "bad", no_env()).unwrap_err().to_string();
        assert!(err.contains(field), "{bad}: {err}");
    }
}

#[test]
fn liveness_is_the_builds_default_unless_the_file_says() {
    let config = load_str(DEFAULT_CONFIG, "default", no_env()).unwrap();
    assert_eq!(config.liveness.enabled, LIVENESS_BY_DEFAULT);
    let said = format!("[liveness]\nenabled = {}\n", !LIVENESS_BY_DEFAULT);
    let text = DEFAULT_CONFIG.replace("[liveness]\n", &said);
    let config = load_str(&text, "said", no_env()).unwrap();
    assert_eq!(config.liveness.enabled, !LIVENESS_BY_DEFAULT);
}

#[test]
fn the_default_config_is_the_doors_shipped_calibration() {
    // The hub judges class photos by the same values (`rollcall_models`' one definition).
    let config = load_str(DEFAULT_CONFIG, "default", no_env()).unwrap();
    assert_eq!(config.quality, QualityGate::door());
    assert_eq!(config.matching.thresholds(), Thresholds::DOOR);
    assert_eq!(config.matching.mode, MatchMode::Centroid);
}

#[test]
fn unknown_keys_are_refused() {
    let text = DEFAULT_CONFIG.replace("[burst]\n", "[burst]\nframez = 3\n");
    let err = load_str(&text, "typo", no_env()).unwrap_err().to_string();
    assert!(err.contains("framez"), "{err}");
}

#[test]
fn environment_overrides_the_file() {
    let env = vec![
        ("ROLLCALL_EDGE_DATA_DIR".to_owned(), "/tmp/x".to_owned()),
        (
            "ROLLCALL_EDGE_MATCHING__CONFIDENT".to_owned(),
            "0.28".to_owned(),
        ),
        (
            "ROLLCALL_EDGE_MATCHING__CONFIDENT_WEAK".to_owned(),
            "0.26".to_owned(),
        ),
        ("OTHER".to_owned(), "ignored".to_owned()),
    ];
    let config = load_str(DEFAULT_CONFIG, "default", env).unwrap();
    assert_eq!(config.data_dir, Path::new("/tmp/x"));
    assert_eq!(config.matching.confident, 0.28);
    assert_eq!(config.matching.confident_weak, Some(0.26));
}

#[test]
fn plain_mqtt_only_to_loopback() {
    let env = |url: &str| vec![("ROLLCALL_EDGE_BROKER__URL".to_owned(), url.to_owned())];
    let err = load_str(DEFAULT_CONFIG, "d", env("mqtt://10.1.2.3")).unwrap_err();
    assert!(err.to_string().contains("plain MQTT"), "{err}");
    let err = load_str(DEFAULT_CONFIG, "d", env("mqtts://hub:8883")).unwrap_err();
    assert!(err.to_string().contains("ca_file"), "{err}");
    assert!(load_str(DEFAULT_CONFIG, "d", env("mqtt://localhost:1884")).is_ok());
}

#[test]
fn every_broken_rule_is_listed() {
    let text = DEFAULT_CONFIG
        .replace("frames = 5", "frames = 0")
        .replace("confident = 0.295", "confident = 0.9")
        .replace("site = \"main-site\"", "site = \"Main Site\"");
    let Err(ConfigError::Invalid(problems)) = load_str(&text, "d", no_env()) else {
        panic!("expected validation errors");
    };
    assert_eq!(problems.len(), 3, "{problems:?}");
}

#[test]
fn thresholds_measured_for_another_model_are_refused() {
    let text = DEFAULT_CONFIG.replace(
        &format!("calibrated_for = \"{}\"", model_id()),
        &format!("calibrated_for = \"{}\"", previous_model_id()),
    );
    let Err(ConfigError::Invalid(problems)) = load_str(&text, "old", no_env()) else {
        panic!("expected the old model's thresholds to be refused");
    };
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("align-2"), "{problems:?}");
    assert!(
        problems[0].contains("rollcall-edge calibrate"),
        "{problems:?}"
    );
    let missing = DEFAULT_CONFIG.replace(&format!("calibrated_for = \"{}\"\n", model_id()), "");
    let err = load_str(&missing, "missing", no_env())
        .unwrap_err()
        .to_string();
    assert!(err.contains("calibrated_for"), "{err}");
}

#[test]
fn each_same_person_bound_has_its_default_unless_set() {
    let config = load_str(DEFAULT_CONFIG, "default", no_env()).unwrap();
    let m = &config.matching;
    assert_eq!((m.same_stranger, m.same_in_burst), (None, None));
    assert_eq!(m.same_stranger(), 0.30, "stricter than uncertain");
    assert_eq!(m.same_in_burst(), m.uncertain);

    let text = DEFAULT_CONFIG.replace(
        "# same_stranger = 0.30\n# same_in_burst = 0.40\n",
        "same_stranger = 0.25\nsame_in_burst = 0.45\n",
    );
    let m = load_str(&text, "set", no_env()).unwrap().matching;
    assert_eq!((m.same_stranger(), m.same_in_burst()), (0.25, 0.45));
    assert_eq!(m.uncertain, 0.40, "the decision's threshold is untouched");

    let env = vec![(
        "ROLLCALL_EDGE_MATCHING__SAME_STRANGER".to_owned(),
        "0.3".to_owned(),
    )];
    let m = load_str(DEFAULT_CONFIG, "env", env).unwrap().matching;
    assert_eq!((m.same_stranger(), m.same_in_burst()), (0.3, 0.40));
}

#[test]
fn weak_faces_have_their_band_or_the_confident_one() {
    let config = load_str(DEFAULT_CONFIG, "default", no_env()).unwrap();
    let t = config.matching.thresholds();
    assert!(t.confident_weak < t.confident, "{t:?}");
    assert!(config.quality.weak_below_sharpness > 0.0);

    let absent = DEFAULT_CONFIG.replace("confident_weak = ", "# confident_weak = ");
    let t = load_str(&absent, "absent", no_env())
        .unwrap()
        .matching
        .thresholds();
    assert_eq!(t.confident_weak, t.confident);

    let above = DEFAULT_CONFIG.replace("confident_weak = 0.", "confident_weak = 0.3");
    let Err(ConfigError::Invalid(problems)) = load_str(&above, "above", no_env()) else {
        panic!("a weak band above the confident one must be refused");
    };
    assert!(problems[0].contains("confident_weak"), "{problems:?}");
}

#[test]
fn same_person_bounds_must_be_finite_non_negative_distances() {
    let text = DEFAULT_CONFIG.replace(
        "# same_stranger = 0.30\n# same_in_burst = 0.40\n",
        "same_stranger = -0.1\nsame_in_burst = nan\n",
    );
    let Err(ConfigError::Invalid(problems)) = load_str(&text, "bad", no_env()) else {
        panic!("expected the bounds to be refused");
    };
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].contains("matching.same_stranger"),
        "{problems:?}"
    );
    assert!(
        problems[1].contains("matching.same_in_burst"),
        "{problems:?}"
    );
}

/// The default config with its camera section replaced by `camera`.
fn with_camera(camera: &str) -> String {
    let start = DEFAULT_CONFIG.find("\nkind = \"replay\"").unwrap();
    let end = DEFAULT_CONFIG[start..].find("\n\n").unwrap() + start;
    format!(
        "{}\n{camera}{}",
        &DEFAULT_CONFIG[..start],
        &DEFAULT_CONFIG[end..]
    )
}

#[test]
fn a_pi_camera_is_configured_with_defaults_for_what_is_left_out() {
    let text = with_camera("kind = \"rpicam\"\nexposure = \"sport\"\nshutter = \"8ms\"");
    let config = load_str(&text, "rpicam", no_env()).unwrap();
    let CameraConfig::Rpicam(rpicam) = config.camera else {
        panic!("{:?}", config.camera);
    };
    assert_eq!(rpicam.program, Path::new("rpicam-vid"));
    assert_eq!((rpicam.width, rpicam.height, rpicam.fps), (1280, 720, 15.0));
    assert_eq!(rpicam.exposure, Exposure::Sport);
    assert_eq!(rpicam.shutter, Some(Duration::from_millis(8)));
    assert_eq!(rpicam.stall, Duration::from_secs(3));
}

#[test]
fn a_pi_camera_with_impossible_settings_is_refused_with_each_reason() {
    let text = with_camera(
        "kind = \"rpicam\"\nwidth = 9000\nfps = 0.0\nshutter = \"5s\"\nstall = \"10ms\"",
    );
    let Err(ConfigError::Invalid(problems)) = load_str(&text, "rpicam", no_env()) else {
        panic!("expected validation errors");
    };
    assert_eq!(problems.len(), 4, "{problems:?}");
    let text = with_camera("kind = \"rpicam\"\nexposure = \"dazzling\"");
    let err = load_str(&text, "rpicam", no_env()).unwrap_err().to_string();
    assert!(err.contains("dazzling"), "{err}");
}

#[test]
fn other_nodes_are_checked_like_the_url() {
    let with = |extra: &str| {
        let text = DEFAULT_CONFIG.replace(
            "url = \"mqtt://127.0.0.1:1883\"",
            &format!("url = \"mqtt://127.0.0.1:1883\"\n{extra}"),
        );
        load_str(&text, "nodes", no_env())
    };
    let ok = with("other_nodes = [\"mqtt://127.0.0.1:1884\", \"mqtt://localhost:1885\"]").unwrap();
    assert_eq!(
        ok.broker.nodes().collect::<Vec<_>>(),
        [
            "mqtt://127.0.0.1:1883",
            "mqtt://127.0.0.1:1884",
            "mqtt://localhost:1885"
        ]
    );
    let remote = with("other_nodes = [\"mqtt://mqtt-2.school.lan:1883\"]").unwrap_err();
    assert!(remote.to_string().contains("plain MQTT"), "{remote}");
    let mixed = with("other_nodes = [\"mqtts://127.0.0.1:8883\"]").unwrap_err();
    assert!(mixed.to_string().contains("all be mqtts://"), "{mixed}");
    let bad = with("other_nodes = [\"http://127.0.0.1:1884\"]").unwrap_err();
    assert!(bad.to_string().contains("mqtts://"), "{bad}");
}
