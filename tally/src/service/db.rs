//! The service's storage: one code path (sqlx's `Any` driver, `$N` placeholders, portable SQL)
//! over SQLite, the embedded default, and PostgreSQL.
//!
//! SQLite runs in WAL mode with `synchronous = FULL`, so a committed transaction survives a crash
//! or power loss; PostgreSQL commits durably by default (`synchronous_commit = on`). The schema
//! lives in `tally/migrations/{sqlite,postgres}/`, embedded in the binary and applied at start-up;
//! the two directories differ only in the name of the byte-string type.

use std::borrow::Cow;
use std::str::FromStr as _;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Row as _};

/// Which database a URL points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite://path` (one file, no set-up).
    Sqlite,
    /// `postgres://…` or `postgresql://…`.
    Postgres,
}

impl Backend {
    /// The backend of `url`.
    pub fn of(url: &str) -> Result<Self, DbError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(DbError::UnsupportedUrl(redact(url)))
        }
    }

    /// The backend's name, for logs and messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// The database URL is neither `sqlite:` nor `postgres://`.
    #[error("unsupported database URL {0}: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    /// The database refused a statement or could not be reached.
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value does not decode: the database was changed behind the service's back.
    #[error("the database holds a corrupt value: {0}")]
    Corrupt(String),
}

/// The database URL with any password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

fn migrator(backend: Backend) -> Migrator {
    let (board, anchoring, credentials) = match backend {
        Backend::Sqlite => (
            include_str!("../../migrations/sqlite/0001_board.sql"),
            include_str!("../../migrations/sqlite/0002_anchoring.sql"),
            include_str!("../../migrations/sqlite/0003_credentials.sql"),
        ),
        Backend::Postgres => (
            include_str!("../../migrations/postgres/0001_board.sql"),
            include_str!("../../migrations/postgres/0002_anchoring.sql"),
            include_str!("../../migrations/postgres/0003_credentials.sql"),
        ),
    };
    let migration = |version, name, sql| {
        Migration::new(
            version,
            Cow::Borrowed(name),
            MigrationType::Simple,
            Cow::Borrowed(sql),
            false,
        )
    };
    Migrator {
        migrations: Cow::Owned(vec![
            migration(1, "board", board),
            migration(2, "anchoring", anchoring),
            migration(3, "credentials", credentials),
        ]),
        ignore_missing: false,
        locking: true,
        no_tx: false,
    }
}

/// The stored election.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElectionRow {
    /// Election id (hex).
    pub election_id: String,
    /// The manifest JSON.
    pub manifest: String,
    /// Manifest hash (hex).
    pub manifest_hash: String,
    /// Board public key (hex).
    pub board_key: String,
    /// `setup`, `open`, `closed` or `tallied`.
    pub state: String,
    /// Joint key (hex), set at open.
    pub joint_key: Option<String>,
    /// Digest of a roll imported by a service before issue 15 (hex); the service no longer sees
    /// the roll, so it is `None` for every election created since.
    pub roll_digest: Option<String>,
    /// Eligible voters: the number of credential keys.
    pub voters: Option<i64>,
    /// Digest of the credential list (hex).
    pub credentials_digest: Option<String>,
    /// Creation time (ms since the epoch).
    pub created_at: i64,
    /// Last change (ms since the epoch).
    pub updated_at: i64,
}

/// Keys per row of `credential_chunks` (3.2 MB).
const KEYS_PER_CHUNK: usize = 100_000;

