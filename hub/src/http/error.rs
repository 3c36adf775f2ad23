//! The one place typed errors become HTTP: every failure leaves the hub as
//! `{"error": {"code": "...", "message": "..."}}` with a matching status.

use warp::http::StatusCode;

use crate::auth::hashing::HashingError;
use crate::auth::tokens::TokenError;
use crate::provisioning::{OfferError, Refused};
use rollcall_school::access::AccessError;
use rollcall_school::accounts::AccountError;
use rollcall_school::accounts::invite::LinkError;
use rollcall_school::activities::ActivityError;
use rollcall_school::consent::ConsentError;
use rollcall_school::enrol::Refusal;
use rollcall_school::family::ReportError;
use rollcall_school::marks::MarkError;
use rollcall_school::notices::{DecideError, ReplyError};
use rollcall_school::review::ReviewError;
use rollcall_school::sign_outs::SignOutError;
use rollcall_school::visitors::VisitorError;
use rollcall_store::StoreError;

/// Why a request failed, in the caller's terms.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("this needs the admin role")]
    AdminOnly,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("no such endpoint")]
    NoRoute,
    #[error("this path does not take that method (it takes {allow})")]
    MethodNotAllowed { allow: String },
    #[error("{0}")]
    Conflict(String),
    /// A student's face was to be enrolled or used without their consent given.
    #[error("{0}")]
    NoConsent(String),
    #[error("request body of {bytes} bytes is over the {max}-byte limit")]
    TooLarge { bytes: u64, max: u64 },
    #[error("{0}")]
    UnsupportedMedia(String),
    /// A photo (or every photo of an upload) was refused; `photos` has each one's outcome.
    #[error("{refusal}")]
    Photo {
        refusal: Refusal,
        photos: Option<serde_json::Value>,
    },
    #[error("{0}")]
    Unavailable(String),
    /// A server the hub relies on (the mail relay) refused or failed.
    #[error("{0}")]
    BadGateway(String),
    #[error("too many failed logins; try again in {retry_after} s")]
    TooManyAttempts { retry_after: u64 },
    #[error("too many wrong provisioning codes from here; try again in {retry_after} s")]
    TooManyCodes { retry_after: u64 },
    /// Over the caller's pace (`[http.limits]`): `by` is `account` or `address`.
    #[error("too many requests from this {by} at once; try again in {retry_after} s")]
    TooFast { by: &'static str, retry_after: u64 },
    /// Rows of an uploaded file that cannot be used; nothing of the file was taken.
    #[error("{}", rollcall_school::table::nothing_imported(.0, "file"))]
    BadRows(Vec<rollcall_school::roster_import::RowError>),
    /// A roster import would make more students leavers than the school allows unconfirmed.
    #[error("{} (confirm_leavers={})", .0.refusal(), .0.leavers)]
    Leavers(rollcall_school::roster_import::Gate),
    /// An invitation's link was refused (never made, used, expired, its account disabled).
    #[error("{0}")]
    Link(LinkError),
    /// A door unit's provisioning code was refused.
    #[error("{0}")]
    Code(Refused),
    /// A family's reply link was refused (forged, used, expired).
    #[error("{0}")]
    Reply(rollcall_school::notices::ReplyError),
    /// Every argon2 slot stayed taken past the wait (`auth.hashing_max_wait_ms`).
    #[error("the hub is busy checking passwords; try again in {retry_after} s")]
    Busy { retry_after: u64 },
    /// An `Idempotency-Key` sent before with another request (`http::idempotency`).
    #[error("{0}")]
    KeyReused(String),
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::AdminOnly | ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) | ApiError::NoRoute => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) | ApiError::NoConsent(_) => StatusCode::CONFLICT,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMedia(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Photo { refusal, .. } => match refusal.code() {
                "image_too_large" => StatusCode::PAYLOAD_TOO_LARGE,
                "not_an_image" => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "pipeline_failed" => StatusCode::INTERNAL_SERVER_ERROR,
                "looks_like_another_student" => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            },
            ApiError::Unavailable(_) | ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::TooManyAttempts { .. }
            | ApiError::TooManyCodes { .. }
            | ApiError::TooFast { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::BadRows(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Leavers(_) => StatusCode::CONFLICT,
            ApiError::Link(LinkError::Unknown) => StatusCode::NOT_FOUND,
            ApiError::Link(_) => StatusCode::GONE,
            ApiError::Code(Refused::Unknown) => StatusCode::NOT_FOUND,
            ApiError::Code(Refused::Used | Refused::Expired) => StatusCode::GONE,
            ApiError::Code(Refused::DeviceDisabled) => StatusCode::CONFLICT,
            ApiError::Reply(ReplyError::Unknown) => StatusCode::NOT_FOUND,
            ApiError::Reply(ReplyError::Used | ReplyError::Expired(_)) => StatusCode::GONE,
            ApiError::Reply(_) => StatusCode::BAD_REQUEST,
            ApiError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            ApiError::KeyReused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::AdminOnly | ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) | ApiError::NoRoute => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::NoConsent(_) => "consent_required",
            ApiError::TooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMedia(_) => "unsupported_media_type",
            ApiError::Photo { refusal, .. } => refusal.code(),
            ApiError::Unavailable(_) => "unavailable",
            ApiError::BadGateway(_) => "bad_gateway",
            ApiError::TooManyAttempts { .. }
            | ApiError::TooManyCodes { .. }
            | ApiError::TooFast { .. } => "rate_limited",
            ApiError::BadRows(_) => "bad_rows",
            ApiError::Leavers(_) => "leavers_unconfirmed",
            ApiError::Link(LinkError::Unknown) => "unknown_invitation",
            ApiError::Link(LinkError::Used) => "invitation_used",
            ApiError::Link(LinkError::Expired) => "invitation_expired",
            ApiError::Link(_) => "account_disabled",
            ApiError::Code(Refused::Unknown) => "unknown_code",
            ApiError::Code(Refused::Used) => "code_used",
            ApiError::Code(Refused::Expired) => "code_expired",
            ApiError::Code(Refused::DeviceDisabled) => "device_disabled",
            ApiError::Reply(ReplyError::Unknown) => "unknown_reply_link",
            ApiError::Reply(ReplyError::Used) => "reply_link_used",
            ApiError::Reply(ReplyError::Expired(_)) => "reply_link_expired",
            ApiError::Reply(_) => "bad_request",
            ApiError::Busy { .. } => "busy",
            ApiError::KeyReused(_) => "idempotency_key_reused",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn body(&self) -> serde_json::Value {
        if let ApiError::Internal(detail) = self {
            tracing::error!("request failed: {detail}");
        }
        let mut error = serde_json::json!({"code": self.code(), "message": self.to_string()});
        if let ApiError::BadRows(rows) = self {
            error["rows"] = serde_json::to_value(rows).unwrap_or_default();
        }
        if let ApiError::Leavers(gate) = self {
            error["gate"] = serde_json::to_value(gate).unwrap_or_default();
        }
        if let ApiError::Photo { refusal, photos } = self {
            if let Some(details) = refusal.details() {
                error["details"] = details;
            }
            if let Some(photos) = photos {
                error["photos"] = photos.clone();
            }
        }
        serde_json::json!({ "error": error })
    }

    /// Seconds a client should wait before trying again, for a `Retry-After` header.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::TooManyAttempts { retry_after }
            | ApiError::TooManyCodes { retry_after }
            | ApiError::TooFast { retry_after, .. }
            | ApiError::Busy { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    pub fn bad(message: impl Into<String>) -> Self {
        ApiError::BadRequest(message.into())
    }
}

impl From<Refused> for ApiError {
    fn from(r: Refused) -> Self {
        ApiError::Code(r)
    }
}

impl From<OfferError> for ApiError {
    fn from(e: OfferError) -> Self {
        tracing::error!("cannot provision a door unit: {e}");
        ApiError::Unavailable(e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(what.to_owned()),
            StoreError::Conflict(what) => ApiError::Conflict(what),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<ConsentError> for ApiError {
    fn from(e: ConsentError) -> Self {
        match e {
            ConsentError::Invalid(why) => ApiError::BadRequest(why),
            ConsentError::NotGiven { .. } => ApiError::NoConsent(e.to_string()),
            ConsentError::Store(e) => e.into(),
        }
    }
}

impl From<AccessError> for ApiError {
    fn from(e: AccessError) -> Self {
        match e {
            AccessError::Forbidden(why) => ApiError::Forbidden(why.into()),
            AccessError::Store(e) => e.into(),
        }
    }
}

impl From<MarkError> for ApiError {
    fn from(e: MarkError) -> Self {
        match e {
            MarkError::Access(e) => e.into(),
            MarkError::RegisterClosed => ApiError::Conflict(e.to_string()),
            MarkError::NotRequired => ApiError::BadRequest(e.to_string()),
            MarkError::NotInClass => ApiError::NotFound(e.to_string()),
            MarkError::Invalid(m) => ApiError::BadRequest(m),
            MarkError::MarkedSince(m) => ApiError::Conflict(m),
            MarkError::Store(e) => e.into(),
        }
    }
}

impl From<ReviewError> for ApiError {
    fn from(e: ReviewError) -> Self {
        match e {
            ReviewError::Access(e) => e.into(),
            ReviewError::Conflict(why) => ApiError::Conflict(why),
            ReviewError::Refused(refusal) => refusal.into(),
            ReviewError::Consent(e) => e.into(),
            ReviewError::Store(e) => e.into(),
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        ApiError::Photo {
            refusal,
            photos: None,
        }
    }
}

impl From<VisitorError> for ApiError {
    fn from(e: VisitorError) -> Self {
        match e {
            VisitorError::Invalid(m) => ApiError::BadRequest(m),
            VisitorError::NotFound(what) => ApiError::NotFound(what.to_owned()),
            VisitorError::Ambiguous(m) => ApiError::Conflict(m),
            VisitorError::Store(s) => s.into(),
        }
    }
}

impl From<ActivityError> for ApiError {
    fn from(e: ActivityError) -> Self {
        match e {
            ActivityError::Invalid(m) => ApiError::BadRequest(m),
            ActivityError::Forbidden(m) => ApiError::Forbidden(m),
            ActivityError::Store(s) => s.into(),
        }
    }
}

impl From<SignOutError> for ApiError {
    fn from(e: SignOutError) -> Self {
        match e {
            SignOutError::Invalid(m) => ApiError::BadRequest(m),
            SignOutError::Conflict(m) => ApiError::Conflict(m),
            SignOutError::Store(s) => s.into(),
        }
    }
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> Self {
        ApiError::Unauthorized(e.to_string())
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Invalid(m) => ApiError::BadRequest(m),
            AccountError::Taken(m) => ApiError::Conflict(m),
            AccountError::LastAdmin(_) => ApiError::Conflict(e.to_string()),
            AccountError::Store(s) => s.into(),
            AccountError::Hash(h) => h.into(),
        }
    }
}

impl From<LinkError> for ApiError {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::Account(a) => a.into(),
            refused => ApiError::Link(refused),
        }
    }
}

impl From<HashingError> for ApiError {
    fn from(e: HashingError) -> Self {
        match e {
            HashingError::Busy { retry_after } => ApiError::Busy { retry_after },
            HashingError::Failed(detail) => ApiError::Internal(detail),
        }
    }
}

impl From<rollcall_school::accounts::password::HashError> for ApiError {
    fn from(e: rollcall_school::accounts::password::HashError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<ReplyError> for ApiError {
    fn from(e: ReplyError) -> Self {
        match e {
            ReplyError::Store(e) => e.into(),
            other => ApiError::Reply(other),
        }
    }
}

impl From<DecideError> for ApiError {
    fn from(e: DecideError) -> Self {
        match e {
            DecideError::Access(a) => a.into(),
            DecideError::NoNotice => {
                ApiError::NotFound("notice of this student on this day".into())
            }
            DecideError::NoReply | DecideError::Decided(_) => ApiError::Conflict(e.to_string()),
            DecideError::Invalid(m) => ApiError::BadRequest(m),
            DecideError::Store(e) => e.into(),
        }
    }
}

impl From<ReportError> for ApiError {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::Access(a) => a.into(),
            ReportError::Known(..) => ApiError::Conflict(e.to_string()),
            ReportError::Invalid(m) => ApiError::BadRequest(m),
            ReportError::Store(e) => e.into(),
        }
    }
}
