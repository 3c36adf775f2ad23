//! The stored items of each resource, in memory and in the order they were first created.
//! POST upserts by natural key (the model's identity paths): the same key keeps its `id`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::{Resource, select};

#[derive(Debug)]
struct Item {
    id: String,
    /// The identity values as one JSON text.
    key: String,
    body: Value,
}

#[derive(Debug, Default)]
pub struct Store {
    items: BTreeMap<String, Vec<Item>>,
}

/// Whether a POST made a new item.
#[derive(Debug, PartialEq)]
pub enum Upsert {
    Created(String),
    Updated(String),
}

impl Store {
    /// Stores a validated `body` of `endpoint`, replacing the item with the same identity.
    pub fn upsert(&mut self, endpoint: &str, resource: &Resource, body: Value) -> Upsert {
        let key = identity(resource, &body);
        let items = self.items.entry(endpoint.to_owned()).or_default();
        if let Some(item) = items.iter_mut().find(|i| i.key == key) {
            item.body = body;
            return Upsert::Updated(item.id.clone());
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        items.push(Item {
            id: id.clone(),
            key,
            body,
        });
        Upsert::Created(id)
    }

    /// The item with `id` (32 hex digits), as GET answers it.
    pub fn get(&self, endpoint: &str, id: &str) -> Option<Value> {
        self.all(endpoint).find(|i| i.id == id).map(shown)
    }

    /// Whether an item with `id` was there to delete.
    pub fn delete(&mut self, endpoint: &str, id: &str) -> bool {
        let Some(items) = self.items.get_mut(endpoint) else {
            return false;
        };
        let before = items.len();
        items.retain(|i| i.id != id);
        items.len() < before
    }

    /// The items `keep` accepts: how many there are, and the page `offset..offset + limit`.
    pub fn list(
        &self,
        endpoint: &str,
        keep: impl Fn(&Value) -> bool,
        offset: usize,
        limit: usize,
    ) -> (usize, Vec<Value>) {
        let matching: Vec<Value> = self.all(endpoint).map(shown).filter(|v| keep(v)).collect();
        let page = matching.iter().skip(offset).take(limit).cloned().collect();
        (matching.len(), page)
    }

    /// Whether any item of `endpoint` is one `keep` accepts.
    pub fn any(&self, endpoint: &str, keep: impl Fn(&Value) -> bool) -> bool {
        self.all(endpoint).any(|i| keep(&shown(i)))
    }

    fn all(&self, endpoint: &str) -> impl Iterator<Item = &Item> {
        self.items.get(endpoint).into_iter().flatten()
    }
}

/// The body with the `id` the ODS adds to every item it answers.
fn shown(item: &Item) -> Value {
    let mut object = serde_json::Map::new();
    object.insert("id".into(), Value::String(item.id.clone()));
    if let Some(body) = item.body.as_object() {
        object.extend(body.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    Value::Object(object)
}

/// The natural key of a validated body: the values at the identity paths, in order.
fn identity(resource: &Resource, body: &Value) -> String {
    let values: Vec<Value> = resource
        .identity
        .iter()
        .map(|path| {
            select(body, path)
                .first()
                .map_or(Value::Null, |(_, v)| (*v).clone())
        })
        .collect();
    Value::Array(values).to_string()
}