/// Writes the sorted `keys` as rows of `credential_chunks`, [`KEYS_PER_CHUNK`] keys each.
async fn write_chunks(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    keys: &[[u8; 32]],
) -> Result<(), DbError> {
    for (chunk, part) in keys.chunks(KEYS_PER_CHUNK).enumerate() {
        sqlx::query("INSERT INTO credential_chunks (chunk, keys) VALUES ($1, $2)")
            .bind(as_i64(chunk as u64))
            .bind(part.as_flattened().to_vec())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// A board entry to append.
#[derive(Clone, Debug)]
pub struct NewEntry {
    /// Board index.
    pub index: u64,
    /// Tracking code.
    pub tracking_code: [u8; 32],
    /// `cast` or `spoiled`.
    pub kind: &'static str,
    /// Credential key.
    pub credential: [u8; 32],
    /// Ballot bytes.
    pub ballot: Vec<u8>,
    /// Opening JSON of a spoiled ballot.
    pub opening: Option<String>,
    /// Receipt JSON.
    pub receipt: String,
    /// Reception time (ms since the epoch).
    pub received_at: u64,
}

/// A stored board entry.
#[derive(Clone, Debug)]
pub struct EntryRow {
    /// Board index.
    pub index: u64,
    /// Tracking code.
    pub tracking_code: [u8; 32],
    /// `cast` or `spoiled`.
    pub kind: String,
    /// Credential key.
    pub credential: [u8; 32],
    /// Ballot bytes.
    pub ballot: Vec<u8>,
    /// Opening JSON of a spoiled ballot.
    pub opening: Option<String>,
    /// Reception time (ms since the epoch).
    pub received_at: u64,
}

/// The summary of an entry needed to rebuild the board in memory.
#[derive(Clone, Copy, Debug)]
pub struct LeafRow {
    /// Board index.
    pub index: u64,
    /// Tracking code.
    pub tracking_code: [u8; 32],
    /// Whether the entry is a spoiled ballot.
    pub spoiled: bool,
    /// Credential key.
    pub credential: [u8; 32],
}

/// How a write-once document put ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentPut {
    /// Stored now.
    Created,
    /// Exactly these bytes were already stored.
    AlreadyPresent,
    /// Different bytes hold the name.
    Conflict,
}

/// The database, behind a connection pool.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

fn bytes32(what: &str, bytes: &[u8]) -> Result<[u8; 32], DbError> {
    bytes
        .try_into()
        .map_err(|_| DbError::Corrupt(format!("{what} has {} bytes, not 32", bytes.len())))
}

fn index_of(value: i64) -> Result<u64, DbError> {
    u64::try_from(value).map_err(|_| DbError::Corrupt(format!("negative board index {value}")))
}

fn as_i64(value: u64) -> i64 {
    // Board sizes and times stay far below 2^63.
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A board row of `SELECT idx, tracking_code, kind, credential, ballot, opening, received_at`.
fn entry_row(row: &sqlx::any::AnyRow) -> Result<EntryRow, DbError> {
    Ok(EntryRow {
        index: index_of(row.try_get("idx")?)?,
        tracking_code: bytes32("tracking code", &row.try_get::<Vec<u8>, _>(1)?)?,
        kind: row.try_get("kind")?,
        credential: bytes32("credential", &row.try_get::<Vec<u8>, _>(3)?)?,
        ballot: row.try_get(4)?,
        opening: row.try_get(5)?,
        received_at: index_of(row.try_get(6)?)?,
    })
}

impl Db {
    /// Connects to `url`, creating an SQLite file if needed, and applies the migrations.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of(url)?;
        let options = AnyConnectOptions::from_str(url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 8,
            })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // Durable commits: WAL, and an fsync of the log at every commit.
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = FULL",
                            "PRAGMA busy_timeout = 10000",
                            "PRAGMA foreign_keys = ON",
                        ] {
                            sqlx::query(pragma).execute(&mut *conn).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        migrator(backend).run(&pool).await?;
        Ok(Self { pool, backend })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Runs one SQL statement as is, outside the service's own queries: for operators' maintenance
    /// and for fault-injection tests (e.g. a trigger that makes every board insert fail).
    pub async fn execute_statement(&self, sql: &str) -> Result<(), DbError> {
        sqlx::query(sql).execute(&self.pool).await?;
        Ok(())
    }

    /// A PRAGMA's value (SQLite only; for tests of the durability settings).
    pub async fn sqlite_pragma(&self, name: &str) -> Result<String, DbError> {
        let row = sqlx::query(&format!("PRAGMA {name}"))
            .fetch_one(&self.pool)
            .await?;
        // PRAGMAs answer either text (journal_mode) or an integer (synchronous).
        Ok(match row.try_get::<String, _>(0) {
            Ok(text) => text,
            Err(_) => row.try_get::<i64, _>(0)?.to_string(),
        })
    }

    /// The election, if one was created.
    pub async fn election(&self) -> Result<Option<ElectionRow>, DbError> {
        let row = sqlx::query(
            "SELECT election_id, manifest, manifest_hash, board_key, state, joint_key, \
             roll_digest, voters, credentials_digest, created_at, updated_at \
             FROM election WHERE singleton = 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| -> Result<ElectionRow, DbError> {
            Ok(ElectionRow {
                election_id: row.try_get("election_id")?,
                manifest: row.try_get("manifest")?,
                manifest_hash: row.try_get("manifest_hash")?,
                board_key: row.try_get("board_key")?,
                state: row.try_get("state")?,
                joint_key: row.try_get("joint_key")?,
                roll_digest: row.try_get("roll_digest")?,
                voters: row.try_get("voters")?,
                credentials_digest: row.try_get("credentials_digest")?,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
            })
        })
        .transpose()
    }

    /// Stores the election unless one exists; `true` if it was stored now.
    pub async fn insert_election(&self, e: &ElectionRow) -> Result<bool, DbError> {
        let done = sqlx::query(
            "INSERT INTO election (singleton, election_id, manifest, manifest_hash, board_key, \
             state, created_at, updated_at) VALUES (1, $1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (singleton) DO NOTHING",
        )
        .bind(&e.election_id)
        .bind(&e.manifest)
        .bind(&e.manifest_hash)
        .bind(&e.board_key)
        .bind(&e.state)
        .bind(e.created_at)
        .bind(e.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Moves the election from state `from` to `to` (setting the joint key when given); `false`
    /// if it was not in state `from`.
    pub async fn set_state(
        &self,
        from: &str,
        to: &str,
        joint_key: Option<&str>,
        now: u64,
    ) -> Result<bool, DbError> {
        let done = sqlx::query(
            "UPDATE election SET state = $1, joint_key = COALESCE($2, joint_key), updated_at = $3 \
             WHERE singleton = 1 AND state = $4",
        )
        .bind(to)
        .bind(joint_key)
        .bind(as_i64(now))
        .bind(from)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores the credential list (sorted keys, their number and digest) in one transaction, if
    /// the election is in set-up and has no list yet; `false` if it has one or is not in set-up.
    pub async fn import_credentials(
        &self,
        credentials_digest: &str,
        keys: &[[u8; 32]],
        now: u64,
    ) -> Result<bool, DbError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE election SET voters = $1, credentials_digest = $2, updated_at = $3 \
             WHERE singleton = 1 AND credentials_digest IS NULL AND state = 'setup'",
        )
        .bind(as_i64(keys.len() as u64))
        .bind(credentials_digest)
        .bind(as_i64(now))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        write_chunks(&mut tx, keys).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Replaces the credential list by `keys` (one credential replaced, spec/api.md §5.3) and
    /// records the replacement, in one transaction, if the election is in set-up and its list
    /// still has the digest `previous_digest`; `false` otherwise.
    pub async fn replace_credential(
        &self,
        previous_digest: &str,
        credentials_digest: &str,
        keys: &[[u8; 32]],
        replacement_json: &str,
        now: u64,
    ) -> Result<bool, DbError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE election SET voters = $1, credentials_digest = $2, updated_at = $3 \
             WHERE singleton = 1 AND credentials_digest = $4 AND state = 'setup'",
        )
        .bind(as_i64(keys.len() as u64))
        .bind(credentials_digest)
        .bind(as_i64(now))
        .bind(previous_digest)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("DELETE FROM credential_chunks")
            .execute(&mut *tx)
            .await?;
        // A list imported before schema 3 moves to the chunks with its first replacement.
        sqlx::query("DELETE FROM credentials")
            .execute(&mut *tx)
            .await?;
        write_chunks(&mut tx, keys).await?;
        sqlx::query(
            "INSERT INTO credential_replacements (seq, replacement, replaced_at) \
             SELECT COALESCE(MAX(seq), 0) + 1, $1, $2 FROM credential_replacements",
        )
        .bind(replacement_json)
        .bind(as_i64(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Every credential key, sorted by bytes.
    pub async fn credentials(&self) -> Result<Vec<[u8; 32]>, DbError> {
        let rows = sqlx::query("SELECT keys FROM credential_chunks ORDER BY chunk")
            .fetch_all(&self.pool)
            .await?;
        if rows.is_empty() {
            return self.legacy_credentials().await;
        }
        let mut keys = Vec::new();
        for row in &rows {
            let bytes: Vec<u8> = row.try_get(0)?;
            let (chunks, rest) = bytes.as_chunks::<32>();
            if !rest.is_empty() {
                return Err(DbError::Corrupt(format!(
                    "a chunk of the credential list has {} bytes, not a multiple of 32",
                    bytes.len()
                )));
            }
            keys.extend_from_slice(chunks);
        }
        if keys.windows(2).any(|w| w[0] >= w[1]) {
            return Err(DbError::Corrupt(
                "the stored credential keys are not strictly sorted".into(),
            ));
        }
        Ok(keys)
    }

    /// The keys of a roll imported before schema 3, one row each, sorted.
    async fn legacy_credentials(&self) -> Result<Vec<[u8; 32]>, DbError> {
        let rows = sqlx::query("SELECT credential FROM credentials")
            .fetch_all(&self.pool)
            .await?;
        let mut keys = rows
            .iter()
            .map(|row| bytes32("credential", &row.try_get::<Vec<u8>, _>(0)?))
            .collect::<Result<Vec<_>, _>>()?;
        keys.sort_unstable();
        Ok(keys)
    }

    /// The replacements made so far (their JSON documents), in order.
    pub async fn credential_replacements(&self) -> Result<Vec<String>, DbError> {
        let rows = sqlx::query("SELECT replacement FROM credential_replacements ORDER BY seq")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok(row.try_get::<String, _>(0)?))
            .collect()
    }

    /// Up to `limit` leaves from index `start` on, in order (to rebuild the board at start-up).
    pub async fn leaves(&self, start: u64, limit: u32) -> Result<Vec<LeafRow>, DbError> {
        let rows = sqlx::query(
            "SELECT idx, tracking_code, kind, credential FROM board \
             WHERE idx >= $1 ORDER BY idx LIMIT $2",
        )
        .bind(as_i64(start))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(LeafRow {
                    index: index_of(row.try_get("idx")?)?,
                    tracking_code: bytes32("tracking code", &row.try_get::<Vec<u8>, _>(1)?)?,
                    spoiled: row.try_get::<String, _>("kind")? == "spoiled",
                    credential: bytes32("credential", &row.try_get::<Vec<u8>, _>(3)?)?,
                })
            })
            .collect()
    }

    /// Appends entries to the board in one transaction, updating the counted ballot of each
    /// credential of a cast entry. Returns only once the transaction is committed.
    pub async fn append(&self, entries: &[NewEntry]) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        for e in entries {
            sqlx::query(
                "INSERT INTO board (idx, tracking_code, kind, credential, ballot, opening, \
                 receipt, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(as_i64(e.index))
            .bind(e.tracking_code.to_vec())
            .bind(e.kind)
            .bind(e.credential.to_vec())
            .bind(e.ballot.clone())
            .bind(e.opening.clone())
            .bind(e.receipt.clone())
            .bind(as_i64(e.received_at))
            .execute(&mut *tx)
            .await?;
            if e.kind == "cast" {
                sqlx::query(
                    "INSERT INTO counted (credential, idx) VALUES ($1, $2) \
                     ON CONFLICT (credential) DO UPDATE SET idx = excluded.idx",
                )
                .bind(e.credential.to_vec())
                .bind(as_i64(e.index))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The stored receipt (JSON) of the entry with `tracking_code`.
    pub async fn receipt(&self, tracking_code: &[u8; 32]) -> Result<Option<String>, DbError> {
        let row = sqlx::query("SELECT receipt FROM board WHERE tracking_code = $1")
            .bind(tracking_code.to_vec())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.try_get(0)).transpose()?)
    }

    /// Up to `limit` entries from index `start` on, in order.
    pub async fn entries(&self, start: u64, limit: u32) -> Result<Vec<EntryRow>, DbError> {
        let rows = sqlx::query(
            "SELECT idx, tracking_code, kind, credential, ballot, opening, received_at FROM board \
             WHERE idx >= $1 ORDER BY idx LIMIT $2",
        )
        .bind(as_i64(start))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_row).collect()
    }

    /// Up to `limit` entries from index `start` on, in order, each with its stored receipt
    /// (JSON): the lines of the election record's `ballots.jsonl`.
    pub async fn entries_with_receipts(
        &self,
        start: u64,
        limit: u32,
    ) -> Result<Vec<(EntryRow, String)>, DbError> {
        let rows = sqlx::query(
            "SELECT idx, tracking_code, kind, credential, ballot, opening, received_at, receipt \
             FROM board WHERE idx >= $1 ORDER BY idx LIMIT $2",
        )
        .bind(as_i64(start))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((entry_row(row)?, row.try_get(7)?)))
            .collect()
    }

    /// The board's growth per minute of reception, oldest first: `(minute, cast, spoiled)`,
    /// `minute` the start of the minute (milliseconds since the epoch, a multiple of 60,000),
    /// for every minute in which the board grew.
    pub async fn entries_per_minute(&self) -> Result<Vec<(u64, u64, u64)>, DbError> {
        let rows = sqlx::query(
            "SELECT (received_at / 60000) * 60000 AS bucket, \
             SUM(CASE WHEN kind = 'cast' THEN 1 ELSE 0 END) AS cast_count, \
             SUM(CASE WHEN kind = 'spoiled' THEN 1 ELSE 0 END) AS spoiled_count \
             FROM board GROUP BY (received_at / 60000) * 60000 ORDER BY bucket",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    index_of(row.try_get(0)?)?,
                    index_of(row.try_get(1)?)?,
                    index_of(row.try_get(2)?)?,
                ))
            })
            .collect()
    }

    /// The voters per minute of their first cast ballot, oldest first: `(minute, credentials)`,
    /// each credential counted once, in the minute the board received its first cast ballot.
    pub async fn first_casts_per_minute(&self) -> Result<Vec<(u64, u64)>, DbError> {
        let rows = sqlx::query(
            "SELECT (first_cast / 60000) * 60000 AS bucket, COUNT(*) AS voters FROM \
             (SELECT MIN(received_at) AS first_cast FROM board WHERE kind = 'cast' \
              GROUP BY credential) firsts \
             GROUP BY (first_cast / 60000) * 60000 ORDER BY bucket",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((index_of(row.try_get(0)?)?, index_of(row.try_get(1)?)?)))
            .collect()
    }

    /// The reception time of the last board entry (0 for an empty board): receipts' tree heads
    /// carry it, and later ones must not be dated earlier.
    pub async fn last_received_at(&self) -> Result<u64, DbError> {
        let row = sqlx::query("SELECT received_at FROM board ORDER BY idx DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => index_of(row.try_get(0)?),
            None => Ok(0),
        }
    }

    /// Up to `limit` counted ballots with an index above `after` (all when `None`), by index:
    /// `(index, ballot bytes)`.
    pub async fn counted_ballots(
        &self,
        after: Option<u64>,
        limit: u32,
    ) -> Result<Vec<(u64, Vec<u8>)>, DbError> {
        let rows = sqlx::query(
            "SELECT board.idx, board.ballot FROM counted JOIN board ON board.idx = counted.idx \
             WHERE counted.idx > $1 ORDER BY counted.idx LIMIT $2",
        )
        .bind(after.map_or(-1, as_i64))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((index_of(row.try_get(0)?)?, row.try_get(1)?)))
            .collect()
    }

    /// The document `name`.
    pub async fn document(&self, name: &str) -> Result<Option<Vec<u8>>, DbError> {
        let row = sqlx::query("SELECT body FROM documents WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.try_get(0)).transpose()?)
    }

    /// Stores a write-once document.
    pub async fn put_document(&self, name: &str, body: &[u8]) -> Result<DocumentPut, DbError> {
        let done = sqlx::query(
            "INSERT INTO documents (name, body) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(body.to_vec())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(DocumentPut::Created);
        }
        match self.document(name).await? {
            Some(stored) if stored == body => Ok(DocumentPut::AlreadyPresent),
            _ => Ok(DocumentPut::Conflict),
        }
    }

    /// The names of every document, sorted.
    pub async fn document_names(&self) -> Result<Vec<String>, DbError> {
        let rows = sqlx::query("SELECT name FROM documents")
            .fetch_all(&self.pool)
            .await?;
        // Sorted here, by bytes: a PostgreSQL collation could order names differently.
        let mut names = rows
            .iter()
            .map(|row| Ok(row.try_get(0)?))
            .collect::<Result<Vec<String>, DbError>>()?;
        names.sort_unstable();
        Ok(names)
    }
}

