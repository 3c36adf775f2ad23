//! `GET /privacy`: the school's privacy schedule, for anyone (`rollcall_school::privacy`).

use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;

pub async fn schedule(hub: &Hub, _req: &Request) -> Result<Reply, ApiError> {
    let config = &hub.config;
    let schedule =
        rollcall_school::privacy::schedule(&config.site, &config.retention, &config.privacy);
    Reply::ok(schedule)
}
