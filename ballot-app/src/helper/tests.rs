//! The helper's logic, through its JSON messages as the page sends them.

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use tabella_crypto::ballot::{Ballot, ElectionContext, ElectionId};
use tabella_crypto::credential::{CredentialCode, CredentialSecret};
use tabella_crypto::elgamal::SecretKey;
use tabella_crypto::manifest::Manifest;

use super::{Engine, Reply, Request};

const MANIFEST: &str = r#"{"title":"T","contests":[
  {"id":"mayor","title":"Mayor","style":{"type":"plurality"},
   "selections":[{"id":"a","label":"Ada"},{"id":"b","label":"Bob"}]}]}"#;

/// A request through JSON, as the page posts it, and the reply through JSON.
fn ask(engine: &mut Engine, request: Request, rng: &mut ChaCha20Rng) -> Reply {
    let text = serde_json::to_string(&request).unwrap();
    let reply = engine.handle(serde_json::from_str(&text).unwrap(), rng);
    serde_json::from_str(&serde_json::to_string(&reply).unwrap()).unwrap()
}

/// The ballot of an `Encrypted` reply.
fn encrypted(reply: Reply) -> String {
    match reply {
        Reply::Encrypted { ballot } => Some(ballot),
        _ => None,
    }
    .expect("an encrypted ballot")
}

#[test]
fn key_encrypt_open_as_the_booth_does_them() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let id = ElectionId([6; 32]);
    let manifest = Manifest::from_json(MANIFEST).unwrap();
    let joint = SecretKey::generate(&mut rng).public_key();
    let ctx = ElectionContext::new(id, manifest.clone(), joint).unwrap();
    let code = CredentialCode::generate(&mut rng);
    let mut engine = Engine::default();

    // Nothing before the election.
    let early = ask(
        &mut engine,
        Request::Encrypt {
            choices: vec![vec![1, 0]],
        },
        &mut rng,
    );
    assert!(matches!(early, Reply::Failed { .. }), "{early:?}");
    let ready = Request::Election {
        election_id: id,
        manifest: Box::new(manifest),
        joint_key: joint,
    };
    assert!(matches!(ask(&mut engine, ready, &mut rng), Reply::Ready));
    // A mistyped code is explained; no key is kept.
    let mut typo = code.expose_secret().to_owned();
    typo.replace_range(0..1, if typo.starts_with('A') { "B" } else { "A" });
    let refused = ask(&mut engine, Request::Key { code: typo }, &mut rng);
    assert!(matches!(refused, Reply::Failed { .. }), "{refused:?}");
    let no_key = ask(
        &mut engine,
        Request::Encrypt {
            choices: vec![vec![1, 0]],
        },
        &mut rng,
    );
    assert!(
        matches!(no_key, Reply::Failed { .. }),
        "encrypted without a key: {no_key:?}"
    );

    let public = match ask(
        &mut engine,
        Request::Key {
            code: code.expose_secret().to_owned(),
        },
        &mut rng,
    ) {
        Reply::Key { public } => Some(public),
        _ => None,
    }
    .expect("the voter's key");
    assert_eq!(public, CredentialSecret::derive(&code, &id.0).public());

    let ballot = encrypted(ask(
        &mut engine,
        Request::Encrypt {
            choices: vec![vec![0, 1]],
        },
        &mut rng,
    ));
    let ballot = Ballot::from_base64(&ballot, &ctx).unwrap();
    assert_eq!(ballot.credential(), &public);
    ctx.verify_ballot(&ballot, &mut rng).unwrap();
    // Rules are the crypto crate's: two choices in a plurality contest are refused.
    let message = match ask(
        &mut engine,
        Request::Encrypt {
            choices: vec![vec![1, 1]],
        },
        &mut rng,
    ) {
        Reply::Failed { message } => Some(message),
        _ => None,
    }
    .expect("a ballot breaking its rule is refused");
    assert!(
        message.starts_with("Your ballot could not be encrypted"),
        "{message}"
    );

    // The challenge opens the last encryption, once.
    let opening = match ask(&mut engine, Request::Open, &mut rng) {
        Reply::Opened { opening } => Some(opening),
        _ => None,
    }
    .expect("the opening");
    ctx.verify_spoiled(&ballot, &opening, &mut rng).unwrap();
    assert!(matches!(
        ask(&mut engine, Request::Open, &mut rng),
        Reply::Failed { .. }
    ));

    // Cast: forgotten, so it can never be opened.
    encrypted(ask(
        &mut engine,
        Request::Encrypt {
            choices: vec![vec![1, 0]],
        },
        &mut rng,
    ));
    assert!(matches!(
        ask(&mut engine, Request::Forget, &mut rng),
        Reply::Forgotten
    ));
    assert!(matches!(
        ask(&mut engine, Request::Open, &mut rng),
        Reply::Failed { .. }
    ));
}

#[test]
fn unknown_messages_are_refused() {
    assert!(serde_json::from_str::<Request>(r#"{"op":"launch"}"#).is_err());
    assert!(serde_json::from_str::<Request>(r#"{"op":"key"}"#).is_err());
    assert!(serde_json::from_str::<Request>(r#"{"op":"forget"}"#).is_ok());
}
