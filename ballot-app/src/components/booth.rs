//! The booth (`/booth`): credential code, choices, review, encryption, then cast or challenge.
//!
//! Everything cryptographic happens here, in the browser, with `tabella-crypto`: the code is
//! stretched into the voter's key (Argon2id), the choices are encrypted and proved under the
//! election's joint key, and the service only ever sees the encrypted, signed ballot. A
//! challenged ballot (Benaloh, spec/crypto.md §11) reveals its randomness, is checked here, is
//! published as spoiled, and is never cast.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use rand_core::OsRng;
use tabella_crypto::api::{CastBallot, ElectionState, SpoilBallot};
use tabella_crypto::ballot::{Ballot, ElectionContext, TrackingCode};
use tabella_crypto::board::{EntryKind, InclusionProof, Receipt};
use tabella_crypto::credential::{CredentialCode, CredentialKey};
use tabella_crypto::record::{credentials_digest, SignedElectionParameters};

use super::alert::Alert;
use super::code_form::CodeForm;
use super::contest::{first_option_id, ContestForm};
use super::receipt::{ReceiptView, Receipted};
use super::review::Review;
use super::spoiled::{Spoiled, SpoiledView};
use crate::error::{ApiError, BoothError};
use crate::helper::{Reply, Request};
use crate::paths;
use crate::rules::{self, Entry};
use crate::web::api;
use crate::web::browser::{self, focus, now_ms, paint};
use crate::web::worker::{unexpected, Helper};

/// The election as the booth uses it: the signed parameters, checked, and the context ballots
/// are made in.
pub(crate) struct Election {
    /// The signed parameters (`GET /v1/election/parameters`), signature and manifest hash
    /// checked.
    pub(crate) signed: SignedElectionParameters,
    /// The context ballots are encrypted in.
    pub(crate) ctx: ElectionContext,
}

/// Where the voter is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Fetching the election.
    Loading,
    /// No election to vote in (the alert says why).
    Unavailable,
    /// Entering the credential code (and, while `checking`, having it checked).
    Code,
    /// Making choices.
    Choose,
    /// Reviewing them.
    Review,
    /// Encrypting (the progress bar moves).
    Encrypting,
    /// Encrypted: cast or challenge.
    Encrypted,
    /// Cast, with a checked receipt.
    Cast,
    /// Challenged: opened, checked, published.
    Spoiled,
}

/// An encrypted ballot and whether it can still be opened (its randomness is in the helper
/// until it is cast or challenged).
struct Sealed {
    ballot: Ballot,
    openable: bool,
}

/// The steps of the encryption, for the progress bar.
const ENCRYPT_STEPS: u32 = 3;

