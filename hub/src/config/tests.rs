use rollcall_shared::ModelId;

use super::*;

#[test]
fn the_example_parses_to_the_defaults() {
    let parsed = Config::parse(DEFAULT_CONFIG).unwrap();
    assert_eq!(parsed, Config::default());
    parsed.validate().unwrap();
}

#[test]
fn the_time_zone_is_a_tz_database_name() {
    let c = Config::parse("timezone = \"America/New_York\"").unwrap();
    assert_eq!(c.timezone.name(), "America/New_York");
    assert_eq!(c.rules().zone, c.timezone);
    let e = Config::parse("timezone = \"+01:00\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("Area/City"), "{e}");
    let london = with_env("", &[("ROLLCALL_HUB_TIMEZONE", "Europe/London")]).unwrap();
    assert_eq!(london.timezone.name(), "Europe/London");
    assert!(with_env("", &[("ROLLCALL_HUB_TIMEZONE", "Europe")]).is_err());
}

#[test]
fn records_are_shared_between_hubs_only_on_an_external_broker() {
    let external = "[mqtt]\nmode = \"external\"\nbroker = \"mqtt-1.lan:8883\"\n";
    let shared = Config::parse(&format!("{external}shared_subscriptions = true")).unwrap();
    shared.validate().unwrap();
    assert!(shared.mqtt.shared_subscriptions);
    assert!(!Config::parse(external).unwrap().mqtt.shared_subscriptions);
    let embedded = Config::parse("[mqtt]\nshared_subscriptions = true").unwrap();
    let e = embedded.validate().unwrap_err().to_string();
    assert!(
        e.contains("shared_subscriptions") && e.contains("external"),
        "{e}"
    );
}

#[test]
fn an_external_brokers_nodes_are_each_host_and_port() {
    let c = Config::parse(
        "[mqtt]\nmode = \"external\"\nbroker = \"mqtt-1.lan:8883\"\n\
         other_nodes = [\"mqtt-2.lan:8883\", \"10.0.0.3:8883\"]",
    )
    .unwrap();
    c.validate().unwrap();
    assert_eq!(
        c.mqtt_nodes(),
        [
            ("mqtt-1.lan".to_owned(), 8883),
            ("mqtt-2.lan".to_owned(), 8883),
            ("10.0.0.3".to_owned(), 8883)
        ]
    );
    let embedded = Config::parse("[mqtt]\nother_nodes = [\"mqtt-2.lan:8883\"]").unwrap();
    let e = embedded.validate().unwrap_err().to_string();
    assert!(e.contains("mode = \"external\""), "{e}");
    for bad in ["mqtt-2.lan", ":8883", "mqtt-2.lan:port"] {
        let c = Config::parse(&format!(
            "[mqtt]\nmode = \"external\"\nother_nodes = [\"{bad}\"]"
        ))
        .unwrap();
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("mqtt.other_nodes"), "{bad}: {e}");
    }
}

#[test]
fn the_at_risk_threshold_is_a_fraction() {
    let c = Config::parse("[reports]\nat_risk_below = 0.8").unwrap();
    assert_eq!(c.reports.at_risk_below, 0.8);
    c.validate().unwrap();
    for bad in ["0.0", "1.5", "-0.1", "90.0", "nan"] {
        let c = Config::parse(&format!("[reports]\nat_risk_below = {bad}")).unwrap();
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("reports.at_risk_below"), "{bad}: {e}");
    }
}

#[test]
fn the_retired_fixed_offset_says_what_replaced_it() {
    let old = Config::parse("[attendance]\nutc_offset_minutes = 60").unwrap();
    let e = old.validate().unwrap_err().to_string();
    assert!(
        e.contains("timezone = ") && e.contains("utc_offset_minutes"),
        "{e}"
    );
}

#[test]
fn a_typo_is_an_error() {
    assert!(Config::parse("sitee = \"x\"").is_err());
    assert!(Config::parse("[http]\nlisten_addr = \"127.0.0.1:1\"").is_err());
    let bad_site = Config::parse("site = \"Main School\"").unwrap();
    assert!(bad_site.validate().is_err());
}

