//! Every endpoint in one table: the router is built from it (with its access rule), the
//! OpenAPI document is generated from it, and the authorization matrix test walks it, so an
//! endpoint cannot exist without all three.
use serde_json::{json, Map, Value};
use xl_store::Role;

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token: health, metrics, the OpenAPI document.
    Public,
    /// A valid token of at least this role.
    AtLeast(Role),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamIn {
    Path,
    Query,
}

#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub location: ParamIn,
    /// JSON schema type: "string", "integer".
    pub kind: &'static str,
    pub required: bool,
    pub description: &'static str,
}

#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    pub method: &'static str,
    /// axum path syntax (`{id}`), which is also OpenAPI's.
    pub path: &'static str,
    pub access: Access,
    pub summary: &'static str,
    pub params: &'static [Param],
    /// JSON request body (POST/PUT), described by this schema name in `components`.
    pub body: Option<&'static str>,
    /// What a success returns: "json", "sse", "jpeg", "text", "empty".
    pub produces: &'static str,
}

const fn q(name: &'static str, kind: &'static str, description: &'static str) -> Param {
    Param {
        name,
        location: ParamIn::Query,
        kind,
        required: false,
        description,
    }
}

const fn p(name: &'static str, kind: &'static str, description: &'static str) -> Param {
    Param {
        name,
        location: ParamIn::Path,
        kind,
        required: true,
        description,
    }
}

const SEARCH: &[Param] = &[
    q("plate", "string", "exact plate text"),
    q("plate_prefix", "string", "plate text prefix, e.g. 皖S"),
    q("camera", "string", "camera id"),
    q("kind", "string", "event kind, e.g. plate_read"),
    q("from", "string", "RFC 3339 start (inclusive)"),
    q("to", "string", "RFC 3339 end (exclusive)"),
    q(
        "after",
        "string",
        "cursor TS_MS:ID from the previous page's next_after",
    ),
    q("limit", "integer", "page size (1-1000, default 100)"),
];

const TRAJECTORY: &[Param] = &[
    p("plate", "string", "plate text"),
    q("from", "string", "RFC 3339 start (inclusive)"),
    q("to", "string", "RFC 3339 end (exclusive)"),
    q("limit", "integer", "most reads (1-1000, default 1000)"),
];

const LIVE: &[Param] = &[
    q("kind", "string", "only this event kind"),
    q("camera", "string", "only this camera"),
    q("plate", "string", "only this plate"),
];

const AUDIT: &[Param] = &[
    q("after", "integer", "records after this sequence number"),
    q("limit", "integer", "page size (1-1000, default 100)"),
];

const EVENT_ID: &[Param] = &[p("id", "string", "event id (UUID)")];
const EVIDENCE: &[Param] = &[
    p("id", "string", "event id (UUID)"),
    p("index", "integer", "position in the event's evidence list"),
];
const GRANT_ID: &[Param] = &[p("id", "string", "grant id")];
const TOKEN_ID: &[Param] = &[p("id", "string", "token id")];
const CAMERA_ID: &[Param] = &[p("id", "string", "camera id")];
const HOOK_ID: &[Param] = &[p("id", "string", "subscription id (hk_...)")];

use Access::{AtLeast, Public};
use Role::{Admin, Analyst, Supervisor, Viewer};

pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "GET",
        path: "/healthz",
        access: Public,
        summary: "liveness",
        params: &[],
        body: None,
        produces: "text",
    },
    Endpoint {
        method: "GET",
        path: "/metrics",
        access: Public,
        summary: "Prometheus metrics (counts only, no event data)",
        params: &[],
        body: None,
        produces: "text",
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/openapi.json",
        access: Public,
        summary: "this document",
        params: &[],
        body: None,
        produces: "json",
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/view-config",
        access: Public,
        summary: "settings of the command view page (map tile source); no event data",
        params: &[],
        body: None,
        produces: "json",
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/me",
        access: AtLeast(Viewer),
        summary: "sign in: who the token belongs to (audited as a login)",
        params: &[],
        body: None,
        produces: "json",
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/events",
        access: AtLeast(Viewer),
        summary: "search events in scope, oldest first, keyset-paginated",
        params: SEARCH,
        body: None,
        produces: "json",
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/events/{id}",
        access: AtLeast(Viewer),
        summary: "one event in scope, masked as granted",
        params: EVENT_ID,
        body: None,
        produces: "json",
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/events/{id}/review",
        access: AtLeast(Analyst),
        summary: "confirm a violation in scope, or dismiss it with a reason (audited; the event's reviews are in its detail)",
        params: EVENT_ID,
        body: Some("Review"),
        produces: "json",
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/events/{id}/evidence/{index}",
        access: AtLeast(Analyst),
        summary: "an evidence image of an event in scope",
        params: EVIDENCE,
        body: None,
        produces: "jpeg",
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/plates/{plate}/trajectory",
        access: AtLeast(Analyst),
        summary: "a plate's reads across cameras in time order",
        params: TRAJECTORY,
        body: None,
        produces: "json",
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/cameras",
        access: AtLeast(Viewer),
        summary: "cameras in scope with their health (never their stream URLs)",
        params: &[],
        body: None,
        produces: "json",
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/live",
        access: AtLeast(Viewer),
        summary: "events in scope as they happen (Server-Sent Events)",
        params: LIVE,
        body: None,
        produces: "sse",
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/wim",
        access: AtLeast(Analyst),
        summary: "weigh-in-motion records (one or an array)",
        params: &[],
        body: Some("WimRecord"),
        produces: "json",
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/wim/stats",
        access: AtLeast(Viewer),
        summary: "weigh-in-motion intake counts",
        params: &[],
        body: None,
        produces: "json",
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/audit",
        access: AtLeast(Supervisor),
        summary: "audit records: the caller's department (supervisors) or all (admins)",
        params: AUDIT,
        body: None,
        produces: "json",
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/admin/users",
        access: AtLeast(Admin),
        summary: "users",
        params: &[],
        body: None,
        produces: "json",
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/admin/users",
        access: AtLeast(Admin),
        summary: "add a user",
        params: &[],
        body: Some("NewUser"),
        produces: "json",
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/admin/grants",
        access: AtLeast(Admin),
        summary: "grants between departments",
        params: &[],
        body: None,
        produces: "json",
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/admin/grants",
        access: AtLeast(Admin),
        summary: "grant a department access to another's cameras",
        params: &[],
        body: Some("NewGrant"),
        produces: "json",
    },
    Endpoint {
        method: "DELETE",
        path: "/api/v1/admin/grants/{id}",
        access: AtLeast(Admin),
        summary: "revoke a grant",
        params: GRANT_ID,
        body: None,
        produces: "empty",
    },
    Endpoint {
        method: "PUT",
        path: "/api/v1/admin/cameras/{id}",
        access: AtLeast(Admin),
        summary: "register a camera or change its owner, level, name, position",
        params: CAMERA_ID,
        body: Some("CameraRecord"),
        produces: "json",
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/admin/tokens",
        access: AtLeast(Admin),
        summary: "issue a token for a user (the secret is shown once)",
        params: &[],
        body: Some("NewToken"),
        produces: "json",
    },
    Endpoint {
        method: "DELETE",
        path: "/api/v1/admin/tokens/{id}",
        access: AtLeast(Admin),
        summary: "revoke a token",
        params: TOKEN_ID,
        body: None,
        produces: "empty",
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/hooks",
        access: AtLeast(Supervisor),
        summary:
            "webhook/bus subscriptions (own; admins all) with outbox counts and delivery figures",
        params: &[],
        body: None,
        produces: "json",
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/hooks",
        access: AtLeast(Supervisor),
        summary:
            "subscribe a target to events in the caller's scope (the signing secret is shown once)",
        params: &[],
        body: Some("NewHook"),
        produces: "json",
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/hooks/{id}/pause",
        access: AtLeast(Supervisor),
        summary: "pause deliveries (events keep queueing)",
        params: HOOK_ID,
        body: None,
        produces: "json",
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/hooks/{id}/resume",
        access: AtLeast(Supervisor),
        summary: "resume deliveries",
        params: HOOK_ID,
        body: None,
        produces: "json",
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/hooks/{id}/redeliver",
        access: AtLeast(Supervisor),
        summary: "queue again the dead letters or the deliveries of an event-time range",
        params: HOOK_ID,
        body: Some("Redeliver"),
        produces: "json",
    },
    Endpoint {
        method: "DELETE",
        path: "/api/v1/hooks/{id}",
        access: AtLeast(Supervisor),
        summary: "delete a subscription (nothing more is queued or sent)",
        params: HOOK_ID,
        body: None,
        produces: "empty",
    },
];

/// The endpoint for `method` and route `path`, if the table has it.
pub fn endpoint(method: &str, path: &str) -> Option<&'static Endpoint> {
    ENDPOINTS
        .iter()
        .find(|e| e.method == method && e.path == path)
}

