#![allow(clippy::unwrap_used)]
//! The credential list on the election service (spec/api.md §5, spec/credentials.md §7),
//! against both storage backends like `tests/service.rs`: a registrar's public list is checked
//! before it is stored, refused for an electorate the tally could not count, replaced one
//! credential at a time before voting opens (in order, idempotently), and the record shows
//! every list's digest; end to end, credentials made by the registrar off the server vote and
//! verify.

#[allow(dead_code)] // Shared with tests/service.rs, which uses all of it.
mod service_support;

use service_support::*;
use tabella_crypto::ballot::ElectionId;
use tabella_crypto::credential::{
    credentials_digest, replay_backwards, CredentialCode, CredentialKey, CredentialReplacement,
    CredentialSecret,
};
use tabella_tally::api::{
    CredentialList, CredentialReplaced, CredentialsImported, ElectionInfo, ElectionState,
    IssuedCredential, PublicCredentialList,
};
use tabella_tally::client::ElectionClient;
use tabella_tally::messages::HttpStore;
use tabella_tally::registrar::{self, roll::Roll, ElectionNotice, GenerateOptions};
use tabella_tally::service::Backend;

both_backends! {
    async: [
        a_credential_list_is_checked_before_it_is_stored,
        a_list_the_tally_could_not_count_is_refused,
        credentials_are_replaced_in_order_before_voting_opens,
    ],
    sync: [
        credentials_made_off_the_server_vote_and_the_record_shows_every_list,
    ],
}

/// `n` credential keys drawn fast (no Argon2id): for lists whose codes nobody needs.
fn quick_keys(n: usize, salt: u8) -> Vec<CredentialKey> {
    (0..n)
        .map(|i| {
            let mut seed = [salt; 32];
            seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
            CredentialSecret::insecure_from_seed(&seed).public()
        })
        .collect()
}

async fn created(service: &Service, manifest: &str) -> ElectionInfo {
    service
        .admin_post(
            "/v1/election",
            "application/json",
            format!("{{\"manifest\":{manifest}}}").into_bytes(),
        )
        .await
        .expect(201)
        .json()
}

/// API-CRED-1: every rule of CRED-LIST-1, refused with its reason; nothing is stored.
async fn a_credential_list_is_checked_before_it_is_stored(db: Db) {
    let service = Service::start(&db).await;
    let info = created(&service, MANIFEST).await;
    let election = info.election_id;
    let good = PublicCredentialList::new(election, quick_keys(4, 1));
    let refused = |list: PublicCredentialList, reason: &'static str| {
        let service = &service;
        async move {
            let answer = service
                .admin_put_json("/v1/election/credentials", &list)
                .await;
            answer.expect_error(422, "invalid_credentials");
            let text = answer.text();
            assert!(text.contains(reason), "{reason}: {text}");
        }
    };
    let mut other = good.clone();
    other.election_id = ElectionId([9; 32]);
    refused(other, "not for this election").await;
    let mut unsorted = good.clone();
    unsorted.credentials.swap(0, 1);
    refused(unsorted, "not strictly sorted: key 1 is not below key 2").await;
    let mut twice = good.clone();
    twice.credentials[1] = twice.credentials[0];
    refused(twice, "not strictly sorted").await;
    let mut digest = good.clone();
    digest.digest[0] ^= 1;
    refused(digest, "the credential keys hash to").await;
    let mut weak = good.clone();
    let mut identity = [0u8; 32];
    identity[0] = 1;
    weak.credentials[0] = identity;
    refused(weak, "credential key 1 is not valid").await;
    let empty = PublicCredentialList::new(election, Vec::new());
    refused(empty, "empty").await;
    // Not a list at all.
    let bearer = format!("Bearer {TOKEN}");
    service
        .request(
            axum::http::Method::PUT,
            "/v1/election/credentials",
            &[
                ("content-type", "application/json"),
                ("authorization", &bearer),
            ],
            b"voter_id\nv-001\n".to_vec(),
        )
        .await
        .expect_error(400, "malformed_request");
    assert_eq!(service.info().await.voters, None);
    let stored: CredentialList = service
        .get("/v1/election/credentials")
        .await
        .expect(200)
        .json();
    assert!(stored.credentials.is_empty());

    // The good list, then the same again; another is refused.
    let answer: CredentialsImported = service
        .admin_put_json("/v1/election/credentials", &good)
        .await
        .expect(201)
        .json();
    assert_eq!(
        answer,
        CredentialsImported {
            voters: 4,
            credentials_digest: hex::encode(good.digest),
            already_imported: false
        }
    );
    let again: CredentialsImported = service
        .admin_put_json("/v1/election/credentials", &good)
        .await
        .expect(200)
        .json();
    assert!(again.already_imported);
    // Other keys that claim the stored list's digest are not "the same list again".
    let mut claims_the_digest = PublicCredentialList::new(election, quick_keys(4, 3));
    claims_the_digest.digest = good.digest;
    refused(claims_the_digest, "the credential keys hash to").await;
    service
        .admin_put_json(
            "/v1/election/credentials",
            &PublicCredentialList::new(election, quick_keys(5, 2)),
        )
        .await
        .expect_error(409, "credentials_exist");
    let info = service.info().await;
    assert_eq!(info.voters, Some(4));
    assert_eq!(info.credentials_digest, Some(hex::encode(good.digest)));
}