#[test]
fn limits_out_of_range_name_the_setting_and_the_range() {
    for (toml, name) in [
        ("[http]\nmax_connections = 0", "http.max_connections"),
        (
            "[http]\nheader_timeout_secs = 0",
            "http.header_timeout_secs",
        ),
        (
            "[http]\nrequest_timeout_secs = 86400",
            "http.request_timeout_secs",
        ),
        (
            "[mqtt.embedded]\nconnect_timeout_secs = 0",
            "mqtt.embedded.connect_timeout_secs",
        ),
        (
            "[faces]\nmax_photo_megapixels = 145",
            "faces.max_photo_megapixels",
        ),
        (
            "[http.limits]\naccount = { burst = 0, per_minute = 60 }",
            "http.limits.account.burst",
        ),
        (
            "[http.limits]\naddress = { burst = 10, per_minute = 0 }",
            "http.limits.address.per_minute",
        ),
    ] {
        let message = Config::parse(toml)
            .unwrap()
            .validate()
            .unwrap_err()
            .to_string();
        assert!(
            message.contains(name) && message.contains("between"),
            "{message}"
        );
    }
}

#[test]
fn cors_origins_are_written_as_browsers_send_them() {
    let with = |origin: &str| {
        Config::parse(&format!("[http]\ncors_origins = [{origin:?}]"))
            .unwrap()
            .validate()
    };
    for good in [
        "https://portal.school.example",
        "http://localhost:3000",
        "http://127.0.0.1:8081",
    ] {
        with(good).unwrap_or_else(|e| panic!("{good}: {e}"));
    }
    for (bad, why) in [
        ("*", "no scheme"),
        ("portal.school.example", "no scheme"),
        ("ftp://portal.school.example", "neither http nor https"),
        ("https://portal.school.example/", "only a host and a port"),
        (
            "https://portal.school.example/app",
            "only a host and a port",
        ),
        (
            "https://user@portal.school.example",
            "only a host and a port",
        ),
        ("https://Portal.School.example", "capital letters"),
        ("https://", "only a host and a port"),
    ] {
        let message = with(bad).unwrap_err().to_string();
        assert!(
            message.contains("http.cors_origins") && message.contains(why),
            "{bad}: {message}"
        );
    }
}

#[test]
fn the_log_format_is_text_or_json() {
    use rollcall_runtime::logging::Format;
    assert_eq!(Config::default().logging.format, Format::Text);
    let json = Config::parse("[logging]\nformat = \"json\"").unwrap();
    assert_eq!(json.logging.format, Format::Json);
    let message = Config::parse("[logging]\nformat = \"xml\"")
        .unwrap_err()
        .to_string();
    assert!(message.contains("json"), "{message}");
}

#[test]
fn plain_http_off_loopback_needs_consent() {
    let mut c = Config::parse("[http]\nlisten = \"0.0.0.0:8080\"").unwrap();
    assert!(c.validate().is_err());
    c.http.allow_plain_http = true;
    c.validate().unwrap();
    let tls = "[http]\nlisten = \"0.0.0.0:8443\"\n[http.tls]\ncert = \"c.pem\"\nkey = \"k.pem\"";
    Config::parse(tls).unwrap().validate().unwrap();
}

#[test]
fn the_schools_sign_in_is_checked_and_passwords_go_only_with_it() {
    let entra = "[auth.oidc]\n\
        issuer = \"https://login.microsoftonline.com/0c1f2d3e/v2.0\"\n\
        client_id = \"6731de76-14a6-49ae-97bc-6eba6914391e\"\n\
        client_secret_file = \"/etc/rollcall/oidc-secret\"\n\
        hub_url = \"https://rollcall.school.example:8443/\"\n\
        name = \"Microsoft\"\n\
        email_claim = \"preferred_username\"";
    let c = Config::parse(entra).unwrap();
    c.validate().unwrap();
    let oidc = c.auth.oidc.as_ref().unwrap();
    assert_eq!(
        oidc.redirect_uri(),
        "https://rollcall.school.example:8443/api/v1/auth/oidc/callback"
    );
    let mut off = c.clone();
    off.auth.passwords = false;
    off.validate().unwrap();

    let google = "[auth.oidc]\nissuer = \"https://accounts.google.com\"\n\
        client_id = \"1234.apps.googleusercontent.com\"\nhub_url = \"https://rollcall.school.example\"";
    let c = Config::parse(google).unwrap();
    c.validate().unwrap();
    let oidc = c.auth.oidc.as_ref().unwrap();
    assert_eq!(
        (oidc.name.as_str(), oidc.email_claim.as_str()),
        ("the school's account", "email")
    );

    let e = Config::parse("[auth]\npasswords = false")
        .unwrap()
        .validate()
        .unwrap_err();
    assert!(e.to_string().contains("needs [auth.oidc]"), "{e}");
    let plain = google.replace("https://accounts", "http://accounts");
    let e = Config::parse(&plain).unwrap().validate().unwrap_err();
    assert!(
        e.to_string().contains("auth.oidc.issuer") && e.to_string().contains("https"),
        "{e}"
    );
    let fragment = google.replace("rollcall.school.example\"", "rollcall.school.example/#x\"");
    let e = Config::parse(&fragment).unwrap().validate().unwrap_err();
    assert!(e.to_string().contains("auth.oidc.hub_url"), "{e}");
    let no_client = google.replace("1234.apps.googleusercontent.com", " ");
    let e = Config::parse(&no_client).unwrap().validate().unwrap_err();
    assert!(e.to_string().contains("auth.oidc.client_id"), "{e}");
    assert!(
        Config::parse(&format!("{google}\nscopes = \"all\"")).is_err(),
        "a typo is an error"
    );
}

