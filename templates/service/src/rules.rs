//! Rules every request meets before its route sees it, on both paths: the router's
//! middleware ([`layer`]) and the direct socket path call the same [`check`].

use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, Version, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::client_addr::Peer;
use crate::error::ApiError;

/// The one route a connection over a cap is still answered: an orchestrator probing
/// a full service must not take it for a dead one.
const HEALTH: &str = "/healthz";

/// The header rules of an HTTP/1.1 request:
/// - `Host` is required (RFC 9112 3.2): `400`;
/// - more than one `Last-Event-ID` is ambiguous, and which one a parser keeps would
///   decide the replay: `400`;
/// - more than one `Origin` could hide a foreign origin behind an allowed one: `403`.
pub fn check(headers: &HeaderMap) -> Result<(), ApiError> {
    if !headers.contains_key(header::HOST) {
        return Err(ApiError::bad_request(
            "HTTP/1.1 requests need a Host header",
        ));
    }
    if headers.get_all("last-event-id").iter().nth(1).is_some() {
        return Err(ApiError::bad_request(
            "more than one Last-Event-ID header; send the last id received, once",
        ));
    }
    if headers.get_all(header::ORIGIN).iter().nth(1).is_some() {
        return Err(ApiError {
            status: StatusCode::FORBIDDEN,
            message: "more than one Origin header".into(),
        });
    }
    Ok(())
}

/// [`check`] for requests through the router, and the answer to a connection the
/// connection caps refused (`src/connections.rs`): `503` with `Retry-After` for
/// anything but the health check.
pub async fn layer(request: Request, next: Next) -> Response {
    let admitted = request
        .extensions()
        .get::<Peer>()
        .is_none_or(|peer| peer.admitted);
    if !admitted && request.uri().path() != HEALTH {
        return ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: "too many connections; try again shortly".into(),
        }
        .into_response();
    }
    // HTTP/1.0 has no Host requirement; hyper speaks nothing newer here.
    if request.version() == Version::HTTP_11
        && let Err(error) = check(request.headers())
    {
        return error.into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn host_is_required_and_ambiguous_headers_are_refused() {
        assert!(check(&headers(&[("host", "h")])).is_ok());
        let status = |pairs| check(&headers(pairs)).unwrap_err().status;
        assert_eq!(status(&[]), StatusCode::BAD_REQUEST);
        let ids = [
            ("host", "h"),
            ("last-event-id", "1"),
            ("last-event-id", "2"),
        ];
        assert_eq!(status(&ids), StatusCode::BAD_REQUEST);
        let origins = [
            ("host", "h"),
            ("origin", "http://h"),
            ("origin", "http://e"),
        ];
        assert_eq!(status(&origins), StatusCode::FORBIDDEN);
    }
}