/// MANIFEST-5: a score contest up to 2^32 − 1 can be tallied for 256 voters, not 257.
async fn a_list_the_tally_could_not_count_is_refused(db: Db) {
    let service = Service::start(&db).await;
    let manifest = r#"{"title":"Budget","contests":[{"id":"budget","title":"Budget",
        "style":{"type":"score","max_score":4294967295},
        "selections":[{"id":"parks","label":"Parks"}]}]}"#;
    let info = created(&service, manifest).await;
    let too_many = PublicCredentialList::new(info.election_id, quick_keys(257, 3));
    let answer = service
        .admin_put_json("/v1/election/credentials", &too_many)
        .await;
    answer.expect_error(422, "tally_bound_exceeded");
    assert!(
        answer
            .text()
            .contains("allow at most 4278255360 per selection"),
        "{}",
        answer.text()
    );
    assert_eq!(service.info().await.voters, None);
    let enough = PublicCredentialList::new(info.election_id, quick_keys(256, 3));
    service
        .admin_put_json("/v1/election/credentials", &enough)
        .await
        .expect(201);
}

async fn replace(service: &Service, r: &CredentialReplacement) -> Answer {
    service
        .admin_post(
            "/v1/election/credentials/replacements",
            "application/json",
            serde_json::to_vec(r).unwrap(),
        )
        .await
}

/// API-CRED-2 and CRED-LIST-2: replacements apply in order, once, only in set-up; the old key
/// can no longer vote, the new one can; the list shows every replacement.
async fn credentials_are_replaced_in_order_before_voting_opens(db: Db) {
    let e = Election::new(&db, 3, false).await;
    let election = e.info.election_id;
    let stored: CredentialList = e
        .service
        .get("/v1/election/credentials")
        .await
        .expect(200)
        .json();
    let keys: Vec<[u8; 32]> = stored.credentials.iter().map(|k| k.to_bytes()).collect();
    let lost = e.voters.secret(1).public();
    let code = CredentialCode::generate(&mut rand::rngs::OsRng);
    let fresh = CredentialSecret::derive(&code, &election.0);
    let first = CredentialReplacement::new(election, &keys, lost, fresh.public()).unwrap();

    // Out of order: a replacement written against a list that is not the current one.
    let mut after = keys.clone();
    first.apply(&election, &mut after).unwrap();
    let later_secret = CredentialSecret::insecure_from_seed(&[7; 32]);
    let second =
        CredentialReplacement::new(election, &after, fresh.public(), later_secret.public())
            .unwrap();
    replace(&e.service, &second)
        .await
        .expect_error(409, "not_current");

    let answer: CredentialReplaced = replace(&e.service, &first).await.expect(201).json();
    assert_eq!(
        answer,
        CredentialReplaced {
            voters: 3,
            previous_digest: hex::encode(stored.digest),
            credentials_digest: hex::encode(first.digest),
            replacements: 1,
            already_applied: false
        }
    );
    let again: CredentialReplaced = replace(&e.service, &first).await.expect(200).json();
    assert!(again.already_applied);
    // A key that is not on the list cannot be removed; one that is cannot be added.
    let mut bad = second.clone();
    bad.removed = CredentialSecret::insecure_from_seed(&[8; 32]).public();
    replace(&e.service, &bad)
        .await
        .expect_error(422, "invalid_replacement");
    let info = e.service.info().await;
    assert_eq!(info.credentials_digest, Some(hex::encode(first.digest)));
    assert_eq!(info.voters, Some(3));

    // The list as published: the final keys, with the replacement that leads back.
    let published: CredentialList = e
        .service
        .get("/v1/election/credentials")
        .await
        .expect(200)
        .json();
    assert_eq!(published.replacements, std::slice::from_ref(&first));
    let final_keys: Vec<[u8; 32]> = published.credentials.iter().map(|k| k.to_bytes()).collect();
    assert_eq!(credentials_digest(&final_keys), first.digest);
    assert_eq!(
        replay_backwards(&election, &final_keys, &published.replacements).unwrap(),
        stored.digest
    );

    // Once voting opens, nothing is replaced; the old key is not eligible, the new one votes.
    e.service
        .admin_post("/v1/election/open", "application/json", Vec::new())
        .await
        .expect(200);
    replace(&e.service, &second)
        .await
        .expect_error(409, "wrong_state");
    let opened = e.service.info().await;
    assert_eq!(opened.state, ElectionState::Open);
    let ctx = tabella_crypto::ballot::ElectionContext::new(
        election,
        opened.manifest.clone(),
        opened.joint_key.unwrap(),
    )
    .unwrap();
    let (old_ballot, _) = encrypt(&ctx, e.voters.secret(1), 0);
    e.cast(old_ballot.to_bytes())
        .await
        .expect_error(403, "credential_not_eligible");
    let (new_ballot, _) = encrypt(&ctx, &fresh, 0);
    e.cast(new_ballot.to_bytes()).await.expect(201);
}