#[test]
fn the_embedded_broker_is_the_default_and_needs_tls_off_loopback() {
    let mut c = Config::default();
    assert_eq!(c.mqtt.mode, MqttMode::Embedded);
    c.mqtt.embedded.listen = "0.0.0.0:8883".parse().unwrap();
    assert!(c.validate().is_err());
    c.mqtt.embedded.allow_plain_mqtt = true;
    c.validate().unwrap();
    let tls = "[mqtt.embedded]\nlisten = \"0.0.0.0:8883\"\n[mqtt.embedded.tls]\ncert = \"c.pem\"\nkey = \"k.pem\"";
    Config::parse(tls).unwrap().validate().unwrap();
    let external = Config::parse("[mqtt]\nmode = \"external\"\nbroker = \"nope\"").unwrap();
    assert!(external.validate().is_err());
    assert!(Config::parse("[mqtt]\nmode = \"cloud\"").is_err());
}

#[test]
fn client_certificates_default_to_the_hubs_own_device_ca() {
    let base = "[mqtt.embedded]\nlisten = \"0.0.0.0:8883\"\n[mqtt.embedded.tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n";
    let off = Config::parse(base).unwrap();
    assert_eq!(off.broker_client_ca(), None);
    let required = Config::parse(&format!("{base}client_auth = \"required\"")).unwrap();
    required.validate().unwrap();
    let expected = required.data_dir.join("device-ca.pem");
    assert_eq!(
        required.broker_client_ca(),
        Some((expected, ClientAuth::Required))
    );
    let own = format!("{base}client_auth = \"optional\"\nclient_ca = \"/etc/school-ca.pem\"");
    let own = Config::parse(&own).unwrap();
    assert_eq!(
        own.broker_client_ca(),
        Some(("/etc/school-ca.pem".into(), ClientAuth::Optional))
    );
    let unused = Config::parse(&format!("{base}client_ca = \"ca.pem\"")).unwrap();
    let message = unused.validate().unwrap_err().to_string();
    assert!(message.contains("client_auth"), "{message}");
    assert!(Config::parse(&format!("{base}client_auth = \"yes\"")).is_err());
}

#[test]
fn the_broker_transport_is_tcp_or_a_tls_table() {
    let tls = "[mqtt.transport.tls]\nca_file = \"ca.pem\"\nclient_cert = \"c.pem\"\nclient_key = \"k.pem\"";
    let c = Config::parse(tls).unwrap();
    assert!(matches!(
        c.mqtt.transport,
        MqttTransport::Tls {
            client_cert: Some(_),
            ..
        }
    ));
    assert!(Config::parse("[mqtt.transport.tls]\nca = \"x\"").is_err());
    assert!(Config::parse("[mqtt]\ntransport = \"quic\"").is_err());
}

#[test]
fn photo_enrolment_needs_the_pipeline_model_in_the_gallery() {
    let mut c = Config::default();
    c.gallery.model = ModelId::new("dlib-resnet-v1").unwrap();
    assert!(c.validate().is_err());
    c.faces.enabled = false;
    c.validate().unwrap();
}

/// `text` with the environment `vars`, validated, as `serve` reads its file.
fn with_env(text: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    rollcall_runtime::config::load_str(text, "hub.toml", vars)
}

#[test]
fn environment_overrides_the_file_and_secrets_are_redacted() {
    let c = with_env(
        "site = \"main\"\n[http]\nlisten = \"127.0.0.1:9000\"",
        &[
            ("ROLLCALL_HUB_SITE", "north"),
            ("ROLLCALL_HUB_HTTP__LISTEN", "127.0.0.1:9001"),
            ("ROLLCALL_HUB_MQTT__EMBEDDED__LISTEN", "127.0.0.1:9883"),
            ("ROLLCALL_HUB_MQTT_PASSWORD", "hunter2"),
        ],
    )
    .unwrap();
    assert_eq!(c.site.as_str(), "north");
    assert_eq!(c.http.listen.port(), 9001);
    assert_eq!(c.mqtt.embedded.listen.port(), 9883);
    let shown = format!("{c:?}");
    assert!(!shown.contains("hunter2") && shown.contains("redacted"));
    assert!(with_env("", &[("ROLLCALL_HUB_SITE", "Bad Site")]).is_err());
    assert!(with_env("", &[("ROLLCALL_HUB_HTTP__LISTN", "127.0.0.1:1")]).is_err());
}

