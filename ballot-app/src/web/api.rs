//! The election service's HTTP API (spec/api.md): the only code that talks HTTP.
//!
//! Every call goes to the same origin the page came from, through the browser's `fetch`, and
//! answers `Result<T, ApiError>`; documents are the shared types of `tabella_crypto::api` and
//! `tabella_crypto::record`, never redefined here.

use serde::de::DeserializeOwned;
use serde::Serialize;
use tabella_crypto::api::{
    AdminStatus, AnchoringStatus, BoardEntry, CastBallot, ConsistencyAnswer, CredentialList,
    ElectionInfo, ErrorBody, InclusionAnswer, SignedElectionParameters, SpoilBallot, TrackAnswer,
};
use tabella_crypto::ballot::TrackingCode;
use tabella_crypto::board::{Receipt, SignedTreeHead};
use tabella_crypto::credential::CredentialKey;
use tabella_crypto::record::Results;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestCache, RequestInit, Response};

use super::browser::js_text;
use crate::error::ApiError;
use crate::paths::record_url;

/// An administrative action of the officials' dashboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AdminAction {
    /// `POST /v1/election/open`.
    Open,
    /// `POST /v1/election/close`.
    Close,
    /// `POST /v1/election/tally`.
    Tally,
}

impl AdminAction {
    fn path(self) -> &'static str {
        match self {
            AdminAction::Open => "/v1/election/open",
            AdminAction::Close => "/v1/election/close",
            AdminAction::Tally => "/v1/election/tally",
        }
    }
}

/// One request.
struct Call<'a> {
    method: &'static str,
    url: &'a str,
    body: Option<String>,
    token: Option<&'a str>,
    /// Bypass every cache (`cache: "no-store"`): the booth's own files.
    fresh: bool,
}

impl<'a> Call<'a> {
    fn get(url: &'a str) -> Self {
        Self {
            method: "GET",
            url,
            body: None,
            token: None,
            fresh: false,
        }
    }

    /// Sends the request; the status and the whole body.
    async fn send(self) -> Result<(u16, Vec<u8>), ApiError> {
        let network = |e: wasm_bindgen::JsValue| ApiError::Network(js_text(&e));
        let init = RequestInit::new();
        init.set_method(self.method);
        if self.fresh {
            init.set_cache(RequestCache::NoStore);
        }
        let headers = Headers::new().map_err(network)?;
        headers.set("Accept", "application/json").map_err(network)?;
        if let Some(body) = &self.body {
            headers
                .set("Content-Type", "application/json")
                .map_err(network)?;
            init.set_body(&wasm_bindgen::JsValue::from_str(body));
        }
        if let Some(token) = self.token {
            headers
                .set("Authorization", &format!("Bearer {token}"))
                .map_err(network)?;
        }
        init.set_headers(&headers);
        let request = Request::new_with_str_and_init(self.url, &init).map_err(network)?;
        let window = web_sys::window().ok_or_else(|| ApiError::Network("no window".to_owned()))?;
        let response: Response = JsFuture::from(window.fetch_with_request(&request))
            .await
            .map_err(network)?
            .dyn_into()
            .map_err(network)?;
        let buffer = JsFuture::from(response.array_buffer().map_err(network)?)
            .await
            .map_err(network)?;
        Ok((response.status(), js_sys::Uint8Array::new(&buffer).to_vec()))
    }

    /// Sends the request: the body of a success answer, the service's error otherwise.
    async fn bytes(self) -> Result<Vec<u8>, ApiError> {
        let (status, body) = self.send().await?;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        Err(match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(body) => ApiError::Service { status, body },
            Err(_) => ApiError::Status(status),
        })
    }

    /// Sends the request and reads the answer as `T`.
    async fn json<T: DeserializeOwned>(self, what: &'static str) -> Result<T, ApiError> {
        let body = self.bytes().await?;
        serde_json::from_slice(&body).map_err(|e| ApiError::Decode {
            what,
            detail: e.to_string(),
        })
    }
}

fn post<'a>(url: &'a str, body: &impl Serialize, token: Option<&'a str>) -> Call<'a> {
    Call {
        method: "POST",
        url,
        // Serialising the shared API types cannot fail (no maps with non-string keys).
        body: Some(serde_json::to_string(body).unwrap_or_default()),
        token,
        fresh: false,
    }
}

