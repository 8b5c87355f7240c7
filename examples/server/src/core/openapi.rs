//! The OpenAPI document made to say what the server does, in one place rather than in every
//! module's annotations: every route's error answers are `application/problem+json` with the
//! `Problem` schema, including those the core gives before or around any handler (a malformed
//! id or query, a body that is not JSON, too large or of another type, overload, the request
//! timeout); request bodies are required objects (`core::extract` refuses anything else with a
//! 422) whose `additionalProperties` stay open, as the server ignores fields a request does not
//! have; strings refuse U+0000, which PostgreSQL's `text` and `jsonb` cannot hold; integers and
//! decimals say the range and the spelling the server reads.
//!
//! Clients are generated from this document and Schemathesis checks the server against it
//! (`scripts/conformance.sh`), so a rule the server applies belongs here too.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Map, Value, json};

/// The pattern of a string without U+0000. The server refuses the character (`core::extract`
/// for bodies, `core::list` for queries) rather than failing in PostgreSQL.
pub const NO_NUL: &str = r"^[^\u0000]*$";

/// A decimal as the server reads it, from a JSON string or a query parameter: `12.50`, `-3`.
/// rust_decimal holds at most 28 digits; more integer digits are refused.
pub const DECIMAL: &str = r"^-?[0-9]{1,28}(\.[0-9]{1,28})?$";

/// `If-Match` and `If-None-Match` as `core::precondition` reads them: `*` or a list of entity
/// tags.
const ENTITY_TAGS: &str =
    r#"^(\*|(W/)?"[\x21\x23-\x2B\x2D-\x7E]*"( *, *(W/)?"[\x21\x23-\x2B\x2D-\x7E]*")*)$"#;

/// Request headers the core reads, with the spelling it takes; a module's annotation only
/// names them.
const HEADERS: [(&str, &str); 3] = [
    ("If-Match", ENTITY_TAGS),
    ("If-None-Match", ENTITY_TAGS),
    // `core::idempotency`: one to 255 visible ASCII characters.
    ("Idempotency-Key", r"^[\x21-\x7E]{1,255}$"),
];

const PROBLEM: &str = "application/problem+json";
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
/// The component a free-form JSON value (a `json` field) refers to.
const JSON_VALUE: &str = "JsonValue";

/// What the core's layers bound, as the document states them.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub body_bytes: usize,
    pub request_timeout: Duration,
}

/// The document utoipa built from the routes' annotations, completed with what the core does.
pub fn complete(document: &utoipa::openapi::OpenApi, limits: Limits) -> Value {
    let document = serde_json::to_value(document).expect("the document serialises to JSON");
    complete_json(document, limits)
}

fn complete_json(mut document: Value, limits: Limits) -> Value {
    let mut bodies = BTreeSet::new();
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, operation) in item.iter_mut() {
                if METHODS.contains(&method.as_str()) {
                    complete_operation(operation, limits, &mut bodies);
                }
            }
        }
    }
    let schemas = &mut document["components"]["schemas"];
    for name in bodies {
        if let Some(schema) = schemas.get_mut(&name) {
            request_object(schema);
        }
    }
    if let Some(schemas) = schemas.as_object_mut() {
        for schema in schemas.values_mut() {
            integer_ranges(schema);
            let properties = schema.get_mut("properties").and_then(Value::as_object_mut);
            for property in properties.into_iter().flat_map(|p| p.values_mut()) {
                any_json(property);
            }
        }
        schemas.insert(JSON_VALUE.to_owned(), json_value());
    }
    document
}