/// The booth page.
#[component]
pub(crate) fn Booth() -> impl IntoView {
    browser::set_title("Vote");
    let stage = RwSignal::new(Stage::Loading);
    let error = RwSignal::new(None::<String>);
    let election = RwSignal::new(None::<Arc<Election>>);
    let credentials = StoredValue::new(None::<Arc<Vec<[u8; 32]>>>);
    // The voter's public key once the helper has stretched the code (the signing key stays in
    // the helper, off this thread).
    let voter_key = StoredValue::new(None::<CredentialKey>);
    let entries = RwSignal::new(Vec::<Vec<Entry>>::new());
    let checking = RwSignal::new(false);
    let progress = RwSignal::new((0u32, String::new()));
    let sealed = StoredValue::new(None::<Sealed>);
    let tracking = RwSignal::new(String::new());
    let encrypt_ms = RwSignal::new(0.0f64);
    let busy = RwSignal::new(false);
    let can_challenge = RwSignal::new(false);
    let receipt = RwSignal::new(None::<ReceiptView>);
    let spoiled = RwSignal::new(None::<SpoiledView>);
    // When the board received this code's last cast ballot, if it has one (API-TRACK-2): the
    // review then says that casting replaces it.
    let earlier = RwSignal::new(None::<u64>);
    // After a "Review" with problems: the error summary, which lists what still needs
    // attention and goes once everything is fixed.
    let show_summary = RwSignal::new(false);

    spawn_local(async move {
        // Whether voting is open, before the voter fills anything in.
        let loaded = match voting_is_open().await {
            Ok(()) => load_election().await,
            Err(why) => Err(why),
        };
        match loaded {
            Ok(loaded) => {
                election.set(Some(Arc::new(loaded)));
                stage.set(Stage::Code);
            }
            Err(e) => {
                error.set(Some(e));
                stage.set(Stage::Unavailable);
            }
        }
    });

    // Browser Back and Forward move between the steps (code, choices, review, encrypted)
    // instead of leaving the page and losing the ballot: each step is a history entry.
    let from_history = StoredValue::new(false);
    Effect::new(move |_| {
        let now = stage.get();
        if from_history.get_value() {
            from_history.set_value(false);
            return;
        }
        match now {
            Stage::Code => browser::history_step("code", true),
            Stage::Choose => browser::history_step("choose", false),
            Stage::Review => browser::history_step("review", false),
            Stage::Encrypted => browser::history_step("encrypted", false),
            _ => {}
        }
    });
    let history = window_event_listener(leptos::ev::popstate, move |ev| {
        let Some(step) = browser::history_step_of(&ev) else {
            return;
        };
        let valid = || {
            election.get_untracked().is_some_and(|current| {
                entries.with_untracked(|e| rules::choices(current.ctx.manifest(), e).is_ok())
            })
        };
        let target = match (stage.get_untracked(), step.as_str()) {
            // Back from a step not yet cast; an encrypted ballot going back is discarded.
            (Stage::Choose, "code") => Some((Stage::Code, "credential-code")),
            (Stage::Review, "choose") | (Stage::Encrypted, "choose") => {
                Some((Stage::Choose, "choices-heading"))
            }
            (Stage::Encrypted, "review") => Some((Stage::Review, "review-heading")),
            // Forward again, where the choices allow it.
            (Stage::Code, "choose") if voter_key.get_value().is_some() => {
                Some((Stage::Choose, "choices-heading"))
            }
            (Stage::Choose, "review") if valid() => Some((Stage::Review, "review-heading")),
            // Cast or challenged: those steps are over.
            _ => None,
        };
        if let Some((to, heading)) = target {
            if to != Stage::Encrypted {
                sealed.set_value(None);
            }
            from_history.set_value(true);
            stage.set(to);
            focus(heading);
        }
    });
    on_cleanup(move || history.remove());

    // The code: parse (a typo is caught at once), then the voter list, then Argon2id.
    let submit_code = move |text: String| {
        let Some(current) = election.get_untracked() else {
            return;
        };
        if let Err(e) = CredentialCode::parse(&text) {
            error.set(Some(BoothError::Code(e).to_string()));
            return;
        }
        error.set(None);
        checking.set(true);
        spawn_local(async move {
            paint().await;
            let result = check_code(&current, text, credentials).await;
            checking.set(false);
            match result {
                Ok(key) => {
                    earlier.set(earlier_ballot(&key).await);
                    voter_key.set_value(Some(key));
                    let manifest = current.ctx.manifest();
                    entries.set(manifest.contests.iter().map(rules::blank).collect());
                    stage.set(Stage::Choose);
                    focus("choices-heading");
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };

    let review = move || {
        let Some(current) = election.get_untracked() else {
            return;
        };
        match entries.with_untracked(|e| rules::choices(current.ctx.manifest(), e)) {
            Ok(_) => {
                error.set(None);
                show_summary.set(false);
                stage.set(Stage::Review);
                focus("review-heading");
            }
            Err(_) => {
                // GOV.UK error summary: every problem, linked to its contest, focused.
                show_summary.set(true);
                focus("error-summary");
            }
        }
    };

    let encrypt = move || {
        let (Some(current), Some(_)) = (election.get_untracked(), voter_key.get_value()) else {
            return;
        };
        let choices = match entries.with_untracked(|e| rules::choices(current.ctx.manifest(), e)) {
            Ok(choices) => choices,
            Err(attention) => {
                error.set(Some(attention.message));
                stage.set(Stage::Choose);
                return;
            }
        };
        error.set(None);
        stage.set(Stage::Encrypting);
        focus("encrypting-heading");
        spawn_local(async move {
            let mut spent = 0.0;
            progress.set((1, "Preparing the election key".to_owned()));
            paint().await;
            let start = now_ms();
            let helper = match helper_for(&current).await {
                Ok(helper) => helper,
                Err(e) => {
                    error.set(Some(BoothError::Encrypt(e).to_string()));
                    stage.set(Stage::Choose);
                    return;
                }
            };
            spent += now_ms() - start;

            progress.set((
                2,
                "Encrypting your choices and proving they follow the rules".to_owned(),
            ));
            paint().await;
            // In the helper, off this thread: the page keeps answering meanwhile.
            let start = now_ms();
            let made = match helper.call(&Request::Encrypt { choices }).await {
                Ok(Reply::Encrypted { ballot }) => {
                    Ballot::from_base64(&ballot, &current.ctx).map_err(|e| e.to_string())
                }
                Ok(other) => Err(unexpected(&other)),
                Err(e) => Err(e),
            };
            spent += now_ms() - start;
            let ballot = match made {
                Ok(ballot) => ballot,
                Err(e) => {
                    error.set(Some(BoothError::Encrypt(e).to_string()));
                    stage.set(Stage::Choose);
                    return;
                }
            };

            progress.set((3, "Computing your tracking code".to_owned()));
            paint().await;
            let start = now_ms();
            let code = ballot.tracking_code();
            spent += now_ms() - start;

            sealed.set_value(Some(Sealed {
                ballot,
                openable: true,
            }));
            tracking.set(paths::grouped(&code));
            encrypt_ms.set(spent);
            can_challenge.set(true);
            stage.set(Stage::Encrypted);
            focus("encrypted-heading");
        });
    };

    let cast = move || {
        let Some(current) = election.get_untracked() else {
            return;
        };
        // From the first attempt to cast on, the ballot can no longer be opened: the service
        // may have stored it. The helper drops (and zeroizes) its randomness first.
        let ballot = sealed
            .try_update_value(|s| {
                s.as_mut().map(|s| {
                    s.openable = false;
                    s.ballot.clone()
                })
            })
            .flatten();
        let Some(ballot) = ballot else {
            return;
        };
        can_challenge.set(false);
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            if let Ok(helper) = helper_for(&current).await {
                let _ = helper.call(&Request::Forget).await;
            }
            let result = cast_ballot(&current, &ballot).await;
            busy.set(false);
            match result {
                Ok(view) => {
                    receipt.set(Some(view));
                    stage.set(Stage::Cast);
                    focus("receipt-heading");
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };

    let challenge = move || {
        let Some(current) = election.get_untracked() else {
            return;
        };
        let taken = sealed
            .try_update_value(|s| {
                s.as_mut().filter(|s| s.openable).map(|s| {
                    s.openable = false;
                    s.ballot.clone()
                })
            })
            .flatten();
        let Some(ballot) = taken else {
            return;
        };
        can_challenge.set(false);
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            paint().await;
            let result = challenge_ballot(&current, &ballot, spoiled).await;
            busy.set(false);
            match result {
                Ok(()) => {
                    stage.set(Stage::Spoiled);
                    focus("spoiled-heading");
                }
                Err(e) => {
                    error.set(Some(e.to_string()));
                    stage.set(Stage::Spoiled);
                }
            }
        });
    };

    let start_again = move || {
        sealed.set_value(None);
        spoiled.set(None);
        tracking.set(String::new());
        error.set(None);
        stage.set(Stage::Choose);
        focus("choices-heading");
    };

    let title = move || {
        election.with(|e| {
            e.as_ref()
                .map(|e| e.ctx.manifest().title.clone())
                .unwrap_or_else(|| "Vote".to_owned())
        })
    };

    view! {
        <h1>{title}</h1>
        <Alert error />
        {move || match stage.get() {
            Stage::Loading => {
                view! { <p role="status">"Fetching the election…"</p> }.into_any()
            }
            Stage::Unavailable => {
                view! {
                    <p id="booth-unavailable">"There is nothing to vote in here right now. Reload the page to try again."</p>
                }
                    .into_any()
            }
            Stage::Code => {
                view! { <CodeForm checking on_submit=Callback::new(submit_code) /> }.into_any()
            }
            Stage::Choose => {
                let contests = election
                    .get_untracked()
                    .map(|e| e.ctx.manifest().contests.clone())
                    .unwrap_or_default();
                view! {
                    <section aria-labelledby="choices-heading">
                        <h2 id="choices-heading" tabindex="-1">"Your choices"</h2>
                        <ErrorSummary show=show_summary election entries />
                        <p>
                            "Nothing leaves this device until you choose to cast: your choices are encrypted here, in your browser."
                        </p>
                        {contests
                            .into_iter()
                            .enumerate()
                            .map(|(index, contest)| view! { <ContestForm index contest entries /> })
                            .collect_view()}
                        <button id="review-button" type="button" class="primary" on:click=move |_| review()>
                            "Review my choices"
                        </button>
                    </section>
                }
                    .into_any()
            }
            Stage::Review => {
                let contests = election
                    .get_untracked()
                    .map(|e| e.ctx.manifest().contests.clone())
                    .unwrap_or_default();
                view! {
                    <Review
                        contests
                        entries
                        earlier=earlier.get_untracked().map(browser::local_time)
                        on_back=Callback::new(move |()| {
                            stage.set(Stage::Choose);
                            focus("choices-heading");
                        })
                        on_change=Callback::new(move |i: usize| {
                            let first = election
                                .get_untracked()
                                .and_then(|e| first_option_id(e.ctx.manifest().contests.get(i)?));
                            stage.set(Stage::Choose);
                            focus(first.unwrap_or_else(|| "choices-heading".to_owned()));
                        })
                        on_encrypt=Callback::new(move |()| encrypt())
                    />
                }
                    .into_any()
            }
            Stage::Encrypting => {
                view! {
                    <section aria-labelledby="encrypting-heading">
                        <h2 id="encrypting-heading" tabindex="-1">"Encrypting your ballot"</h2>
                        <label for="encrypt-progress">"Progress"</label>
                        <progress
                            id="encrypt-progress"
                            max=ENCRYPT_STEPS
                            value=move || progress.get().0
                        ></progress>
                        <p role="status">
                            {move || {
                                let (step, label) = progress.get();
                                format!("Step {step} of {ENCRYPT_STEPS}: {label}…")
                            }}
                        </p>
                    </section>
                }
                    .into_any()
            }
            Stage::Encrypted => {
                view! {
                    <section id="encrypted" aria-labelledby="encrypted-heading">
                        <h2 id="encrypted-heading" tabindex="-1">"Your ballot is encrypted"</h2>
                        <p>
                            "Tracking code: " <code id="tracking-code" class="hex">{move || tracking.get()}</code>
                        </p>
                        <p>
                            "Encrypted and proved in your browser in "
                            <span id="encrypt-ms">{move || format!("{:.1}", encrypt_ms.get())}</span>
                            " ms."
                        </p>
                        <p>
                            "Cast it to have it counted. Or challenge it: the browser then opens the encryption to show it holds your choices, publishes it as a spoiled ballot that never counts, and you start again. Challenging is how anyone can check that booths encrypt honestly."
                        </p>
                        <div class="actions">
                            <button
                                id="cast-button"
                                type="button"
                                class="primary"
                                disabled=move || busy.get()
                                on:click=move |_| cast()
                            >
                                "Cast this ballot"
                            </button>
                            <button
                                id="challenge-button"
                                type="button"
                                disabled=move || busy.get() || !can_challenge.get()
                                on:click=move |_| challenge()
                            >
                                "Challenge this encryption"
                            </button>
                        </div>
                        <p role="status">{move || busy.get().then_some("Sending to the election service…")}</p>
                    </section>
                }
                    .into_any()
            }
            Stage::Cast => {
                view! { <Receipted receipt /> }.into_any()
            }
            Stage::Spoiled => {
                view! {
                    <Spoiled
                        spoiled
                        on_start_again=Callback::new(move |()| start_again())
                    />
                }
                    .into_any()
            }
        }}
    }
}

/// `#error-summary`: after a "Review" with problems, every contest that needs attention, each a
/// link that moves to its first option; it updates as the voter fixes them and goes when none
/// is left (the GOV.UK error summary).
#[component]
fn ErrorSummary(
    /// Whether a review was asked for with problems.
    show: RwSignal<bool>,
    /// The election.
    election: RwSignal<Option<Arc<Election>>>,
    /// The voter's entries.
    entries: RwSignal<Vec<Vec<Entry>>>,
) -> impl IntoView {
    let problems = move || {
        let Some(current) = election.get() else {
            return Vec::new();
        };
        let manifest = current.ctx.manifest();
        entries
            .with(|e| rules::problems(manifest, e))
            .into_iter()
            .filter_map(|p| {
                Some((
                    first_option_id(manifest.contests.get(p.contest)?)?,
                    p.message,
                ))
            })
            .collect::<Vec<_>>()
    };
    move || {
        let items = problems();
        (show.get() && !items.is_empty()).then(|| {
            view! {
                <div id="error-summary" class="error-summary" role="alert" tabindex="-1" aria-labelledby="error-summary-title">
                    <h2 id="error-summary-title">"There is a problem"</h2>
                    <ul>
                        {items
                            .into_iter()
                            .map(|(target, message)| {
                                let href = format!("#{target}");
                                view! {
                                    <li>
                                        <a
                                            href=href
                                            on:click=move |ev| {
                                                ev.prevent_default();
                                                focus(target.clone());
                                            }
                                        >
                                            {message}
                                        </a>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </div>
            }
        })
    }
}

/// Whether the election takes ballots now (`GET /v1/election`); if not, why, in words.
async fn voting_is_open() -> Result<(), String> {
    let info = api::election().await.map_err(|e| e.words())?;
    match info.state {
        ElectionState::Open => Ok(()),
        ElectionState::Setup => {
            Err("Voting has not opened yet. Please come back when it opens.".to_owned())
        }
        ElectionState::Closed | ElectionState::Tallied => Err(
            "Voting has closed: this election no longer takes ballots. If you voted, you can check what became of your ballot on the Track page."
                .to_owned(),
        ),
    }
}

/// Fetches the signed election parameters and checks them: the board's signature, and that the
/// manifest shown is the one whose hash is signed.
pub(crate) async fn load_election() -> Result<Election, String> {
    let signed = match api::parameters().await {
        Ok(signed) => signed,
        Err(e) if e.code() == Some("wrong_state") => {
            return Err("Voting has not opened yet. Please come back when it opens.".to_owned())
        }
        Err(e) => return Err(e.words()),
    };
    if !signed.signature_holds() {
        return Err(BoothError::ParametersUnsigned.to_string());
    }
    let p = &signed.parameters;
    if p.manifest.hash() != p.manifest_hash {
        return Err(BoothError::ManifestMismatch.to_string());
    }
    let ctx = ElectionContext::new(p.election_id, p.manifest.clone(), p.joint_key)
        .map_err(|e| BoothError::BadManifest(e.to_string()).to_string())?;
    Ok(Election { signed, ctx })
}

/// The voter list, checked against the signed parameters (fetched once).
async fn voter_list(
    election: &Election,
    cache: StoredValue<Option<Arc<Vec<[u8; 32]>>>>,
) -> Result<Arc<Vec<[u8; 32]>>, BoothError> {
    if let Some(keys) = cache.try_get_value().flatten() {
        return Ok(keys);
    }
    let list = api::credentials().await?;
    let keys: Vec<[u8; 32]> = list.credentials.iter().map(|k| k.to_bytes()).collect();
    let p = &election.signed.parameters;
    let digest = credentials_digest(keys.iter());
    if digest != list.digest || digest != p.credentials_digest || keys.len() as u64 != p.credentials
    {
        return Err(BoothError::CredentialListMismatch);
    }
    let keys = Arc::new(keys);
    cache.try_set_value(Some(keys.clone()));
    Ok(keys)
}

thread_local! {
    /// The booth's helper (a Web Worker), started at the first code and kept for the page.
    static HELPER: RefCell<Option<Rc<Helper>>> = const { RefCell::new(None) };
}

/// The helper, started (and given the election) on first use.
async fn helper_for(election: &Election) -> Result<Rc<Helper>, String> {
    if let Some(helper) = HELPER.with_borrow(Clone::clone) {
        return Ok(helper);
    }
    let helper = Rc::new(Helper::start().await?);
    let p = &election.signed.parameters;
    match helper
        .call(&Request::Election {
            election_id: p.election_id,
            manifest: Box::new(p.manifest.clone()),
            joint_key: p.joint_key,
        })
        .await?
    {
        Reply::Ready => {}
        other => return Err(unexpected(&other)),
    }
    HELPER.with_borrow_mut(|h| *h = Some(Rc::clone(&helper)));
    Ok(helper)
}

/// Has the helper stretch the code into the voter's key (Argon2id, the slow part, off this
/// thread) and checks that the key is on the voter list. The helper keeps the signing key.
async fn check_code(
    election: &Election,
    code: String,
    cache: StoredValue<Option<Arc<Vec<[u8; 32]>>>>,
) -> Result<CredentialKey, BoothError> {
    let keys = voter_list(election, cache).await?;
    let helper = helper_for(election).await.map_err(BoothError::Encrypt)?;
    let public = match helper.call(&Request::Key { code }).await {
        Ok(Reply::Key { public }) => public,
        Ok(other) => return Err(BoothError::Encrypt(unexpected(&other))),
        Err(e) => return Err(BoothError::Encrypt(e)),
    };
    if !keys.contains(public.as_bytes()) {
        return Err(BoothError::NotOnList);
    }
    Ok(public)
}

/// When the board received the last ballot cast with `key`, if any (API-TRACK-2). Only a
/// warning hangs on it, so a failed request is no ballot: the tracker tells the rest.
async fn earlier_ballot(key: &CredentialKey) -> Option<u64> {
    let entry = api::last_ballot(key).await.ok()?;
    let ours = hex::encode(key.to_bytes());
    (entry.credential == ours && entry.kind == EntryKind::Cast).then_some(entry.received_at)
}

/// Checks a receipt from the board for `code`: the tracking code, kind, election and both
/// signatures under the election's board key.
fn check_receipt(
    election: &Election,
    receipt: &Receipt,
    code: &TrackingCode,
    kind: EntryKind,
) -> Result<(), BoothError> {
    let p = &election.signed.parameters;
    if receipt.tracking_code != *code {
        return Err(BoothError::BadReceipt(
            "it is for another tracking code".to_owned(),
        ));
    }
    if receipt.kind != kind {
        return Err(BoothError::BadReceipt(format!(
            "it records the ballot as {}",
            receipt.kind.as_str()
        )));
    }
    if *receipt.election() != p.election_id {
        return Err(BoothError::BadReceipt(
            "it is for another election".to_owned(),
        ));
    }
    receipt
        .verify(&p.board_key)
        .map_err(|e| BoothError::BadReceipt(e.to_string()))
}

/// Casts the ballot and checks the receipt, then (best effort) the ballot's inclusion in the
/// receipt's signed tree.
async fn cast_ballot(election: &Election, ballot: &Ballot) -> Result<ReceiptView, BoothError> {
    let code = ballot.tracking_code();
    let receipt = api::cast(&CastBallot {
        ballot: ballot.to_base64(),
    })
    .await?;
    check_receipt(election, &receipt, &code, EntryKind::Cast)?;
    let included = match included(election, &receipt).await {
        Ok(()) => Ok(receipt.tree_head.head.size),
        Err(e) => Err(e),
    };
    Ok(ReceiptView::new(
        &receipt,
        included,
        &election.signed.parameters.manifest.title,
    ))
}

/// API-VOTER-1 step 3: the ballot's audit path leads to the receipt's signed root.
async fn included(election: &Election, receipt: &Receipt) -> Result<(), String> {
    let size = receipt.tree_head.head.size;
    let answer = api::inclusion(&receipt.tracking_code, size)
        .await
        .map_err(|e: ApiError| e.words())?;
    let proof = inclusion_proof(answer.index, answer.size, &answer.path)?;
    receipt
        .verify_inclusion(&election.signed.parameters.board_key, &proof)
        .map_err(|e| e.to_string())
}

/// An [`InclusionProof`] from the API's hex path.
pub(crate) fn inclusion_proof(
    index: u64,
    tree_size: u64,
    path: &[String],
) -> Result<InclusionProof, String> {
    let path = crate::paths::hashes(path)?;
    Ok(InclusionProof {
        index,
        tree_size,
        path,
    })
}

/// Opens the ballot, checks the opening here, publishes it as spoiled, checks the receipt.
async fn challenge_ballot(
    election: &Election,
    ballot: &Ballot,
    view: RwSignal<Option<SpoiledView>>,
) -> Result<(), BoothError> {
    let code = ballot.tracking_code();
    let helper = helper_for(election).await.map_err(BoothError::BadOpening)?;
    let opening = match helper.call(&Request::Open).await {
        Ok(Reply::Opened { opening }) => opening,
        Ok(other) => return Err(BoothError::BadOpening(unexpected(&other))),
        Err(e) => return Err(BoothError::BadOpening(e)),
    };
    let checked = election.ctx.verify_spoiled(ballot, &opening, &mut OsRng);
    let shown = SpoiledView::new(
        election.ctx.manifest(),
        &code,
        &ballot.to_base64(),
        &opening,
        checked.is_ok(),
    );
    view.set(Some(shown));
    checked.map_err(|e| BoothError::BadOpening(e.to_string()))?;
    let receipt = api::spoil(&SpoilBallot {
        ballot: ballot.to_base64(),
        opening,
    })
    .await?;
    check_receipt(election, &receipt, &code, EntryKind::Spoiled)?;
    view.update(|v| {
        if let Some(v) = v {
            v.index = Some(receipt.index);
        }
    });
    Ok(())
}