#[test]
fn a_district_file_gives_each_school_its_own_configuration() {
    let base = "timezone = \"Europe/London\"
[store]
url = \"postgres://rollcall@db.lan/rollcall\"
[mqtt]
mode = \"external\"
broker = \"mqtt-1.lan:8883\"
[[schools]]
site = \"north\"
hosts = [\"north.example.org\"]
[[schools]]
site = \"st-annes\"
hosts = [\"stannes.example.org\"]
timezone = \"Europe/Dublin\"
[schools.retention]
record_days = 400
[[schools.webhooks]]
url = \"https://sis.stannes.example.org/rollcall\"
secret_file = \"/etc/rollcall/stannes.secret\"
events = [\"session.closed\"]
[schools.email]
smtp = \"smtp.stannes.example.org:465\"
from = \"Rollcall <rollcall@stannes.example.org>\"
[schools.oidc]
issuer = \"https://accounts.google.com\"
client_id = \"stannes-rollcall\"
hub_url = \"https://stannes.example.org\"
[schools.notices]
enabled = true
school_name = \"St Anne's\"
pages_url = \"https://stannes.example.org\"
channels = [\"email\"]
";
    let district = |extra: &str| Config::parse(&format!("{base}{extra}"));
    let c = district("[district]\nadmins = [\"north/jsmith\"]\n").unwrap();
    c.validate().unwrap();
    let schools = c.schools().unwrap();
    let sites: Vec<_> = schools.iter().map(|s| s.config.site.as_str()).collect();
    assert_eq!(sites, ["north", "st-annes"]);
    let annes = c.school("st-annes").unwrap();
    assert_eq!(annes.store.schema.as_str(), "st_annes");
    assert_eq!(annes.timezone.name(), "Europe/Dublin");
    assert_eq!(annes.retention.record_days, 400);
    assert!(
        annes.schools.is_empty(),
        "a school's own configuration serves it alone"
    );
    assert_eq!(
        annes.webhooks[0].url,
        "https://sis.stannes.example.org/rollcall"
    );
    assert_eq!(annes.email.unwrap().smtp, "smtp.stannes.example.org:465");
    assert_eq!(annes.auth.oidc.unwrap().client_id, "stannes-rollcall");
    assert_eq!(
        (annes.notices.enabled, annes.notices.school_name.as_str()),
        (true, "St Anne's")
    );
    let north = c.school("north").unwrap();
    assert_eq!(
        (north.timezone.name(), north.retention.record_days),
        ("Europe/London", RetentionConfig::default().record_days)
    );
    assert!(!north.notices.enabled, "the file's notices, which are off");
    assert!(
        north.webhooks.is_empty() && north.email.is_none() && north.auth.oidc.is_none(),
        "the file's, which has none"
    );
    // A school's notices by e-mail need its relay; the school is named.
    let relay = "[schools.email]
smtp = \"smtp.stannes.example.org:465\"
from = \"Rollcall <rollcall@stannes.example.org>\"
";
    assert!(base.contains(relay));
    let no_relay = Config::parse(&base.replace(relay, "")).unwrap();
    let e = no_relay.validate().unwrap_err().to_string();
    assert!(e.contains("schools: \"st-annes\": notices.channels"), "{e}");
    // A school's own receivers are checked as the file's are, and the school named.
    let plain = base.replace("https://sis.stannes", "http://sis.stannes");
    let e = Config::parse(&plain).unwrap().validate().unwrap_err();
    assert!(
        e.to_string()
            .contains("schools: \"st-annes\": webhooks.url"),
        "{e}"
    );
    assert!(
        c.one_school(None)
            .unwrap_err()
            .to_string()
            .contains("--school")
    );
    assert!(
        c.school("east")
            .unwrap_err()
            .to_string()
            .contains("north, st-annes")
    );

    let e = district("[district]\nadmins = [\"east/jsmith\"]\n")
        .unwrap()
        .validate();
    assert!(e.unwrap_err().to_string().contains("not in [[schools]]"));
    let embedded = base.replace("mode = \"external\"", "mode = \"embedded\"");
    let e = Config::parse(&embedded).unwrap().validate().unwrap_err();
    assert!(e.to_string().contains("external broker"), "{e}");
    let sqlite = base.replace("url = \"postgres://rollcall@db.lan/rollcall\"", "");
    let e = Config::parse(&sqlite).unwrap().validate().unwrap_err();
    assert!(e.to_string().contains("[store] url"), "{e}");
}