fn complete_operation(operation: &mut Value, limits: Limits, bodies: &mut BTreeSet<String>) {
    let mut in_path = false;
    let mut in_query = false;
    if let Some(parameters) = operation
        .get_mut("parameters")
        .and_then(Value::as_array_mut)
    {
        for parameter in parameters {
            in_path |= parameter["in"] == "path";
            in_query |= parameter["in"] == "query";
            let known = HEADERS
                .iter()
                .find(|(name, _)| parameter["in"] == "header" && parameter["name"] == *name);
            if let Some((_, pattern)) = known {
                parameter["schema"] = json!({"type": "string", "pattern": pattern});
            } else if let Some(schema) = parameter.get_mut("schema") {
                string_without_nul(schema);
            }
        }
    }
    let body = operation.get("requestBody").is_some();
    if body {
        operation["requestBody"]["required"] = Value::Bool(true);
        if let Some(name) =
            operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
        {
            bodies.insert(name.to_owned());
        }
    }
    let secured = operation["security"]
        .as_array()
        .is_some_and(|s| !s.is_empty());

    let Some(responses) = operation
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (status, response) in responses.iter_mut() {
        if status.starts_with(['4', '5']) {
            let content = response.get_mut("content").and_then(Value::as_object_mut);
            if let Some(json) = content.and_then(|c| c.remove("application/json")) {
                response["content"][PROBLEM] = json;
            }
        }
    }
    let malformed: Vec<&str> = [
        (
            in_path,
            "a path parameter is malformed, such as an id that is not a UUID",
        ),
        (in_query, "the query string cannot be read"),
        (body, "the body is not JSON"),
    ]
    .into_iter()
    .filter_map(|(applies, what)| applies.then_some(what))
    .collect();
    let mut add = |status: u16, description: &str| {
        responses
            .entry(status.to_string())
            .or_insert_with(|| problem(description));
    };
    if !malformed.is_empty() {
        add(400, &sentence(&malformed.join("; or ")));
    }
    if secured {
        add(401, "Missing or invalid token");
        add(403, "The token lacks the permission this operation needs");
    }
    if body {
        add(
            413,
            &format!("The body is larger than {} bytes", limits.body_bytes),
        );
        add(
            415,
            "The body is not sent as Content-Type: application/json",
        );
        add(422, "Invalid body; the problem names each field at fault");
    } else if in_query {
        add(422, "A parameter is invalid; the problem names it");
    }
    add(
        503,
        "The server is overloaded or its database unavailable; nothing was changed, try again \
         after Retry-After seconds",
    );
    add(
        504,
        &format!(
            "The request took longer than {} s; it may still complete, so check its effect \
             before retrying a change",
            limits.request_timeout.as_secs()
        ),
    );
    for (status, header, schema) in [
        ("401", "WWW-Authenticate", json!({"type": "string"})),
        (
            "503",
            "Retry-After",
            json!({"type": "integer", "minimum": 0}),
        ),
    ] {
        if let Some(response) = responses.get_mut(status) {
            response["headers"][header] = json!({"required": true, "schema": schema});
        }
    }
    let sorted: Map<String, Value> = std::mem::take(responses)
        .into_iter()
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .collect();
    *responses = sorted;
}

/// `the body is not JSON` -> `The body is not JSON`.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    })
}

/// A request body's schema: its strings without U+0000, its decimals spelled as the server
/// reads them, its free-form values JSON that PostgreSQL holds.
fn request_object(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(properties) = object.get_mut("properties").and_then(Value::as_object_mut) {
        for property in properties.values_mut() {
            request_value(property);
        }
    }
}

fn request_value(schema: &mut Value) {
    string_without_nul(schema);
    nullable_as_one_of(schema);
    // An array field's elements (`tags:string[]`) follow the same rules.
    if let Some(items) = schema.get_mut("items") {
        request_value(items);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(options) = schema.get_mut(key).and_then(Value::as_array_mut) {
            options.iter_mut().for_each(request_value);
        }
    }
}

/// A `json` field holds any JSON, whatever utoipa's `Object` says: the server stores what it
/// is sent.
fn any_json(schema: &mut Value) {
    if !free_form(schema) {
        return;
    }
    let value = json!({"$ref": format!("#/components/schemas/{JSON_VALUE}")});
    *schema = match types(schema).contains(&"null") {
        true => json!({"oneOf": [{"type": "null"}, value]}),
        false => value,
    };
}

/// `{"type": ["string", "null"], "format": "date"}` as `oneOf` null or a date: a format is
/// only an annotation in JSON Schema, and test generators drop it from a schema of two types,
/// sending strings no date parser reads.
fn nullable_as_one_of(schema: &mut Value) {
    let kinds = types(schema);
    if kinds.len() != 2 || !kinds.contains(&"null") || schema.get("format").is_none() {
        return;
    }
    let kind = kinds
        .into_iter()
        .find(|kind| *kind != "null")
        .map(str::to_owned);
    let mut value = schema.clone();
    value["type"] = Value::from(kind);
    *schema = json!({"oneOf": [{"type": "null"}, value]});
}

