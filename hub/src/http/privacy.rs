//! `GET /privacy`: the school's privacy schedule, for anyone (`crate::privacy`).

use super::error::ApiError;
use super::request::{Reply, Request};
use crate::http_state::Hub;

pub async fn schedule(hub: &Hub, _req: &Request) -> Result<Reply, ApiError> {
    Reply::ok(crate::privacy::schedule(&hub.config))
}
