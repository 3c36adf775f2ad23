//! The request as handlers see it, and the replies they return. Handlers never touch warp:
//! they take a [`Request`] and return `Result<Reply, ApiError>`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::str::FromStr;

use bytes::Bytes;
use chrono::NaiveDate;
use serde::Serialize;
use serde::de::DeserializeOwned;
use warp::http::StatusCode;

use super::error::ApiError;
use super::input::{self, clip};

/// Path parameters by name, as they appeared in the path.
pub type Params = Vec<(&'static str, String)>;

/// One API call, matched to its route, its caller checked, its body read in full.
#[derive(Debug)]
pub struct Request {
    /// The path's parameters, named as in the route table.
    pub params: Params,
    pub query: HashMap<String, String>,
    pub content_type: Option<String>,
    /// The `Host` header (`name[:port]`), when it is one.
    pub host: Option<String>,
    pub remote: Option<IpAddr>,
    /// The `Cookie` header: only the sign-in with the school's accounts reads one.
    pub cookie: Option<String>,
    pub body: Bytes,
}

impl Request {
    /// The body as JSON of type `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::bad(format!("invalid JSON body: {e}")))
    }

    /// The body as JSON of type `T`, or `T`'s default when there is no body.
    pub fn json_or_default<T: DeserializeOwned + Default>(&self) -> Result<T, ApiError> {
        match self.body.iter().all(u8::is_ascii_whitespace) {
            true => Ok(T::default()),
            false => self.json(),
        }
    }

    /// A query parameter parsed as `T`, if present.
    pub fn query<T: FromStr>(&self, key: &str) -> Result<Option<T>, ApiError> {
        self.query
            .get(key)
            .map(|v| {
                v.parse()
                    .map_err(|_| ApiError::bad(format!("?{key}: bad value {:?}", clip(v))))
            })
            .transpose()
    }

    /// A required query parameter.
    pub fn require<T: FromStr>(&self, key: &str) -> Result<T, ApiError> {
        self.query(key)?
            .ok_or_else(|| ApiError::bad(format!("?{key} is required")))
    }

    /// The path parameter `name` as an id of `what`; one that does not parse names nothing.
    pub fn id<T: FromStr>(&self, name: &str, what: &str) -> Result<T, ApiError> {
        self.param(name)
            .parse()
            .map_err(|_| ApiError::NotFound(what.to_owned()))
    }

    /// The path parameter `name` as a date (see [`input::day`]).
    pub fn day(&self, name: &str) -> Result<NaiveDate, ApiError> {
        input::day(name, self.param(name))
    }

    /// The query parameter `key` as a date, if present.
    pub fn query_day(&self, key: &str) -> Result<Option<NaiveDate>, ApiError> {
        self.query.get(key).map(|v| input::day(key, v)).transpose()
    }

    /// The path parameter `name` as it appeared in the path.
    pub fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Whether `?format=csv` was asked for.
    pub fn wants_csv(&self) -> bool {
        self.query.get("format").is_some_and(|f| f == "csv")
    }
}

/// What a handler answers.
#[derive(Debug)]
pub enum Reply {
    Json(StatusCode, serde_json::Value),
    Csv {
        filename: String,
        body: String,
    },
    /// A zip archive to download.
    Zip {
        filename: String,
        body: Vec<u8>,
    },
    Jpeg(Vec<u8>),
    NoContent,
    /// 303 to `location`, setting `cookie` when given (the sign-in with the school's
    /// accounts).
    Redirect {
        location: String,
        cookie: Option<String>,
    },
}

impl Reply {
    pub fn ok<T: Serialize>(value: T) -> Result<Reply, ApiError> {
        Self::with_status(StatusCode::OK, value)
    }

    pub fn created<T: Serialize>(value: T) -> Result<Reply, ApiError> {
        Self::with_status(StatusCode::CREATED, value)
    }

    /// A CSV file to download as `filename` (lines made by `rollcall_school::csv::line`).
    pub fn csv(filename: String, body: String) -> Reply {
        Reply::Csv { filename, body }
    }

    fn with_status<T: Serialize>(status: StatusCode, value: T) -> Result<Reply, ApiError> {
        serde_json::to_value(value)
            .map(|v| Reply::Json(status, v))
            .map_err(|e| ApiError::Internal(e.to_string()))
    }
}
