//! Opening what each school keeps before the hub serves it: its store (SQLite, or its schema
//! on the shared PostgreSQL pool), its faces sealed under the current key, its enrolments
//! carried to the current face model, and the face pipeline for photo enrolment.

use std::sync::Arc;

use rollcall_models::pipeline::{model_id, previous_model_id};
use rollcall_runtime::clock::SharedClock;
use rollcall_school::enrol::{self, Enroller, LoadError};
use rollcall_store::{Db, StoreError};

use super::error::RunError;
use crate::config::Config;

/// Each school's store: the first opened as a hub of one school opens it, each other on the
/// same PostgreSQL pool in its own schema, brought up to date and its face keys checked.
pub(super) async fn open_stores(schools: &[crate::config::School]) -> Result<Vec<Db>, RunError> {
    let Some((first, others)) = schools.split_first() else {
        return Ok(Vec::new());
    };
    let db = open_store(&first.config).await?;
    let mut stores = vec![db.clone()];
    for school in others {
        stores.push(open_school(&db, &school.config).await?);
    }
    Ok(stores)
}

/// The school `config` names on the PostgreSQL pool of `first`, in its own schema (made when
/// missing), brought up to date and its face keys checked.
pub(super) async fn open_school(first: &Db, config: &Config) -> Result<Db, RunError> {
    let (db, config) = (first.clone(), config.clone());
    tokio::task::spawn_blocking(move || {
        crate::setup::open_school(&db, &config).map_err(|e| match e {
            crate::setup::SetupError::Store(e) => RunError::Store(e),
            crate::setup::SetupError::FaceKeys(e) => RunError::FaceKeys(e),
            other => RunError::Store(StoreError::Config(other.to_string())),
        })
    })
    .await
    .map_err(|e| StoreError::Task(e.to_string()))?
}

/// SQLite in the data directory (made when missing), or the shared PostgreSQL database of
/// `[store] url`; with the face keys, which must hold every key its faces are sealed with.
async fn open_store(config: &Config) -> Result<Db, RunError> {
    use crate::setup::{self, SetupError};
    let config = config.clone();
    // The PostgreSQL client blocks: off the executor, as every later call.
    let opened = tokio::task::spawn_blocking(move || {
        let db = match &config.store.url {
            None => Db::open(&config.database_path(), setup::keyring(&config)?)?,
            Some(_) => setup::open_unadmitted(&config)?,
        };
        setup::admitted(db, &config)
    })
    .await
    .map_err(|e| StoreError::Task(e.to_string()))?;
    opened.map_err(|e| match e {
        SetupError::Store(e) => RunError::Store(e),
        SetupError::FaceKeys(e) => RunError::FaceKeys(e),
        other => RunError::Store(StoreError::Config(other.to_string())),
    })
}

/// Seals, while the hub serves, the faces not yet under the key that seals now: those stored
/// before sealing existed, or under a key rotated out while the hub was down.
pub(super) async fn reseal(db: Db) {
    let done = tokio::task::spawn_blocking(move || rollcall_store::keys::reseal(&db)).await;
    match done.unwrap_or_else(|e| Err(StoreError::Task(e.to_string()))) {
        Ok(pass) if pass.changed > 0 || pass.unreadable > 0 => tracing::info!(
            sealed = pass.changed,
            unreadable = pass.unreadable,
            "faces sealed under the current key"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!("sealing faces under the current key stopped: {e}"),
    }
}

/// Carries enrolments of the previous face model over to the current one when the gallery
/// uses the current one (see [`enrol::upgrade_enrolments`]).
pub(super) async fn upgrade_enrolments(
    db: &Db,
    config: &Config,
    clock: &SharedClock,
) -> Result<(), StoreError> {
    if config.gallery.model != model_id() {
        return Ok(());
    }
    let now = clock.now();
    let upgraded = db
        .write(move |sql| enrol::upgrade_enrolments(sql, now))
        .await?;
    if upgraded > 0 {
        tracing::info!(
            "{upgraded} enrolment embeddings of {} carried over to {}",
            previous_model_id(),
            model_id()
        );
    }
    Ok(())
}

/// Says in the log which members of staff share a personnel code but for its case (kept from
/// before codes were compared whatever their case): on every start until one is renamed, as
/// the Staff page lists them. Such a code signs nobody in.
pub(super) async fn warn_of_code_clashes(db: &Db) -> Result<(), StoreError> {
    for group in db.read(rollcall_school::staff::clashes).await? {
        let members: Vec<String> = group
            .iter()
            .map(|m| format!("{} ({})", m.name, m.code))
            .collect();
        tracing::warn!(
            members = %members.join(", "),
            "members of staff share a personnel code but for its case: rename one on the Staff page"
        );
    }
    Ok(())
}

/// Loads the face pipeline on the blocking pool when photo enrolment is on.
pub(super) async fn load_faces(config: &Config) -> Result<Option<Arc<Enroller>>, LoadError> {
    if !config.faces.enabled {
        tracing::info!("photo enrolment is off (faces.enabled = false)");
        return Ok(None);
    }
    let (dir, gate) = (config.faces.models_dir.clone(), config.faces.gate);
    let limits = enrol::photo_limits(config.faces.max_photo_megapixels);
    let loaded =
        tokio::task::spawn_blocking(move || Enroller::load_with(dir.as_ref(), gate, limits))
            .await
            .map_err(|e| LoadError::Missing(format!("loading panicked: {e}")))??;
    Ok(Some(Arc::new(loaded)))
}
