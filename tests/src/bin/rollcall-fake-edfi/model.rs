//! The resource model the stand-in checks requests against, read from `model.json` (a cut-down
//! copy of Ed-Fi's published definitions; `tests/standins/edfi/SOURCE.md` says where each part
//! comes from). Loading fails on anything the checks would not understand, so a model the
//! stand-in cannot honour never half-works. It also owns the small JSON path dialect upstream
//! uses (`$.a.b`, `$.a[*].b`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, bail, ensure};
use rollcall_e2e::standin::json::{self, array, field, object, text};
use serde_json::Value;

/// The one `pattern` upstream uses for identity strings: no leading or trailing whitespace.
pub const NO_EDGE_WHITESPACE: &str = "^(?!\\s)(.*\\S)$";

/// Full descriptor URIs (`uri://ed-fi.org/AttendanceEventCategoryDescriptor#Tardy`) by
/// descriptor name.
pub type Descriptors = BTreeMap<String, BTreeSet<String>>;

#[derive(Debug)]
pub struct Model {
    /// By endpoint name (`studentSchoolAttendanceEvents`).
    pub resources: BTreeMap<String, Resource>,
    pub descriptors: Descriptors,
}

#[derive(Debug)]
pub struct Resource {
    /// `StudentSchoolAttendanceEvent`.
    pub name: String,
    /// The natural key: an item is new unless another has the same values at these paths.
    pub identity: Vec<String>,
    /// `(source, target)` paths that must hold one value between them (key unification).
    pub equality: Vec<(String, String)>,
    /// `(path, descriptor name)` of each descriptor-valued property.
    pub descriptor_paths: Vec<(String, String)>,
    /// Where the body names the student it is about; `None` for a resource about no student
    /// (`sections`).
    pub student_path: Option<String>,
    /// The other references the stand-in resolves against the items it holds (a section).
    pub references: Vec<Reference>,
    /// Query parameter name → the paths it filters on and their type (`string`, `number`, …).
    pub query_fields: BTreeMap<String, Vec<(String, String)>>,
    /// `jsonSchemaForInsert`, checked by `validate`.
    pub schema: Value,
}

/// A reference to another resource of the model (`sectionReference`).
#[derive(Debug)]
pub struct Reference {
    /// The resource named (`Section`), as its `resourceName`.
    pub resource: String,
    /// `(path in the named item, path in this body)` of each value the reference gives.
    pub paths: Vec<(String, String)>,
}

impl Model {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        json::load(path, "model", Self::from_json)
    }

    pub fn from_json(json: &Value) -> anyhow::Result<Self> {
        let mut resources = BTreeMap::new();
        for (endpoint, resource) in object(json, "resources")? {
            let resource = Resource::from_json(resource).with_context(|| endpoint.clone())?;
            resources.insert(endpoint.clone(), resource);
        }
        ensure!(!resources.is_empty(), "no resources");
        for resource in resources.values() {
            for reference in &resource.references {
                ensure!(
                    resources.values().any(|r| r.name == reference.resource),
                    "{} refers to {}, which the model does not hold",
                    resource.name,
                    reference.resource
                );
            }
        }
        let descriptors = descriptors_from_json(field(json, "descriptors")?)?;
        for resource in resources.values() {
            for (path, name) in &resource.descriptor_paths {
                ensure!(
                    descriptors.contains_key(name),
                    "{} names descriptor {name} at {path}, which has no values",
                    resource.name
                );
            }
        }
        Ok(Self {
            resources,
            descriptors,
        })
    }

    /// The endpoint of the resource named `name` (`Section`: `sections`).
    pub fn endpoint_of(&self, name: &str) -> Option<&str> {
        let mut all = self.resources.iter();
        all.find(|(_, r)| r.name == name).map(|(e, _)| e.as_str())
    }
}