/// One item of the anchoring queue (`anchor_queue`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnchorRow {
    /// Its place in the queue: items are sent in this order.
    pub seq: u64,
    /// What it anchors, unique: `election`, `checkpoint-<size>` or `result`.
    pub item: String,
    /// `election`, `checkpoint` or `result`.
    pub kind: String,
    /// A checkpoint's tree size.
    pub size: Option<u64>,
    /// The call's arguments (JSON).
    pub payload: String,
    /// `pending`, `sending`, `done` or `superseded`.
    pub state: String,
    /// The transaction hash, once known.
    pub transaction: Option<String>,
    /// The block that holds the transaction.
    pub block_number: Option<u64>,
    /// The gas the transaction used.
    pub gas_used: Option<u64>,
    /// Attempts to send it so far.
    pub attempts: u64,
    /// The last error, in words.
    pub last_error: Option<String>,
    /// When it was queued (ms since the epoch).
    pub created_at: u64,
    /// When it was found anchored (ms since the epoch).
    pub anchored_at: Option<u64>,
}

/// A change of an anchoring queue item's state ([`Db::update_anchor`]).
#[derive(Clone, Debug, Default)]
pub struct AnchorUpdate<'a> {
    /// The new state.
    pub state: &'a str,
    /// A new payload (arguments decided when first sent), if any.
    pub payload: Option<&'a str>,
    /// The transaction hash, if known.
    pub transaction: Option<&'a str>,
    /// The block that holds it.
    pub block_number: Option<u64>,
    /// The gas it used.
    pub gas_used: Option<u64>,
    /// Counts one more attempt.
    pub attempted: bool,
    /// The last error (`None` clears it).
    pub last_error: Option<&'a str>,
    /// When it was found anchored.
    pub anchored_at: Option<u64>,
}

