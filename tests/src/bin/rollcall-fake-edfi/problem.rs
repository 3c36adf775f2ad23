//! The ODS/API 7 problem-details answers (`{"detail", "type", "title", "status", …}`). Types,
//! titles and details are the ODS's own (`EdFi.Ods.Common/Exceptions/*.cs` at v7.3.2; see
//! `tests/standins/edfi/SOURCE.md`). Only this module spells them.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use rollcall_e2e::standin::http::Answer;

/// Messages keyed by the JSON path they are about (`$.studentReference.studentUniqueId`).
pub type ValidationErrors = BTreeMap<String, Vec<String>>;

const PREFIX: &str = "urn:ed-fi:api";

fn problem(status: u16, type_parts: &str, title: &str, detail: &str) -> Value {
    json!({
        "detail": detail,
        "type": format!("{PREFIX}:{type_parts}"),
        "title": title,
        "status": status,
    })
}

fn answer(body: Value) -> Answer {
    let status = body["status"].as_u64().and_then(|s| u16::try_from(s).ok());
    let mut answer = Answer::json(status.unwrap_or(500), body);
    answer.content_type = "application/problem+json";
    answer
}

/// 400 `bad-request:data-validation-failed` with `validationErrors` (`BadRequestDataException`).
pub fn validation_failed(errors: ValidationErrors) -> Answer {
    let mut body = problem(
        400,
        "bad-request:data-validation-failed",
        "Data Validation Failed",
        "Data validation failed. See 'validationErrors' for details.",
    );
    body["validationErrors"] = json!(errors);
    answer(body)
}

/// 400 `bad-request:data-validation-failed` with `errors`, as for an `id` in a POST body.
pub fn data_constructed_incorrectly(error: &str) -> Answer {
    let mut body = problem(
        400,
        "bad-request:data-validation-failed",
        "Data Validation Failed",
        "The request data was constructed incorrectly.",
    );
    body["errors"] = json!([error]);
    answer(body)
}

/// 400 `bad-request` with `errors`: a body that could not be read at all (`ErrorTranslator`).
pub fn could_not_process(error: &str) -> Answer {
    let mut body = problem(
        400,
        "bad-request",
        "Bad Request",
        "The request could not be processed. See 'errors' for details.",
    );
    body["errors"] = json!([error]);
    answer(body)
}

/// 400 `bad-request:parameter-validation-failed` (`BadRequestParameterException`).
pub fn parameter_invalid(error: &str) -> Answer {
    let mut body = problem(
        400,
        "bad-request:parameter-validation-failed",
        "Parameter Validation Failed",
        "The request construction was invalid.",
    );
    body["errors"] = json!([error]);
    answer(body)
}

/// 401 `security:authentication` (`SecurityAuthenticationException`).
pub fn unauthenticated(error: &str) -> Answer {
    let mut body = problem(
        401,
        "security:authentication",
        "Authentication Failed",
        "The caller could not be authenticated.",
    );
    body["errors"] = json!([error]);
    answer(body)
}

/// 404 `not-found` for an item (`NotFoundException.DefaultItemDetail`).
pub fn item_not_found() -> Answer {
    answer(problem(
        404,
        "not-found",
        "Not Found",
        "The specified item could not be found.",
    ))
}

/// 404 `not-found` for anything else (`NotFoundException.DefaultDetail`).
pub fn not_found() -> Answer {
    answer(problem(
        404,
        "not-found",
        "Not Found",
        "The specified data could not be found.",
    ))
}

/// 405 `method-not-allowed` (`MethodNotAllowedException`).
pub fn method_not_allowed(error: &str) -> Answer {
    let mut body = problem(
        405,
        "method-not-allowed",
        "Method Not Allowed",
        "The request construction was invalid.",
    );
    body["errors"] = json!([error]);
    answer(body)
}

/// 409 `data-conflict:unresolved-reference` (`UnresolvedReferenceException`).
pub fn unresolved_reference(resource: &str) -> Answer {
    answer(problem(
        409,
        "data-conflict:unresolved-reference",
        "Unresolved Reference",
        &format!("The referenced '{resource}' item does not exist."),
    ))
}

/// 500 `system` (`InternalServerErrorException`).
pub fn system_error() -> Answer {
    answer(problem(
        500,
        "system",
        "System Error",
        "An unexpected problem has occurred.",
    ))
}