fn schemas() -> Value {
    json!({
        "Problem": {"type": "object", "required": ["type", "title", "status", "detail"], "properties": {
            "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
            "detail": {"type": "string"}, "field": {"type": "string"}}},
        "NewUser": {"type": "object", "required": ["id", "department_id", "role"], "properties": {
            "id": {"type": "string", "pattern": "^[^\\s'\";]{1,64}$"}, "department_id": {"type": "string"},
            "role": {"type": "string", "enum": ["viewer", "analyst", "supervisor", "admin"]}}},
        "NewGrant": {"type": "object", "required": ["owner_department", "grantee_department", "max_level"], "properties": {
            "owner_department": {"type": "string"}, "grantee_department": {"type": "string"},
            "max_level": {"type": "integer", "minimum": 1, "maximum": 3},
            "kinds": {"type": "array", "items": {"type": "string"}},
            "masks": {"type": "object", "properties": {"plate": {"type": "boolean"}, "evidence": {"type": "boolean"}}},
            "expires_ms": {"type": "integer"}}},
        "CameraRecord": {"type": "object", "required": ["name", "department_id", "share_level"], "properties": {
            "name": {"type": "string"}, "department_id": {"type": "string"},
            "share_level": {"type": "integer", "minimum": 1, "maximum": 3},
            "lat": {"type": "number"}, "lon": {"type": "number"}}},
        "NewToken": {"type": "object", "required": ["user_id"], "properties": {
            "user_id": {"type": "string"}, "label": {"type": "string"}, "expires_ms": {"type": "integer"}}},
        "NewHook": {"type": "object", "required": ["target"], "properties": {
            "target": {"type": "string", "description": "http(s)://, nats://HOST:PORT/SUBJECT.PREFIX?stream=NAME or mqtt://HOST:PORT/TOPIC/PREFIX (docs/hooks.md)"},
            "kinds": {"type": "array", "items": {"type": "string"}},
            "cameras": {"type": "array", "items": {"type": "string"}},
            "plates": {"type": "array", "items": {"type": "string"}, "description": "exact plates or prefixes ending in *"},
            "max_in_flight": {"type": "integer", "minimum": 1, "maximum": 1024}}},
        "Redeliver": {"type": "object", "properties": {
            "dead": {"type": "boolean"}, "from": {"type": "string", "format": "date-time"},
            "to": {"type": "string", "format": "date-time"}}},
        "Review": {"type": "object", "required": ["decision"], "properties": {
            "decision": {"type": "string", "enum": ["confirm", "dismiss"]},
            "reason": {"type": "string", "maxLength": 500, "description": "required to dismiss"}}},
        "WimRecord": {"type": "object", "description": "see docs/wim.md"}
    })
}

/// The OpenAPI 3.1 document, generated from [`ENDPOINTS`].
pub fn openapi() -> Value {
    let mut paths = Map::new();
    for e in ENDPOINTS {
        let params: Vec<Value> = e
            .params
            .iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "in": if p.location == ParamIn::Path { "path" } else { "query" },
                    "required": p.required,
                    "description": p.description,
                    "schema": {"type": p.kind},
                })
            })
            .collect();
        let content = match e.produces {
            "json" => json!({"application/json": {"schema": {"type": "object"}}}),
            "sse" => json!({"text/event-stream": {"schema": {"type": "string"}}}),
            "jpeg" => json!({"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}),
            "text" => json!({"text/plain": {"schema": {"type": "string"}}}),
            _ => json!({}),
        };
        let ok = if e.produces == "empty" { "204" } else { "200" };
        let mut responses = Map::new();
        responses.insert(
            ok.into(),
            json!({"description": "success", "content": content}),
        );
        let problem = json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}});
        responses.insert(
            "400".into(),
            json!({"description": "invalid input", "content": problem}),
        );
        if let AtLeast(role) = e.access {
            responses.insert("401".into(), json!({"description": "missing, unknown, expired or revoked token", "content": problem}));
            responses.insert(
                "403".into(),
                json!({"description": format!("needs role {role} or above"), "content": problem}),
            );
            responses.insert(
                "429".into(),
                json!({"description": "rate limit", "content": problem}),
            );
        }
        let mut op = json!({
            "summary": e.summary,
            "operationId": format!("{} {}", e.method, e.path),
            "parameters": params,
            "responses": responses,
        });
        if let AtLeast(role) = e.access {
            op["security"] = json!([{"bearer": []}]);
            op["x-min-role"] = json!(role.as_str());
        }
        if let Some(body) = e.body {
            op["requestBody"] = json!({"required": true, "content": {"application/json": {
                "schema": {"$ref": format!("#/components/schemas/{body}")}}}});
        }
        let item = paths.entry(e.path.to_string()).or_insert_with(|| json!({}));
        item[e.method.to_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "xueliang API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Scoped event search, evidence, trajectories, cameras, live events, audit and administration. Every read is limited to the caller's department and its grants, and audited."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "xl_<id>_<secret> from `xl tokens create`"}},
            "schemas": schemas(),
        }
    })
}