/// A ballot cast through the contract, as the service took it at the close.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FallbackRow {
    /// Its position in the contract's list for the election.
    pub chain_index: u64,
    /// The casting transaction.
    pub transaction: String,
    /// Its tracking code (the digest the contract stored).
    pub tracking_code: [u8; 32],
    /// The board entry that holds it; `None` when refused.
    pub index: Option<u64>,
    /// Why it was refused, in words.
    pub reason: Option<String>,
}

fn optional_u64(value: Option<i64>) -> Result<Option<u64>, DbError> {
    value.map(index_of).transpose()
}

fn anchor_row(row: &sqlx::any::AnyRow) -> Result<AnchorRow, DbError> {
    Ok(AnchorRow {
        seq: index_of(row.try_get("seq")?)?,
        item: row.try_get("item")?,
        kind: row.try_get("kind")?,
        size: optional_u64(row.try_get("size")?)?,
        payload: row.try_get("payload")?,
        state: row.try_get("state")?,
        transaction: row.try_get("transaction_hash")?,
        block_number: optional_u64(row.try_get("block_number")?)?,
        gas_used: optional_u64(row.try_get("gas_used")?)?,
        attempts: index_of(row.try_get("attempts")?)?,
        last_error: row.try_get("last_error")?,
        created_at: index_of(row.try_get("created_at")?)?,
        anchored_at: optional_u64(row.try_get("anchored_at")?)?,
    })
}