/// `{"type": "object"}` with nothing else said: utoipa's `Object`, a `json` field.
fn free_form(schema: &Value) -> bool {
    let Some(object) = schema.as_object() else {
        return false;
    };
    let type_only = object
        .keys()
        .all(|key| matches!(key.as_str(), "type" | "description" | "default"));
    type_only && types(schema).contains(&"object")
}

fn types(schema: &Value) -> Vec<&str> {
    match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// A string schema with no format (or `password`, a `:secret` field's), enumeration or pattern
/// of its own gets `NO_NUL`; a decimal gets `DECIMAL`.
fn string_without_nul(schema: &mut Value) {
    if !types(schema).contains(&"string") || schema.get("enum").is_some() {
        return;
    }
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    match object.get("format").and_then(Value::as_str) {
        Some("decimal") => {
            object.insert("pattern".to_owned(), Value::from(DECIMAL));
        }
        Some(format) if format != "password" => {}
        _ => {
            object
                .entry("pattern")
                .or_insert_with(|| Value::from(NO_NUL));
        }
    }
}

/// `int32` and `int64` bounds, which generators of test data and clients do not infer from the
/// format alone.
fn integer_ranges(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            let bounds = match object.get("format").and_then(Value::as_str) {
                Some("int32") => Some((i64::from(i32::MIN), i64::from(i32::MAX))),
                Some("int64") => Some((i64::MIN, i64::MAX)),
                _ => None,
            };
            if let Some((min, max)) = bounds {
                object.entry("minimum").or_insert(Value::from(min));
                object.entry("maximum").or_insert(Value::from(max));
            }
            object.values_mut().for_each(integer_ranges);
        }
        Value::Array(items) => items.iter_mut().for_each(integer_ranges),
        _ => {}
    }
}

