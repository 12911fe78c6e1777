//! The bulletin board: the in-memory view (Merkle tree, counted ballot per credential, counts)
//! and the single writer that appends ballots durably, in groups.
//!
//! Every append goes through one task. It takes the ballots waiting in its queue (up to
//! [`MAX_GROUP`]), gives them the next board indices, signs a tree head and a receipt for each,
//! and writes them all in one database transaction. Only after the commit returns does any voter
//! get a receipt ("group commit": one durable flush for many ballots). While it works it holds the
//! view's write lock, so nobody reads a tree head, a proof or a count that is not committed; and
//! a close cannot slip between the state check and the commit.
//!
//! If the commit fails, every voter of the group gets `storage_unavailable` and the view is
//! reloaded from the database, the source of truth (a commit whose answer was lost may in fact
//! have succeeded: the reload sees it, and a re-submission then gets the stored receipt).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use tabella_crypto::ballot::{ElectionId, TrackingCode};
use tabella_crypto::board::receipt::{BoardSigningKey, EntryKind, Receipt, TreeHead};
use tabella_crypto::board::MerkleTree;
use tokio::sync::{mpsc, oneshot, RwLock};

use super::db::{Db, DbError, NewEntry};
use super::error::AppError;
use super::metrics::Metrics;
use crate::api::{BoardCounts, ElectionState};

/// The most ballots written in one transaction.
pub const MAX_GROUP: usize = 256;

/// Rows read per query when the board is loaded at start-up.
const LOAD_PAGE: u32 = 10_000;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The board as readers see it: only committed entries.
#[derive(Debug)]
pub struct BoardView {
    /// The Merkle tree of tracking codes.
    pub tree: MerkleTree,
    /// Where each tracking code is, and its kind.
    pub entries: HashMap<[u8; 32], (u64, EntryKind)>,
    /// The counted (last cast) entry of each credential.
    pub counted: HashMap<[u8; 32], u64>,
    /// Cast entries.
    pub cast: u64,
    /// Spoiled entries.
    pub spoiled: u64,
    /// The election's state; the writer appends only while it is `open`.
    pub state: ElectionState,
    /// Set when a failed commit left the view possibly out of step with the database.
    pub needs_reload: bool,
    /// The timestamp of the last committed entry's tree head: later tree heads (receipts and
    /// `GET /v1/board/head`) are never dated earlier, even if the clock steps back, so the
    /// record's tree heads stay in order (spec/verification.md, V12 and V14).
    pub last_timestamp: u64,
}

impl BoardView {
    /// Loads the committed board from the database, page by page.
    pub async fn load(db: &Db, state: ElectionState) -> Result<Self, DbError> {
        let mut view = Self {
            tree: MerkleTree::new(),
            entries: HashMap::new(),
            counted: HashMap::new(),
            cast: 0,
            spoiled: 0,
            state,
            needs_reload: false,
            last_timestamp: db.last_received_at().await?,
        };
        loop {
            let rows = db.leaves(view.tree.len(), LOAD_PAGE).await?;
            let Some(last) = rows.last().map(|r| r.index) else {
                break;
            };
            for row in &rows {
                if row.index != view.tree.len() {
                    return Err(DbError::Corrupt(format!(
                        "the board has no entry {} (next stored index is {})",
                        view.tree.len(),
                        row.index
                    )));
                }
                let kind = if row.spoiled {
                    EntryKind::Spoiled
                } else {
                    EntryKind::Cast
                };
                view.record(row.index, row.tracking_code, kind, row.credential);
            }
            if rows.len() < LOAD_PAGE as usize || last + 1 != view.tree.len() {
                break;
            }
        }
        Ok(view)
    }

    /// Adds a committed entry.
    fn record(&mut self, index: u64, code: [u8; 32], kind: EntryKind, credential: [u8; 32]) {
        let pushed = self.tree.push(code);
        debug_assert_eq!(pushed, index);
        self.entries.insert(code, (index, kind));
        match kind {
            EntryKind::Cast => {
                self.cast += 1;
                self.counted.insert(credential, index);
            }
            EntryKind::Spoiled => self.spoiled += 1,
        }
    }

    /// The time to put in a tree head signed now: the clock, but never before the last entry.
    pub fn timestamp(&self) -> u64 {
        now_ms().max(self.last_timestamp)
    }

    /// The board's counts.
    pub fn counts(&self) -> BoardCounts {
        let counted = self.counted.len() as u64;
        BoardCounts {
            size: self.tree.len(),
            counted,
            superseded: self.cast - counted,
            spoiled: self.spoiled,
        }
    }
}

