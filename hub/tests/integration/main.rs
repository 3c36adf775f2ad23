//! The hub's integration tests in one binary: a module per area (`browser_users`,
//! `ingest_mqtt`, …) and the helpers they share, `common` (a real hub in process and its JSON
//! client), `chrome` (headless Chromium) and `support` (the SMTP server and OpenID provider the
//! hub talks to).
//!
//! One binary, not one per file, so that the helpers are compiled and the tests linked once.
//! Every test therefore shares its process with the others, on parallel threads: none sets an
//! environment variable, changes the current directory or holds a fixed port, and each starts
//! its own hub, broker, browser and servers. `../connection_limits.rs` stays a binary of its
//! own: it starts a hub process on a port found free a moment before and opens 1,100
//! connections, so nothing may run beside it.
//!
//! One area's tests, or every browser test (their modules all start with `browser`); a filter
//! matches any part of a test's path, so `class_photo::` also runs `browser_class_photo::`
//! (`-- --skip browser` leaves those out):
//!
//! ```sh
//! cargo test -p rollcall-hub --test integration browser_users::
//! cargo test -p rollcall-hub --test integration browser
//! ```

mod chrome;
mod common;
mod support;

mod activities;
mod analytics;
mod api_auth;
mod api_input;
mod api_school;
mod api_signin;
mod browser;
mod browser_activities;
mod browser_analytics;
mod browser_api_docs;
mod browser_audit;
mod browser_calendar;
mod browser_class_photo;
mod browser_codes;
mod browser_consent;
mod browser_cors;
mod browser_devices;
mod browser_enrol_folder;
mod browser_families;
mod browser_family_messages;
mod browser_guardian_accounts;
mod browser_guardians;
mod browser_history;
mod browser_lesson_review;
mod browser_liveness;
mod browser_look_alike;
mod browser_mis;
mod browser_missing;
mod browser_offline;
mod browser_operations;
mod browser_reception;
mod browser_review_card;
mod browser_roll_call;
mod browser_roster;
mod browser_school_signin;
mod browser_staff;
mod browser_strangers;
mod browser_student_accounts;
mod browser_students;
mod browser_timetable;
mod browser_users;
mod calendar_preview;
mod callers;
mod class_photo;
mod closed_set;
mod consent;
mod csv_files;
mod demo;
mod device_lifecycle;
mod district_hub;
mod email;
mod embedded_broker;
mod enrol_photos;
mod entry_exit;
mod export;
mod face_keys;
mod family_messages;
mod gallery_learning;
mod guardian_accounts;
mod guardians;
mod https;
mod ingest_mqtt;
mod ingest_trust;
mod mis;
mod mis_district;
mod mis_lessons;
mod missing;
mod mqtt_client_certs;
mod mqtt_tls;
mod notices;
mod office;
mod openapi;
mod prometheus;
mod provisioning;
mod queued_decisions;
mod register;
mod retention;
mod review_queue;
mod review_reports;
mod roll_call;
mod roster_import;
mod school_reports;
mod schools;
mod staff;
mod statutory;
mod strangers;
mod student_accounts;
mod student_history;
mod visitors;
mod web_pages;
mod webhooks;
