//! The command view (指挥视图): the page at `/` and its static files under `/ui/`, plus the
//! page's settings at `/api/v1/view-config`. The files carry no data; everything the page shows
//! comes from the API with the signed-in user's token, so scope and masks apply as for any client.
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rust_embed::RustEmbed;
use serde::Serialize;

use crate::{ApiState, Problem};

#[derive(RustEmbed)]
#[folder = "web/"]
struct Assets;

/// What the page needs to know about this deployment.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ViewSettings {
    /// XYZ raster tiles under the camera layer, e.g. `https://tiles.example/{z}/{x}/{y}.png`;
    /// none (the default) draws a plain vector background, so the page works offline.
    pub tile_url: Option<String>,
    /// Credit line shown with the tiles.
    pub tile_attribution: Option<String>,
}

impl ViewSettings {
    /// The page's Content-Security-Policy: its own origin only, plus the tile server's origin
    /// for images when tiles are configured.
    fn content_security_policy(&self) -> String {
        let tiles = self
            .tile_url
            .as_deref()
            .and_then(origin_of)
            .map(|o| format!(" {o}"))
            .unwrap_or_default();
        format!(
            "default-src 'self'; img-src 'self' blob: data:{tiles}; connect-src 'self'; \
             style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; \
             frame-ancestors 'none'"
        )
    }
}

/// `scheme://host[:port]` of a URL template, if it has one.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme, "http" | "https") {
        return None;
    }
    let host = rest.split('/').next().filter(|h| !h.is_empty())?;
    // Braces belong to the template ({s} subdomains); a policy cannot name them.
    if host.contains(['{', '}', ' ', ';', '\'']) {
        return None;
    }
    Some(format!("{scheme}://{host}"))
}

pub(crate) async fn view_config(State(state): State<ApiState>) -> Json<ViewSettings> {
    Json(state.view.clone())
}

/// The page and its files; merged into the API router.
pub(crate) fn routes(state: &ApiState) -> Router<ApiState> {
    let csp = HeaderValue::from_str(&state.view.content_security_policy())
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
    let index_csp = csp.clone();
    Router::new()
        .route(
            "/",
            get(move || async move { asset("index.html", &index_csp) }),
        )
        .route(
            "/ui/{*path}",
            get(move |Path(path): Path<String>| async move { asset(&path, &csp) }),
        )
}

fn asset(path: &str, csp: &HeaderValue) -> Response {
    // Debug builds read the folder from disk: no path may climb out of it.
    let climbs = path.split(['/', '\\']).any(|part| part == "..") || path.starts_with('/');
    let Some(file) = (!climbs).then(|| Assets::get(path)).flatten() else {
        return Problem::new(StatusCode::NOT_FOUND, "not found", "no such file").into_response();
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(path)),
            ),
            // Files change with the binary; revalidating keeps an upgraded page from mixing
            // old and new modules.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::CONTENT_SECURITY_POLICY, csp.clone()),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        file.data.into_owned(),
    )
        .into_response()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_admits_only_the_tile_servers_origin() {
        let plain = ViewSettings::default().content_security_policy();
        assert!(plain.contains("img-src 'self' blob: data:;"), "{plain}");
        let tiles = ViewSettings {
            tile_url: Some("https://tiles.county.gov.cn:8443/osm/{z}/{x}/{y}.png".into()),
            tile_attribution: None,
        }
        .content_security_policy();
        assert!(
            tiles.contains("img-src 'self' blob: data: https://tiles.county.gov.cn:8443;"),
            "{tiles}"
        );
        assert_eq!(origin_of("https://{s}.tile.example/{z}/{x}/{y}.png"), None);
        assert_eq!(origin_of("javascript:alert(1)"), None);
    }

    #[test]
    fn every_shipped_file_has_a_known_type() {
        assert!(Assets::get("index.html").is_some(), "web/index.html exists");
        for path in Assets::iter() {
            assert_ne!(
                content_type(&path),
                "application/octet-stream",
                "{path} would be served without a type"
            );
        }
    }
}