impl Resource {
    fn from_json(json: &Value) -> anyhow::Result<Self> {
        let mut descriptor_paths = Vec::new();
        let mut student_path = None;
        let mut references = Vec::new();
        for (key, entry) in object(json, "documentPathsMapping")? {
            let name = text(entry, "resourceName")?;
            if entry["isDescriptor"] == Value::Bool(true) {
                descriptor_paths.push((text(entry, "path")?, name));
            } else if name == "Student" {
                let paths = array(entry, "referenceJsonPaths")?;
                let [only] = paths.as_slice() else {
                    bail!("{key}: one student reference path expected");
                };
                student_path = Some(text(only, "referenceJsonPath")?);
            } else {
                references.push(Reference::from_json(entry, name).with_context(|| key.clone())?);
            }
        }
        let equality = array(json, "equalityConstraints")?
            .iter()
            .map(|c| Ok((text(c, "sourceJsonPath")?, text(c, "targetJsonPath")?)))
            .collect::<anyhow::Result<_>>()?;
        let mut query_fields = BTreeMap::new();
        for (name, paths) in object(json, "queryFieldMapping")? {
            let paths = paths
                .as_array()
                .with_context(|| format!("queryFieldMapping.{name} is not an array"))?
                .iter()
                .map(|p| Ok((text(p, "path")?, text(p, "type")?)))
                .collect::<anyhow::Result<_>>()?;
            query_fields.insert(name.clone(), paths);
        }
        let schema = field(json, "jsonSchemaForInsert")?.clone();
        check_schema(&schema, "$")?;
        let identity = array(json, "identityJsonPaths")?
            .iter()
            .map(|p| {
                p.as_str()
                    .map(str::to_owned)
                    .context("identity path not a string")
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        ensure!(!identity.is_empty(), "no identityJsonPaths");
        Ok(Self {
            name: text(json, "resourceName")?,
            identity,
            equality,
            descriptor_paths,
            student_path,
            references,
            query_fields,
            schema,
        })
    }
}

impl Reference {
    fn from_json(json: &Value, resource: String) -> anyhow::Result<Self> {
        let paths = array(json, "referenceJsonPaths")?
            .iter()
            .map(|p| Ok((text(p, "identityJsonPath")?, text(p, "referenceJsonPath")?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        ensure!(!paths.is_empty(), "no referenceJsonPaths");
        Ok(Self { resource, paths })
    }
}

/// `"descriptors": {"XDescriptor": {"namespace", "codeValues": [...]}}` as full URIs.
pub fn descriptors_from_json(json: &Value) -> anyhow::Result<Descriptors> {
    let map = json.as_object().context("descriptors: not an object")?;
    let mut descriptors = Descriptors::new();
    for (name, entry) in map {
        let namespace = text(entry, "namespace")?;
        let values = array(entry, "codeValues")?
            .iter()
            .map(|v| Ok(format!("{namespace}#{}", v.as_str().context("code value")?)))
            .collect::<anyhow::Result<BTreeSet<_>>>()
            .with_context(|| name.clone())?;
        descriptors.insert(name.clone(), values);
    }
    Ok(descriptors)
}

/// Refuses schema keywords and values the checks in `validate` do not implement.
fn check_schema(schema: &Value, at: &str) -> anyhow::Result<()> {
    const KNOWN: &[&str] = &[
        "additionalProperties",
        "format",
        "items",
        "maxLength",
        "maximum",
        "minItems",
        "minimum",
        "pattern",
        "properties",
        "required",
        "title",
        "type",
        "uniqueItems",
    ];
    let map = schema
        .as_object()
        .with_context(|| format!("{at}: not a schema"))?;
    if let Some(unknown) = map.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        bail!("{at}: schema keyword {unknown:?} is not supported");
    }
    let kind = text(schema, "type").with_context(|| at.to_owned())?;
    ensure!(
        ["object", "array", "string", "integer", "number", "boolean"].contains(&kind.as_str()),
        "{at}: type {kind:?} is not supported"
    );
    if let Some(format) = map.get("format") {
        let known = ["date", "time", "int32", "int64"];
        ensure!(
            format.as_str().is_some_and(|f| known.contains(&f)),
            "{at}: format {format} is not supported"
        );
    }
    if let Some(pattern) = map.get("pattern") {
        ensure!(
            pattern.as_str() == Some(NO_EDGE_WHITESPACE),
            "{at}: pattern {pattern} is not supported"
        );
    }
    ensure!(
        map.get("uniqueItems")
            .is_none_or(|u| u == &Value::Bool(false)),
        "{at}: uniqueItems is not supported"
    );
    if let Some(properties) = map.get("properties") {
        let properties = properties.as_object().context("properties")?;
        for (name, property) in properties {
            check_schema(property, &format!("{at}.{name}"))?;
        }
        for required in array(schema, "required").unwrap_or(&Vec::new()) {
            let name = required.as_str().context("required name")?;
            ensure!(
                properties.contains_key(name),
                "{at}: required {name} is not a property"
            );
        }
    }
    if let Some(items) = map.get("items") {
        check_schema(items, &format!("{at}[*]"))?;
    }
    Ok(())
}

/// The values at `path` (`$.a.b`, `$.a[*].b`) with the concrete path of each (`$.a[0].b`).
pub fn select<'a>(value: &'a Value, path: &str) -> Vec<(String, &'a Value)> {
    let Some(rest) = path.strip_prefix('$') else {
        return Vec::new();
    };
    let mut found = vec![("$".to_owned(), value)];
    for segment in rest.split('.').filter(|s| !s.is_empty()) {
        let (name, every) = match segment.strip_suffix("[*]") {
            Some(name) => (name, true),
            None => (segment, false),
        };
        let mut next = Vec::new();
        for (at, value) in found {
            let Some(child) = value.get(name).filter(|c| !c.is_null()) else {
                continue;
            };
            let at = format!("{at}.{name}");
            match (every, child.as_array()) {
                (false, _) => next.push((at, child)),
                (true, Some(items)) => next.extend(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| (format!("{at}[{i}]"), item)),
                ),
                (true, None) => {}
            }
        }
        found = next;
    }
    found
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn select_follows_names_and_every_item_of_arrays() {
        let body = json!({"a": {"b": 1}, "list": [{"c": 2}, {"c": 3}, {"d": 4}]});
        let found = select(&body, "$.a.b");
        assert_eq!(found, vec![("$.a.b".to_owned(), &json!(1))]);
        let found: Vec<_> = select(&body, "$.list[*].c")
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(found, ["$.list[0].c", "$.list[1].c"]);
        assert!(select(&body, "$.missing.b").is_empty());
        assert!(select(&body, "a.b").is_empty());
    }

    #[test]
    fn the_committed_model_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("standins/edfi/model.json");
        let model = Model::load(&path).unwrap();
        let school = &model.resources["studentSchoolAttendanceEvents"];
        let student = school.student_path.as_deref();
        assert_eq!(student, Some("$.studentReference.studentUniqueId"));
        assert!(school.references.is_empty());
        let section = &model.resources["studentSectionAttendanceEvents"].references;
        let [section] = section.as_slice() else {
            panic!("{section:?}");
        };
        assert_eq!(model.endpoint_of(&section.resource), Some("sections"));
        assert_eq!(section.paths.len(), 5);
        assert_eq!(model.resources["sections"].student_path, None);
        assert!(
            model.descriptors["AttendanceEventCategoryDescriptor"]
                .contains("uri://ed-fi.org/AttendanceEventCategoryDescriptor#Tardy")
        );
    }

    #[test]
    fn unsupported_schema_keywords_are_refused() {
        let schema = json!({"type": "string", "oneOf": []});
        assert!(check_schema(&schema, "$").is_err());
        let schema = json!({"type": "string", "pattern": "^a$"});
        assert!(check_schema(&schema, "$").is_err());
    }
}