/// A ballot on its way to the board, already verified.
#[derive(Debug)]
pub struct Submission {
    /// Its tracking code.
    pub tracking_code: TrackingCode,
    /// Cast or spoiled.
    pub kind: EntryKind,
    /// Its credential key.
    pub credential: [u8; 32],
    /// Its canonical bytes.
    pub ballot: Vec<u8>,
    /// The opening of a spoiled ballot (JSON).
    pub opening: Option<String>,
}

/// The answer to a submission: its receipt, and whether it was appended now (`true`) or was
/// already on the board (`false`).
pub type Answer = Result<(Receipt, bool), AppError>;

struct Job {
    submission: Submission,
    reply: oneshot::Sender<Answer>,
}

/// The board of one election: its view and the queue of its writer.
#[derive(Debug, Clone)]
pub struct Board {
    /// The committed board.
    pub view: Arc<RwLock<BoardView>>,
    queue: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("tracking_code", &self.submission.tracking_code)
            .finish_non_exhaustive()
    }
}

fn refused_kind(existing: EntryKind) -> AppError {
    match existing {
        EntryKind::Spoiled => AppError::new(
            StatusCode::CONFLICT,
            "ballot_spoiled",
            "this ballot was challenged (spoiled) and published with its opening, so it can \
             never be cast: make a new ballot",
        ),
        EntryKind::Cast => AppError::new(
            StatusCode::CONFLICT,
            "ballot_already_cast",
            "this ballot was cast, so it can no longer be challenged",
        ),
    }
}

/// Why voting is closed, for a voter.
pub fn not_open(state: ElectionState) -> AppError {
    let why = match state {
        ElectionState::Setup => "voting has not opened yet",
        _ => "voting is closed",
    };
    AppError::new(
        StatusCode::CONFLICT,
        "election_not_open",
        format!("{why}: no ballot is accepted"),
    )
}

impl Board {
    /// Starts the writer of a board whose committed state is `view`.
    pub fn start(
        db: Db,
        key: Arc<BoardSigningKey>,
        election: ElectionId,
        view: BoardView,
        metrics: Metrics,
    ) -> Self {
        metrics.board_size(view.tree.len());
        let view = Arc::new(RwLock::new(view));
        let (queue, jobs) = mpsc::channel(4 * MAX_GROUP);
        let writer = Writer {
            db,
            key,
            election,
            view: Arc::clone(&view),
            metrics,
        };
        tokio::spawn(writer.run(jobs));
        Self { view, queue }
    }

    /// Appends a verified ballot and waits for its receipt.
    pub async fn submit(&self, submission: Submission) -> Answer {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job { submission, reply })
            .await
            .map_err(|_| AppError::internal("the board writer has stopped"))?;
        answer
            .await
            .map_err(|_| AppError::internal("the board writer dropped a ballot"))?
    }
}

struct Writer {
    db: Db,
    key: Arc<BoardSigningKey>,
    election: ElectionId,
    view: Arc<RwLock<BoardView>>,
    metrics: Metrics,
}

/// A new entry of the group being written, with everyone waiting for it.
struct Pending {
    entry: NewEntry,
    receipt: Receipt,
    credential: [u8; 32],
    kind: EntryKind,
    waiters: Vec<oneshot::Sender<Answer>>,
}

impl Writer {
    async fn run(self, mut jobs: mpsc::Receiver<Job>) {
        while let Some(first) = jobs.recv().await {
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match jobs.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
            self.write_group(group).await;
        }
    }