/// `GET /v1/election/parameters`: the signed election parameters (from the opening of voting).
pub(crate) async fn parameters() -> Result<SignedElectionParameters, ApiError> {
    Call::get("/v1/election/parameters")
        .json("the election parameters")
        .await
}

/// `GET /v1/election`: the election as the service sees it (from its creation).
pub(crate) async fn election() -> Result<ElectionInfo, ApiError> {
    Call::get("/v1/election").json("the election").await
}

/// `GET /v1/election/credentials`: the eligible credential keys.
pub(crate) async fn credentials() -> Result<CredentialList, ApiError> {
    Call::get("/v1/election/credentials")
        .json("the voter list")
        .await
}

/// `POST /v1/election/ballots`: casts a ballot; the board's receipt.
pub(crate) async fn cast(ballot: &CastBallot) -> Result<Receipt, ApiError> {
    post("/v1/election/ballots", ballot, None)
        .json("the receipt")
        .await
}

/// `POST /v1/election/spoiled`: publishes a challenged ballot with its opening; the receipt.
pub(crate) async fn spoil(ballot: &SpoilBallot) -> Result<Receipt, ApiError> {
    post("/v1/election/spoiled", ballot, None)
        .json("the receipt")
        .await
}

/// `GET /v1/board/head`: a signed tree head of the board now.
pub(crate) async fn head() -> Result<SignedTreeHead, ApiError> {
    Call::get("/v1/board/head")
        .json("the board's tree head")
        .await
}

/// `GET /v1/board/inclusion/{code}?size=N`: where the ballot is, and its audit path.
pub(crate) async fn inclusion(code: &TrackingCode, size: u64) -> Result<InclusionAnswer, ApiError> {
    let url = format!("/v1/board/inclusion/{code}?size={size}");
    Call::get(&url).json("the inclusion proof").await
}

/// `GET /v1/election/results`: the published results (once tallied).
pub(crate) async fn results() -> Result<Results, ApiError> {
    Call::get("/v1/election/results").json("the results").await
}

/// `GET /v1/board/track/{code}`: what became of a ballot (API-TRACK-1), to be checked with
/// [`crate::verdict::check`].
pub(crate) async fn track(code: &TrackingCode) -> Result<TrackAnswer, ApiError> {
    let url = format!("/v1/board/track/{code}");
    Call::get(&url).json("what became of the ballot").await
}

/// `GET /v1/board/last-ballot/{key}`: the last ballot cast with a credential key (API-TRACK-2).
pub(crate) async fn last_ballot(key: &CredentialKey) -> Result<BoardEntry, ApiError> {
    let url = format!("/v1/board/last-ballot/{}", hex::encode(key.to_bytes()));
    Call::get(&url).json("the earlier ballot").await
}

/// `GET /v1/board/consistency?from=A&to=B`: the board at `to` extends the board at `from`.
pub(crate) async fn consistency(from: u64, to: u64) -> Result<ConsistencyAnswer, ApiError> {
    let url = format!("/v1/board/consistency?from={from}&to={to}");
    Call::get(&url).json("the consistency proof").await
}

/// `GET /v1/anchoring`: how far the service has anchored the election on a chain.
pub(crate) async fn anchoring() -> Result<AnchoringStatus, ApiError> {
    Call::get("/v1/anchoring")
        .json("the anchoring status")
        .await
}

/// `GET /v1/record/{path}`: one file of the election record, as bytes.
pub(crate) async fn record_file(path: &str) -> Result<Vec<u8>, ApiError> {
    Call::get(&record_url(path)).bytes().await
}

/// `GET /v1/admin/status` with the admin token.
pub(crate) async fn admin_status(token: &str) -> Result<AdminStatus, ApiError> {
    Call {
        token: Some(token),
        fresh: true,
        ..Call::get("/v1/admin/status")
    }
    .json("the election status")
    .await
}

/// Opens, closes or tallies the election with the admin token.
pub(crate) async fn admin_action(action: AdminAction, token: &str) -> Result<(), ApiError> {
    Call {
        method: "POST",
        token: Some(token),
        ..Call::get(action.path())
    }
    .bytes()
    .await
    .map(drop)
}

/// A file of the served booth (`/booth.json`, `/index.html`, `/app/…`), bypassing caches.
pub(crate) async fn booth_file(path: &str) -> Result<Vec<u8>, ApiError> {
    let url = format!("/{path}");
    Call {
        fresh: true,
        ..Call::get(&url)
    }
    .bytes()
    .await
}