/// End to end: the registrar (the library `tabella credentials` runs) makes the credentials in a
/// directory, replaces one, the officials upload the list and the replacement, the voters vote
/// with the codes of their letters, and the exported record verifies, with the replacement and
/// the first list's digest in V4's note.
fn credentials_made_off_the_server_vote_and_the_record_shows_every_list(db: Db) {
    let seed = board_seed();
    let service = tabella_tally::service::spawn(config(&db, &seed), "127.0.0.1:0").unwrap();
    let url = service.url();
    let officials = ElectionClient::new(&url, Some(TOKEN.to_owned())).unwrap();
    let public = ElectionClient::new(&url, None).unwrap();
    let (info, _) = officials.create(&manifest()).unwrap();
    let election = info.election_id;
    let rng = &mut rand::rngs::OsRng;
    let identities: Vec<_> = (0..2)
        .map(|_| tabella_crypto::ceremony::TrusteeIdentity::generate(rng))
        .collect();
    let announcements = identities
        .iter()
        .enumerate()
        .map(|(i, id)| id.announce(election, &format!("Trustee {}", i + 1), rng))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let params =
        tabella_crypto::ceremony::CeremonyParams::new(election, 2, announcements, rng).unwrap();
    let officials_store = HttpStore::new(&url, Some(TOKEN.to_owned())).unwrap();
    tabella_tally::ceremony::publish(&officials_store, "ceremony.json", &params).unwrap();
    for identity in &identities {
        tabella_tally::trustee::deal_step(&HttpStore::new(&url, None).unwrap(), identity).unwrap();
    }
    for identity in &identities {
        tabella_tally::trustee::check_step(&HttpStore::new(&url, None).unwrap(), identity, 0)
            .unwrap();
    }

    // The registrar, offline.
    let work = tempfile::tempdir().unwrap();
    let roll = Roll::parse(b"voter_id,name\nv-1,Ada\nv-2,Bo\nv-3,Cy\n").unwrap();
    let dir = work.path().join("registrar");
    let generated = registrar::generate(
        &roll,
        &dir,
        &GenerateOptions {
            election_id: election,
            notice: Some(ElectionNotice {
                title: "Service test election".into(),
                booth_url: format!("{url}/booth"),
                opens: None,
                closes: None,
                contact: None,
            }),
            letter_text: Default::default(),
            letters: true,
            letters_per_file: 100,
        },
        &|| {},
    )
    .unwrap();
    officials.import_credentials(&generated.list).unwrap();
    let replaced = registrar::replace(&dir, "v-2").unwrap();
    officials.replace_credential(&replaced.replacement).unwrap();
    officials.open().unwrap();

    // The voters, with the codes their letters carry.
    let letters = registrar::Registrar::open(&dir).unwrap();
    let opened = public.election().unwrap();
    let ctx = tabella_crypto::ballot::ElectionContext::new(
        election,
        opened.manifest.clone(),
        opened.joint_key.unwrap(),
    )
    .unwrap();
    let codes: Vec<IssuedCredential> = letters
        .voters
        .iter()
        .map(|v| IssuedCredential {
            voter_id: v.voter_id.clone(),
            code: v.code.to_string(),
        })
        .collect();
    let voters = Voters::new(election, codes);
    for (i, selection) in [(0, 0), (1, 1), (2, 1)] {
        let (ballot, _) = encrypt(&ctx, voters.secret(i), selection);
        public.cast(ballot.to_bytes()).unwrap();
    }
    officials.close().unwrap();
    officials.wait_for_aggregation(|_| {}).unwrap();
    for identity in &identities {
        tabella_tally::trustee::decrypt_step(
            &HttpStore::new(&url, None).unwrap(),
            identity,
            0,
            false,
        )
        .unwrap();
    }
    let results = officials.tally().unwrap();
    assert_eq!(totals(&results), vec![vec![1, 2, 0]]);
    let record = work.path().join("record");
    let summary = tabella_tally::election::export(&public, &record).unwrap();
    assert!(
        summary.report.passed(),
        "{:?}",
        summary.report.first_failure()
    );
    let v4 = &summary.report.checks[3];
    let note = v4.detail.clone().unwrap_or_default();
    assert!(
        note.contains(&format!(
            "1 credential(s) replaced before voting opened; the list first uploaded had digest {}",
            hex::encode(generated.list.digest)
        )),
        "{note}"
    );
    service.shutdown().unwrap();
}