const ANCHOR_COLUMNS: &str = "seq, item, kind, size, payload, state, transaction_hash, \
     block_number, gas_used, attempts, last_error, created_at, anchored_at";

/// Anchoring (spec/api.md §12): the queue, the registry address and the fallback ballots.
impl Db {
    /// The anchoring setting `name`.
    pub async fn anchor_setting(&self, name: &str) -> Result<Option<String>, DbError> {
        let row = sqlx::query("SELECT value FROM anchor_settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.try_get(0)).transpose()?)
    }

    /// Stores the anchoring setting `name` unless it is set; answers the value that holds now.
    pub async fn put_anchor_setting(&self, name: &str, value: &str) -> Result<String, DbError> {
        sqlx::query(
            "INSERT INTO anchor_settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(value)
        .execute(&self.pool)
        .await?;
        self.anchor_setting(name)
            .await?
            .ok_or_else(|| DbError::Corrupt(format!("the anchoring setting {name} vanished")))
    }

    /// Queues `item` at the end of the anchoring queue unless it is queued already; `true` if
    /// it was queued now.
    pub async fn enqueue_anchor(
        &self,
        item: &str,
        kind: &str,
        size: Option<u64>,
        payload: &str,
        now: u64,
    ) -> Result<bool, DbError> {
        let done = sqlx::query(
            "INSERT INTO anchor_queue (seq, item, kind, size, payload, state, attempts, \
             created_at) SELECT COALESCE(MAX(seq), 0) + 1, $1, $2, $3, $4, 'pending', 0, $5 \
             FROM anchor_queue WHERE NOT EXISTS (SELECT 1 FROM anchor_queue WHERE item = $6)",
        )
        .bind(item)
        .bind(kind)
        .bind(size.map(as_i64))
        .bind(payload)
        .bind(as_i64(now))
        .bind(item)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every item of the anchoring queue, in order.
    pub async fn anchor_items(&self) -> Result<Vec<AnchorRow>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {ANCHOR_COLUMNS} FROM anchor_queue ORDER BY seq"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(anchor_row).collect()
    }

    /// The anchoring queue's item `item`, if queued.
    pub async fn anchor_item(&self, item: &str) -> Result<Option<AnchorRow>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {ANCHOR_COLUMNS} FROM anchor_queue WHERE item = $1"
        ))
        .bind(item)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(anchor_row).transpose()
    }

    /// The first item not anchored yet (`pending` or `sending`), if any.
    pub async fn next_anchor(&self) -> Result<Option<AnchorRow>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {ANCHOR_COLUMNS} FROM anchor_queue \
             WHERE state IN ('pending', 'sending') ORDER BY seq LIMIT 1"
        ))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(anchor_row).transpose()
    }

    /// The largest tree size queued for a checkpoint, if any.
    pub async fn last_queued_checkpoint(&self) -> Result<Option<u64>, DbError> {
        let row = sqlx::query("SELECT MAX(size) FROM anchor_queue WHERE kind = 'checkpoint'")
            .fetch_one(&self.pool)
            .await?;
        optional_u64(row.try_get(0)?)
    }

    /// Changes the state of the queue item `seq`.
    pub async fn update_anchor(&self, seq: u64, update: &AnchorUpdate<'_>) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE anchor_queue SET state = $1, payload = COALESCE($2, payload), \
             transaction_hash = COALESCE($3, transaction_hash), \
             block_number = COALESCE($4, block_number), gas_used = COALESCE($5, gas_used), \
             attempts = attempts + $6, last_error = $7, \
             anchored_at = COALESCE($8, anchored_at) WHERE seq = $9",
        )
        .bind(update.state)
        .bind(update.payload)
        .bind(update.transaction)
        .bind(update.block_number.map(as_i64))
        .bind(update.gas_used.map(as_i64))
        .bind(i64::from(update.attempted))
        .bind(update.last_error)
        .bind(update.anchored_at.map(as_i64))
        .bind(as_i64(seq))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records the fallback ballots taken at the close, in one transaction; rows already
    /// recorded (a close repeated after a crash) stay as they are.
    pub async fn record_fallback(&self, rows: &[FallbackRow]) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        for r in rows {
            sqlx::query(
                "INSERT INTO fallback_ballots (chain_index, transaction_hash, tracking_code, idx, \
                 reason) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (chain_index) DO NOTHING",
            )
            .bind(as_i64(r.chain_index))
            .bind(&r.transaction)
            .bind(r.tracking_code.to_vec())
            .bind(r.index.map(as_i64))
            .bind(r.reason.as_deref())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The fallback ballots taken at the close, by their position on chain.
    pub async fn fallback_ballots(&self) -> Result<Vec<FallbackRow>, DbError> {
        let rows = sqlx::query(
            "SELECT chain_index, transaction_hash, tracking_code, idx, reason \
             FROM fallback_ballots ORDER BY chain_index",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(FallbackRow {
                    chain_index: index_of(row.try_get(0)?)?,
                    transaction: row.try_get(1)?,
                    tracking_code: bytes32("tracking code", &row.try_get::<Vec<u8>, _>(2)?)?,
                    index: optional_u64(row.try_get(3)?)?,
                    reason: row.try_get(4)?,
                })
            })
            .collect()
    }
}