/// Any JSON but `null` (a nullable field says so itself) that a `jsonb` column holds: no
/// U+0000 in a string or a key.
fn json_value() -> Value {
    let item = json!({"oneOf": [
        {"type": "null"},
        {"$ref": format!("#/components/schemas/{JSON_VALUE}")},
    ]});
    json!({
        "description": "Any JSON value but null; no string or key may contain U+0000, which \
                        PostgreSQL's jsonb cannot hold",
        "anyOf": [
            {"type": ["boolean", "number"]},
            {"type": "string", "pattern": NO_NUL},
            {"type": "array", "items": item},
            {
                "type": "object",
                "propertyNames": {"pattern": NO_NUL},
                "additionalProperties": item,
            },
        ],
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::{Value, json};

    use super::{DECIMAL, Limits, NO_NUL, complete_json};

    /// What utoipa gives for a module of a few routes, before the pass.
    fn annotated() -> Value {
        let problem = json!({"content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/Problem"}}}, "description": "x"});
        let document = json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/api/notes": {
                    "get": {
                        "parameters": [{"name": "title", "in": "query", "schema": {"type": "string"}}],
                        "security": [{"bearer": ["notes:read"]}],
                        "responses": {"200": {"description": "ok"}, "422": problem.clone()},
                    },
                    "post": {
                        "requestBody": {"content": {"application/json": {"schema": {
                            "$ref": "#/components/schemas/CreateNote"}}}},
                        "parameters": [{"name": "Idempotency-Key", "in": "header",
                            "schema": {"type": ["string", "null"]}}],
                        "security": [{"bearer": ["notes:write"]}],
                        "responses": {"201": {"description": "created"}, "409": problem},
                    },
                },
                "/api/notes/{id}": {"delete": {
                    "parameters": [{"name": "id", "in": "path", "required": true,
                        "schema": {"type": "string", "format": "uuid"}}],
                    "responses": {"204": {"description": "deleted"}},
                }},
            },
            "components": {"schemas": {
                "Problem": {"type": "object"},
                "CreateNote": {"type": "object", "properties": {
                    "title": {"type": "string", "maxLength": 40},
                    "notes": {"type": ["string", "null"]},
                    "total": {"type": "string", "format": "decimal"},
                    "count": {"type": "integer", "format": "int32"},
                    "when": {"type": "string", "format": "date"},
                    "kind": {"type": "string", "enum": ["a", "b"]},
                    "meta": {"type": ["object", "null"]},
                    "data": {"type": "object"},
                    "due": {"type": ["string", "null"], "format": "date"},
                    "password": {"type": "string", "format": "password", "writeOnly": true},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "prices": {"type": ["array", "null"],
                        "items": {"type": "string", "format": "decimal"}},
                }},
                "NoteResponse": {"type": "object", "properties": {
                    "data": {"type": "object"},
                }},
            }},
        });
        document
    }

    fn completed() -> Value {
        let limits = Limits {
            body_bytes: 1024,
            request_timeout: Duration::from_secs(30),
        };
        complete_json(annotated(), limits)
    }

    fn statuses(operation: &Value) -> Vec<&str> {
        operation["responses"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect()
    }

    #[test]
    fn every_route_lists_what_the_core_answers() {
        let document = completed();
        let list = &document["paths"]["/api/notes"]["get"];
        let create = &document["paths"]["/api/notes"]["post"];
        let delete = &document["paths"]["/api/notes/{id}"]["delete"];
        assert_eq!(
            statuses(list),
            ["200", "400", "401", "403", "422", "503", "504"]
        );
        assert_eq!(
            statuses(create),
            [
                "201", "400", "401", "403", "409", "413", "415", "422", "503", "504"
            ]
        );
        // Without security, no 401 or 403; a path parameter, a 400.
        assert_eq!(statuses(delete), ["204", "400", "503", "504"]);
        assert!(
            delete["responses"]["400"]["description"]
                .as_str()
                .unwrap()
                .contains("UUID")
        );
        assert!(
            create["responses"]["413"]["description"]
                .as_str()
                .unwrap()
                .contains("1024")
        );
        for operation in [list, create, delete] {
            for (status, response) in operation["responses"].as_object().unwrap() {
                let content = response.get("content").and_then(Value::as_object);
                if status.starts_with(['4', '5']) {
                    let content = content.unwrap();
                    assert_eq!(
                        content.keys().collect::<Vec<_>>(),
                        ["application/problem+json"]
                    );
                } else {
                    // A 204 gets no content, not even a null one.
                    assert!(response.get("content").is_none() || status == "200");
                }
            }
        }
        assert_eq!(
            create["responses"]["503"]["headers"]["Retry-After"]["required"],
            true
        );
        assert!(list["responses"]["401"]["headers"]["WWW-Authenticate"].is_object());
        assert_eq!(create["requestBody"]["required"], true);
    }

    #[test]
    fn values_say_what_the_server_reads() {
        let document = completed();
        let body = &document["components"]["schemas"]["CreateNote"];
        let properties = &body["properties"];
        assert_eq!(properties["title"]["pattern"], NO_NUL);
        assert_eq!(properties["notes"]["pattern"], NO_NUL);
        assert_eq!(properties["password"]["pattern"], NO_NUL);
        assert_eq!(properties["total"]["pattern"], DECIMAL);
        assert!(properties["when"].get("pattern").is_none());
        assert!(properties["kind"].get("pattern").is_none());
        assert_eq!(properties["count"]["maximum"], i32::MAX);
        assert_eq!(properties["count"]["minimum"], i32::MIN);
        assert_eq!(
            properties["meta"]["oneOf"][1]["$ref"],
            "#/components/schemas/JsonValue"
        );
        assert_eq!(properties["data"]["$ref"], "#/components/schemas/JsonValue");
        // What the server stores, it sends back.
        let response = &document["components"]["schemas"]["NoteResponse"];
        assert_eq!(
            response["properties"]["data"]["$ref"],
            "#/components/schemas/JsonValue"
        );
        assert_eq!(
            properties["due"],
            json!({"oneOf": [{"type": "null"}, {"type": "string", "format": "date"}]})
        );
        assert_eq!(properties["tags"]["items"]["pattern"], NO_NUL);
        assert_eq!(properties["prices"]["items"]["pattern"], DECIMAL);
        // Unknown fields are ignored: the body stays open.
        assert!(body.get("additionalProperties").is_none());
        let query = &document["paths"]["/api/notes"]["get"]["parameters"][0]["schema"];
        assert_eq!(query["pattern"], NO_NUL);
        let key = &document["paths"]["/api/notes"]["post"]["parameters"][0]["schema"];
        assert_eq!(
            *key,
            json!({"type": "string", "pattern": r"^[\x21-\x7E]{1,255}$"})
        );
        // Nothing looked up is left behind as a null.
        assert!(!serde_json::to_string(&document).unwrap().contains("null,"));
    }
}
