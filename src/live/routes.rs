//! The live loop's routes, added to `serve`'s router:
//!
//! - `POST /v1/cloudtalk/{ruleset}/events`: 202 with the call id once the
//!   event is stored (and while it is pending); 200 with the stored
//!   decision for a call already decided; 422 for a body without a usable
//!   call id; 503 when the store cannot keep it, so the sender tries
//!   again: an event is never acknowledged that was not stored.
//! - `GET /v1/decisions/{call_id}` (`?ruleset=NAME` when several rulesets
//!   hold the call): the call's state, decision and deliveries; 404 for a
//!   call never received.
//!
//! Both need the service's token when it has one, and answer 404 when
//! the service runs without `--store`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State as Shared};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::serve::app::{State, HASH_HEADER};
use crate::serve::metrics::Route;
use crate::serve::problem::Problem;
use crate::serve::routes::{known_query_pairs, read_body};

use super::store::{now, Accepted, Key};
use super::{event, view, Live};

type App = Shared<Arc<State>>;

/// Adds the routes to `serve`'s router.
pub fn add(router: Router<Arc<State>>) -> Router<Arc<State>> {
    router
        .route("/v1/cloudtalk/{ruleset}/events", post(events))
        .route("/v1/decisions/{call_id}", get(decision))
}

/// The loop, or a 404 saying how to turn it on.
fn live(state: &State) -> Result<&Arc<Live>, Problem> {
    state.live.get().ok_or_else(|| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "callassign::live_off",
            "this service does not take CloudTalk events",
        )
        .help("start `callassign serve` with `--store sqlite:PATH` (or `--store postgres://…`) and CloudTalk's API key in CLOUDTALK_API_KEY_ID and CLOUDTALK_API_KEY_SECRET")
    })
}

fn json(status: StatusCode, body: String) -> Response {
    let mut response = Response::new(Body::from(body + "\n"));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn unavailable(error: super::store::StoreError) -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "callassign::store_unavailable",
        error.0,
    )
    .help("nothing was stored; send it again later (whether CloudTalk's workflow sends a failed request again is CloudTalk's to say: watch `callassign_cloudtalk_events_total{outcome=\"unavailable\"}`)")
}

/// `POST /v1/cloudtalk/{ruleset}/events`.
pub async fn events(
    Shared(state): App,
    ruleset: Result<Path<String>, PathRejection>,
    request: Request,
) -> Response {
    let _timer = state.metrics.time(Route::Events);
    let answer = async {
        state.auth.check(request.headers())?;
        let live = live(&state)?;
        let Path(name) = ruleset.map_err(|rejection| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "callassign::bad_path",
                format!("the ruleset name cannot be read: {}", rejection.body_text()),
            )
        })?;
        let entry = state.store.get(&name)?;
        // Every answer names the version served, as the other routes
        // naming a ruleset do (the stored decision names its own).
        let hash = entry.hash_header.clone();
        let answer = accept(&state, live, entry, request).await;
        Ok::<_, Problem>(match answer {
            Ok(mut response) => {
                response.headers_mut().insert(HASH_HEADER, hash);
                response
            }
            Err(problem) => problem.hash(&hash).into_response(),
        })
    };
    answer.await.unwrap_or_else(IntoResponse::into_response)
}

/// Stores the event of a request naming a served ruleset.
async fn accept(
    state: &State,
    live: &Live,
    entry: Arc<crate::serve::store::Entry>,
    request: Request,
) -> Result<Response, Problem> {
    crate::serve::routes::refuse_encoded(request.headers())
        .map_err(|problem| problem.hash(&entry.hash_header))?;
    let body = read_body(state, request, Some(&entry.hash_header)).await?;
    let call = event::call_id(&body, &live.config.call_id_key).map_err(|unusable| {
        live.metrics.event(&entry.name, "refused");
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "callassign::no_call_id",
            unusable.message,
        )
        .help(unusable.help)
    })?;
    // A JSON body is UTF-8.
    let text = String::from_utf8_lossy(&body);
    let key = Key {
        ruleset: entry.name.clone(),
        call,
    };
    let accepted = live
        .store
        .accept(&key, &text, now())
        .await
        .map_err(|error| {
            live.metrics.event(&entry.name, "unavailable");
            live.metrics.store_error();
            tracing::error!(call = %key.call, ruleset = %key.ruleset, "event not stored: {error}");
            unavailable(error)
        })?;
    let pending = || {
        json(
            StatusCode::ACCEPTED,
            serde_json::json!({"call": key.call, "ruleset": key.ruleset, "state": "pending"})
                .to_string(),
        )
    };
    Ok(match accepted {
        Accepted::New | Accepted::Reopened => {
            live.metrics.event(&key.ruleset, "accepted");
            live.wake_events.notify_one();
            pending()
        }
        Accepted::Pending => {
            live.metrics.event(&key.ruleset, "repeated");
            pending()
        }
        Accepted::Decided(view) => {
            live.metrics.event(&key.ruleset, "repeated");
            json(StatusCode::OK, view::json(&view))
        }
    })
}

/// `GET /v1/decisions/{call_id}`.
pub async fn decision(
    Shared(state): App,
    call: Result<Path<String>, PathRejection>,
    request: Request,
) -> Response {
    let _timer = state.metrics.time(Route::Decisions);
    let (request, _) = request.into_parts();
    let answer = async {
        state.auth.check(&request.headers)?;
        let live = live(&state)?;
        let Path(call) = call.map_err(|rejection| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "callassign::bad_path",
                format!("the call id cannot be read: {}", rejection.body_text()),
            )
        })?;
        let ruleset = known_query_pairs(request.uri.query(), &["ruleset"])?
            .into_iter()
            .next()
            .map(|(_, value)| value);
        let views = live
            .store
            .views(&call, ruleset.as_deref())
            .await
            .map_err(unavailable)?;
        let shown = crate::serve::problem::echo(&call);
        match views.as_slice() {
            [view] => Ok(json(StatusCode::OK, view::json(view))),
            [] => Err(Problem::new(
                StatusCode::NOT_FOUND,
                "callassign::unknown_call",
                match &ruleset {
                    Some(ruleset) => format!(
                        "no event of call `{shown}` was received for ruleset `{}`",
                        crate::serve::problem::echo(ruleset)
                    ),
                    None => format!("no event of call `{shown}` was received"),
                },
            )),
            several => Err(Problem::new(
                StatusCode::CONFLICT,
                "callassign::ambiguous_call",
                format!(
                    "call `{shown}` was received for several rulesets: {}",
                    several
                        .iter()
                        .map(|view| format!("`{}`", view.key.ruleset))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .help(format!(
                "name one: `/v1/decisions/{shown}?ruleset={}`",
                several[0].key.ruleset
            ))),
        }
    };
    answer.await.unwrap_or_else(IntoResponse::into_response)
}