    async fn write_group(&self, group: Vec<Job>) {
        let mut view = self.view.write().await;
        if view.needs_reload {
            match BoardView::load(&self.db, view.state).await {
                Ok(fresh) => *view = fresh,
                Err(error) => {
                    let error = AppError::storage(error);
                    for job in group {
                        let _ = job.reply.send(Err(error.clone()));
                    }
                    return;
                }
            }
        }
        if view.state != ElectionState::Open {
            let error = not_open(view.state);
            for job in group {
                let _ = job.reply.send(Err(error.clone()));
            }
            return;
        }
        let start = view.tree.len();
        let timestamp = view.timestamp();
        let mut pending: Vec<Pending> = Vec::new();
        let mut in_group: HashMap<[u8; 32], usize> = HashMap::new();
        let mut already: Vec<(Job, u64)> = Vec::new();
        // A scratch tree would double the memory; the view's tree is extended in place and
        // rebuilt from the database if the commit fails.
        for job in group {
            let code = job.submission.tracking_code.0;
            if let Some(&(index, kind)) = view.entries.get(&code) {
                if kind == job.submission.kind {
                    already.push((job, index));
                } else {
                    let _ = job.reply.send(Err(refused_kind(kind)));
                }
                continue;
            }
            if let Some(&at) = in_group.get(&code) {
                let p = &mut pending[at];
                if p.kind == job.submission.kind {
                    p.waiters.push(job.reply);
                } else {
                    let _ = job.reply.send(Err(refused_kind(p.kind)));
                }
                continue;
            }
            let index = view.tree.push(code);
            let head = self.key.sign_tree_head(TreeHead {
                election: self.election,
                size: index + 1,
                root: view.tree.root(),
                timestamp,
            });
            let receipt = self.key.sign_receipt(
                job.submission.tracking_code,
                index,
                job.submission.kind,
                head,
            );
            let receipt_json = match serde_json::to_string(&receipt) {
                Ok(json) => json,
                Err(error) => {
                    let _ = job.reply.send(Err(AppError::internal(error)));
                    view.needs_reload = true;
                    continue;
                }
            };
            in_group.insert(code, pending.len());
            let Submission {
                kind,
                credential,
                ballot,
                opening,
                ..
            } = job.submission;
            pending.push(Pending {
                entry: NewEntry {
                    index,
                    tracking_code: code,
                    kind: kind.as_str(),
                    credential,
                    ballot,
                    opening,
                    receipt: receipt_json,
                    received_at: timestamp,
                },
                receipt,
                credential,
                kind,
                waiters: vec![job.reply],
            });
        }
        if view.needs_reload {
            // A receipt failed to encode after the tree grew: write nothing of this group.
            for p in pending {
                for w in p.waiters {
                    let _ = w.send(Err(AppError::internal("could not encode a receipt")));
                }
            }
        } else if !pending.is_empty() {
            let entries: Vec<NewEntry> = pending.iter().map(|p| p.entry.clone()).collect();
            match self.db.append(&entries).await {
                Ok(()) => {
                    // The tree already holds the new leaves; record the rest of the view.
                    for p in &pending {
                        let (index, code) = (p.entry.index, p.entry.tracking_code);
                        view.entries.insert(code, (index, p.kind));
                        match p.kind {
                            EntryKind::Cast => {
                                view.cast += 1;
                                view.counted.insert(p.credential, index);
                            }
                            EntryKind::Spoiled => view.spoiled += 1,
                        }
                    }
                    view.last_timestamp = timestamp;
                    self.metrics.board_size(view.tree.len());
                    for p in pending {
                        self.metrics.accepted(p.kind.as_str());
                        let mut waiters = p.waiters.into_iter();
                        if let Some(first) = waiters.next() {
                            let _ = first.send(Ok((p.receipt.clone(), true)));
                        }
                        for w in waiters {
                            let _ = w.send(Ok((p.receipt.clone(), false)));
                        }
                    }
                }
                Err(error) => {
                    tracing::error!(%error, ballots = pending.len(), first_index = start, "board commit failed");
                    view.needs_reload = true;
                    let refusal = AppError::storage(error);
                    for p in pending {
                        for w in p.waiters {
                            let _ = w.send(Err(refusal.clone()));
                        }
                    }
                }
            }
        }
        if view.needs_reload {
            match BoardView::load(&self.db, view.state).await {
                Ok(fresh) => *view = fresh,
                Err(error) => {
                    tracing::error!(%error, "could not reload the board; retrying at the next ballot")
                }
            }
        }
        drop(view);
        for (job, _) in already {
            let answer = self.stored_receipt(&job.submission.tracking_code).await;
            let _ = job.reply.send(answer.map(|r| (r, false)));
        }
    }

    async fn stored_receipt(&self, code: &TrackingCode) -> Result<Receipt, AppError> {
        stored_receipt(&self.db, code).await
    }
}

/// The receipt stored with the entry `code`.
pub async fn stored_receipt(db: &Db, code: &TrackingCode) -> Result<Receipt, AppError> {
    let json = db.receipt(&code.0).await?.ok_or_else(|| {
        AppError::not_found(format!(
            "no ballot with tracking code {code} is on the board"
        ))
    })?;
    serde_json::from_str(&json)
        .map_err(|e| AppError::internal(format!("stored receipt of {code}: {e}")))
}
