//! One-code provisioning over HTTP (rules in `crate::provisioning`): an admin makes a code
//! for a door unit, and the door unit trades it, once, for everything it needs to start.

use rollcall_shared::{
    BrokerAccess, DeviceId, ProvisionRequest, Provisioned, ProvisioningCode, UnixMillis,
};
use serde_json::json;

use crate::config::MqttMode;
use crate::http::accounts::users::hashed;
use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use crate::provisioning::{self, EVERYONE, Refused};
use rollcall_school::accounts::{self, Hashed};
use rollcall_school::principal::Principal;
use rollcall_store::Sql;
use rollcall_store::audit::{self, Change};
use rollcall_store::devices::{self, Device};
use rollcall_store::provisioning as codes;

/// `POST /devices/{device}/provisioning-code` (admin): a new one-time code for the unit, the
/// command to type on it and that command as a QR code. Earlier unused codes stop working.
pub async fn create_code(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let device: DeviceId = req.id("device", "device")?;
    refuse_external(hub)?;
    let code = provisioning::new_code();
    let (actor, now) = (who.actor(), hub.now());
    let expires_at = expiry(hub, now);
    let digest = code.digest();
    let unit = hub
        .write(move |tx| {
            let unit = devices::get(tx, device)?.ok_or(ApiError::NotFound("device".into()))?;
            store_code(tx, &unit, &digest, &actor, now, expires_at)?;
            Ok::<_, ApiError>(unit)
        })
        .await?;
    Reply::created(shown(hub, req, &unit, &code, expires_at)?)
}

/// Codes need the embedded broker: an external one keeps its own accounts.
pub(in crate::http) fn refuse_external(hub: &Hub) -> Result<(), ApiError> {
    if hub.config.mqtt.mode == MqttMode::External {
        return Err(ApiError::Conflict(
            "with an external broker, door units' accounts live in that broker: set units up by \
             hand (hub/README.md, \"An external broker\")"
                .into(),
        ));
    }
    Ok(())
}

/// When a code made `now` expires.
pub(in crate::http) fn expiry(hub: &Hub, now: UnixMillis) -> UnixMillis {
    let minutes = hub.config.provisioning.code_minutes;
    UnixMillis(now.0 + i64::from(minutes) * 60_000)
}

/// Stores a code (by its digest) for `unit`, which must be enabled, with an audit entry.
pub(in crate::http) fn store_code(
    tx: &dyn Sql,
    unit: &Device,
    digest: &str,
    actor: &str,
    now: UnixMillis,
    expires_at: UnixMillis,
) -> Result<(), ApiError> {
    if !unit.enabled {
        return Err(ApiError::Code(Refused::DeviceDisabled));
    }
    codes::replace(tx, digest, unit.id, actor, now, expires_at)?;
    let change = Change {
        actor,
        action: "device.provisioning_code",
        target: format!("device:{}", unit.id),
        before: None,
        after: Some(json!({"expires_at": expires_at})),
        at: now,
    };
    audit::log(tx, change)?;
    Ok(())
}

/// A code as the admin is shown it: the code, until when, the command and its QR code.
pub(in crate::http) fn shown(
    hub: &Hub,
    req: &Request,
    unit: &Device,
    code: &ProvisioningCode,
    expires_at: UnixMillis,
) -> Result<serde_json::Value, ApiError> {
    let hub_url = provisioning::hub_url(&hub.config, req.host.as_deref());
    let command = provisioning::command(hub_url.as_deref(), code);
    let qr_svg = provisioning::qr_svg(&command).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(json!({
        "device_id": unit.id,
        "device_name": unit.name,
        "code": code.to_string(),
        "expires_at": expires_at,
        "hub_url": hub_url,
        "command": command,
        "qr_svg": qr_svg,
    }))
}

/// `POST /provision` (no account: the code is the credential): the door unit's broker
/// address, CA and fresh credentials, site, room and time zone.
pub async fn redeem(hub: &Hub, req: &Request) -> Result<Reply, ApiError> {
    let now = hub.now();
    hub.code_limiter
        .check(EVERYONE, req.remote, now.0)
        .map_err(|retry_after| ApiError::TooManyCodes { retry_after })?;
    let body: ProvisionRequest = req.json()?;
    let code: ProvisioningCode = match body.code.parse() {
        Ok(code) => code,
        Err(e) => return Err(wrong(hub, req, now, ApiError::bad(e.to_string()))),
    };
    let digest = code.digest();
    let found = {
        let digest = digest.clone();
        hub.read(move |c| codes::get(c, &digest)).await?
    };
    let device = match provisioning::judge(found.as_ref(), now) {
        Ok(device) => device,
        Err(refused) => return Err(wrong(hub, req, now, refused.into())),
    };
    // Everything that can fail is done before the code is spent: a hub that cannot say where
    // its broker is keeps the code for a second try.
    let config = hub.config.clone();
    let broker_url = provisioning::broker_url(&config, req.host.as_deref())?;
    let ca_pem = provisioning::broker_ca(&config)?;
    let cert = provisioning::client_cert(&config, device, hub.today())?;
    let secret = hashed(hub, Hashed::device_secret).await?;
    let from = req.remote.map(|ip| ip.to_string());
    let unit = hub
        .write(move |tx| {
            if !codes::spend(tx, &digest, now, from.as_deref())? {
                return Err(ApiError::Code(Refused::Used));
            }
            let unit = devices::get(tx, device)?
                .filter(|d| d.enabled)
                .ok_or(ApiError::Code(Refused::DeviceDisabled))?;
            let password = accounts::rotate_device_secret(tx, device, secret)?;
            let actor = format!(
                "door unit at {}",
                from.as_deref().unwrap_or("unknown address")
            );
            audit::log(
                tx,
                Change {
                    actor: &actor,
                    action: "device.provision",
                    target: format!("device:{device}"),
                    before: None,
                    after: Some(
                        json!({"broker_url": broker_url, "client_certificate": cert.is_some()}),
                    ),
                    at: now,
                },
            )?;
            Ok::<_, ApiError>((unit, password, broker_url, cert))
        })
        .await;
    let (unit, password, url, cert) = match unit {
        Ok(done) => done,
        Err(e @ ApiError::Code(_)) => return Err(wrong(hub, req, now, e)),
        Err(e) => return Err(e),
    };
    tracing::info!(device = %unit.id, name = %unit.name, remote = ?req.remote, "door unit provisioned");
    let (client_cert_pem, client_key_pem) = cert.map(|c| (c.cert_pem, c.key_pem)).unzip();
    Reply::ok(Provisioned {
        device_id: unit.id,
        device_name: unit.name,
        site: config.site.clone(),
        room: unit.room,
        direction: unit.direction,
        timezone: config.timezone.name().to_owned(),
        broker: BrokerAccess {
            url,
            ca_pem,
            username: unit.id.to_string(),
            password,
            client_cert_pem,
            client_key_pem,
        },
    })
}

/// Counts a wrong code against the caller's address (and everyone's), and passes `error` on.
fn wrong(hub: &Hub, req: &Request, now: UnixMillis, error: ApiError) -> ApiError {
    tracing::warn!(remote = ?req.remote, "provisioning code refused: {error}");
    hub.code_limiter.failed(EVERYONE, req.remote, now.0);
    error
}
