//! The demo page: `GET /` and its script, compiled into the binary.

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/",
            get(|| async { Html(include_str!("../static/index.html")) }),
        )
        .route(
            "/page.js",
            get(|| script(include_str!("../static/page.js"))),
        )
        .route(
            "/client.js",
            get(|| script(include_str!("../static/client.js"))),
        )
}

async fn script(source: &'static str) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        source,
    )
}
