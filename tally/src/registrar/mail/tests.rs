//! Tests of the mail module, against a real SMTP server (the Python sink `smtp_sink.py`,
//! aiosmtpd from PyPI, started on loopback).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

use tabella_tests::smtp as harness;

use harness::{Sink, TestCert};

macro_rules! python_or_skip {
    () => {
        match harness::python() {
            Some(p) => p,
            None => return,
        }
    };
}

const CODES: [&str; 4] = [
    "EPD-WP9-3QR-7P2-YEX-DJM-RZZ",
    "K7M-2XQ-9PL-T4R-WNB-8CD-HJE",
    "Q3V-ZA8-NM5-R2T-LK9-PXW-7YU",
    "B6H-TR4-XC2-9MN-EQW-5LZ-KJA",
];

/// Asserts that no credential code appears in `text`.
fn assert_no_code(text: &str) {
    for code in CODES {
        assert!(
            !text.contains(code),
            "a credential code leaked into: {text}"
        );
    }
}

/// The test SMTP server on loopback with TLS (STARTTLS) under `cert`, and `extra` arguments.
fn tls_sink(py: &std::path::Path, cert: &TestCert, extra: &[&str]) -> Sink {
    let mut args = vec!["--tls-cert", &cert.cert_path, "--tls-key", &cert.key_path];
    args.extend_from_slice(extra);
    Sink::start(py, &args)
}

fn settings(port: u16, tls: &TestCert) -> MailSettings {
    let mut s = MailSettings::new(
        format!("smtp://127.0.0.1:{port}"),
        "Election Office <elections@example.org>",
    );
    s.extra_root_pem = Some(tls.trust_pem.clone());
    s.attempts = 4;
    s.retry_delay = Duration::from_millis(5);
    s.timeout = Duration::from_secs(10);
    s
}

fn context() -> MailContext {
    MailContext {
        election: "Board Election 2025".into(),
        booth_url: "https://vote.example.org/booth".into(),
        opens: Some("1 June 2025, 08:00 CEST".into()),
        closes: Some("8 June 2025, 20:00 CEST".into()),
        contact: Some("help@example.org".into()),
    }
}

fn voters() -> Vec<Recipient<'static>> {
    vec![
        Recipient {
            voter_id: "V-001",
            email: "alice@example.org",
            name: Some("Alice Smith"),
            code: CODES[0],
        },
        Recipient {
            voter_id: "V-002",
            email: "bob@example.net",
            name: Some("Zoë Ångström-Ñúñez"),
            code: CODES[1],
        },
        Recipient {
            voter_id: "V-003",
            email: "carol@example.com",
            name: None,
            code: CODES[2],
        },
    ]
}

/// Runs `send_all`, returning the deliveries, the report text and the result; checks
/// that no code leaked into any of them.
fn run_send(
    settings: &MailSettings,
    template: &MailTemplate,
    recipients: &[Recipient<'_>],
) -> (Vec<Delivery>, String, Result<DeliverySummary, MailError>) {
    let mut deliveries = Vec::new();
    let mut report = ReportWriter::new(Vec::new()).unwrap();
    let result = send_all(settings, template, &context(), recipients, |d| {
        report.write(d).unwrap();
        deliveries.push(d.clone());
    });
    let report = String::from_utf8(report.into_inner()).unwrap();
    for d in &deliveries {
        assert_no_code(&d.detail);
        assert_no_code(&format!("{d:?}"));
    }
    assert_no_code(&report);
    if let Err(e) = &result {
        assert_no_code(&e.to_string());
        assert_no_code(&format!("{e:?}"));
    }
    (deliveries, report, result)
}

fn by_voter<'d>(deliveries: &'d [Delivery], id: &str) -> &'d Delivery {
    deliveries.iter().find(|d| d.voter_id == id).unwrap()
}

// --- (1) STARTTLS delivery -------------------------------------------------------------

#[test]
fn starttls_delivers_one_message_per_voter() {
    let py = python_or_skip!();
    let cert = harness::self_signed();
    let sink = tls_sink(&py, &cert, &["--require-starttls"]);
    let template = MailTemplate::default_for(&context());
    let recipients = voters();
    let (deliveries, report, result) =
        run_send(&settings(sink.port, &cert), &template, &recipients);
    assert_eq!(result.unwrap(), DeliverySummary { sent: 3, failed: 0 });
    assert_eq!(deliveries.len(), 3);
    for (d, r) in deliveries.iter().zip(&recipients) {
        assert_eq!(d.voter_id, r.voter_id, "deliveries come in order");
        assert_eq!(d.email, r.email);
        assert_eq!(d.status, DeliveryStatus::Sent);
        assert_eq!(d.attempts, 1);
        assert!(d.detail.starts_with("250 "), "{}", d.detail);
    }

    let files = sink.messages();
    assert_eq!(files.len(), 3, "one message per voter");
    let decoded: Vec<_> = files.iter().map(|f| harness::decode(&py, f)).collect();
    for r in &recipients {
        let matching: Vec<_> = decoded.iter().filter(|m| m.to.contains(r.email)).collect();
        assert_eq!(matching.len(), 1, "exactly one message to {}", r.email);
        let m = matching[0];
        if let Some(name) = r.name {
            assert!(m.to.contains(name), "To {:?} names {name}", m.to);
        }
        assert_eq!(m.from, "Election Office <elections@example.org>");
        assert_eq!(m.subject, "Your voting code for Board Election 2025");
        assert!(
            m.body.contains(&format!("\n    {}\n", r.code)),
            "{}",
            m.body
        );
        assert!(m.body.contains(&format!("voter ID {}", r.voter_id)));
        assert!(m.body.contains("Voting closes: 8 June 2025, 20:00 CEST"));
        assert!(m.body.contains("contact help@example.org."));
        for other in recipients.iter().filter(|o| o.voter_id != r.voter_id) {
            assert!(
                !m.body.contains(other.code),
                "another voter's code in the message"
            );
        }
    }
    // The non-ASCII name travels RFC 2047-encoded; the raw header carries no 8-bit text.
    let raw: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let bob = raw
        .iter()
        .find(|r| String::from_utf8_lossy(r).contains("bob@example.net"))
        .unwrap();
    let bob = String::from_utf8_lossy(bob);
    let header_end = bob.find("\r\n\r\n").unwrap();
    assert!(bob[..header_end].is_ascii(), "headers must be 7-bit");
    assert!(bob.contains("=?utf-8?"), "encoded word expected in {bob}");
    assert!(bob.contains("Message-ID: <") && bob.contains("@example.org>"));

    let lines: Vec<&str> = report.split("\r\n").collect();
    assert_eq!(lines[0], REPORT_HEADER);
    assert!(
        lines[1].starts_with("V-001,alice@example.org,sent,1,250 "),
        "{}",
        lines[1]
    );
    assert_eq!(
        lines.len(),
        5,
        "header, three rows, and the empty rest: {report}"
    );
}

#[test]
fn implicit_tls_private_ca_and_auth() {
    let py = python_or_skip!();
    let cert = harness::private_ca();
    let sink = tls_sink(
        &py,
        &cert,
        &["--implicit-tls", "--auth", "registrar:s3cret pass"],
    );
    let mut s = settings(sink.port, &cert);
    s.smtp_url = format!("smtps://registrar:s3cret%20pass@127.0.0.1:{}", sink.port);
    assert!(
        !format!("{s:?}").contains("s3cret"),
        "Debug shows the password: {s:?}"
    );
    let (deliveries, _, result) = run_send(&s, &MailTemplate::default(), &voters()[..1]);
    assert_eq!(result.unwrap().sent, 1);
    assert_eq!(deliveries[0].status, DeliveryStatus::Sent);
    assert_eq!(sink.messages().len(), 1);

    // Credentials given separately work too; a wrong password is refused before sending.
    s.smtp_url = format!("smtps://127.0.0.1:{}", sink.port);
    s.username = Some("registrar".into());
    s.password = Some("wrong password".into());
    let (deliveries, _, result) = run_send(&s, &MailTemplate::default(), &voters()[..1]);
    let err = result.unwrap_err();
    assert!(matches!(err, MailError::Connect { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("535") && text.contains("authentication"),
        "{text}"
    );
    assert!(!text.contains("wrong password") && !format!("{err:?}").contains("wrong password"));
    assert!(deliveries.is_empty());
    assert_eq!(sink.messages().len(), 1, "nothing more was sent");
}

#[test]
fn plaintext_only_to_loopback_when_asked() {
    let py = python_or_skip!();
    let sink = Sink::start(&py, &[]);
    let mut s = MailSettings::new(
        format!("smtp://127.0.0.1:{}?tls=none", sink.port),
        "elections@example.org",
    );
    s.retry_delay = Duration::from_millis(5);
    let (_, _, result) = run_send(&s, &MailTemplate::default(), &voters());
    assert_eq!(result.unwrap().sent, 3);
    assert_eq!(sink.messages().len(), 3);
}

// --- (2) transient failures are retried ------------------------------------------------

#[test]
fn tempfail_is_retried_with_backoff() {
    let py = python_or_skip!();
    let cert = harness::self_signed();
    let sink = tls_sink(
        &py,
        &cert,
        &["--tempfail", "bob@example.net:2", "carol@example.com:10"],
    );
    let (deliveries, report, result) = run_send(
        &settings(sink.port, &cert),
        &MailTemplate::default(),
        &voters(),
    );
    assert_eq!(result.unwrap(), DeliverySummary { sent: 2, failed: 1 });
    assert_eq!(by_voter(&deliveries, "V-001").attempts, 1);
    let bob = by_voter(&deliveries, "V-002");
    assert_eq!(
        (bob.status, bob.attempts),
        (DeliveryStatus::Sent, 3),
        "N = 2 tempfails + 1"
    );
    let carol = by_voter(&deliveries, "V-003");
    assert_eq!(
        (carol.status, carol.attempts),
        (DeliveryStatus::Failed, 4),
        "gave up"
    );
    assert!(carol.detail.starts_with("451 "), "{}", carol.detail);
    assert!(
        report.contains("\r\nV-002,bob@example.net,sent,3,250 "),
        "{report}"
    );
    assert!(
        report.contains("\r\nV-003,carol@example.com,failed,4,\"451 4.3.0 Temporary"),
        "{report}"
    );
    assert_eq!(sink.messages().len(), 2);
}

// --- (3) permanent failures are not retried --------------------------------------------

#[test]
fn rejected_address_fails_after_one_attempt() {
    let py = python_or_skip!();
    let cert = harness::self_signed();
    let sink = tls_sink(&py, &cert, &["--reject", "Bob@Example.net"]);
    let (deliveries, report, result) = run_send(
        &settings(sink.port, &cert),
        &MailTemplate::default(),
        &voters(),
    );
    assert_eq!(result.unwrap(), DeliverySummary { sent: 2, failed: 1 });
    let bob = by_voter(&deliveries, "V-002");
    assert_eq!((bob.status, bob.attempts), (DeliveryStatus::Failed, 1));
    assert_eq!(
        bob.detail,
        "550 5.1.1 Recipient address rejected: mailbox unavailable"
    );
    assert!(report.contains(
        "\r\nV-002,bob@example.net,failed,1,550 5.1.1 Recipient address rejected: mailbox unavailable\r\n"
    ));
    for id in ["V-001", "V-003"] {
        assert_eq!(by_voter(&deliveries, id).status, DeliveryStatus::Sent);
    }
    let files = sink.messages();
    assert_eq!(files.len(), 2);
    let tos: Vec<String> = files.iter().map(|f| harness::decode(&py, f).to).collect();
    assert!(tos.iter().any(|t| t.contains("alice@example.org")));
    assert!(tos.iter().any(|t| t.contains("carol@example.com")));
}

// --- (4) TLS is required ---------------------------------------------------------------

#[test]
fn server_without_starttls_is_refused() {
    let py = python_or_skip!();
    let cert = harness::self_signed();
    let sink = Sink::start(&py, &[]); // no TLS at all
    let mut called = 0;
    let result = send_all(
        &settings(sink.port, &cert),
        &MailTemplate::default(),
        &context(),
        &voters(),
        |_| called += 1,
    );
    let err = result.unwrap_err();
    assert!(matches!(err, MailError::Connect { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("does not offer STARTTLS") && text.contains("TLS is required"),
        "{text}"
    );
    assert_no_code(&text);
    assert_eq!(called, 0);
    assert!(
        sink.messages().is_empty(),
        "nothing may be delivered in plaintext"
    );
}

#[test]
fn untrusted_certificate_is_refused() {
    let py = python_or_skip!();
    let cert = harness::self_signed();
    let sink = tls_sink(&py, &cert, &[]);
    let mut s = settings(sink.port, &cert);
    s.extra_root_pem = Some(harness::self_signed().trust_pem); // some other certificate
    let (deliveries, _, result) = run_send(&s, &MailTemplate::default(), &voters());
    let err = result.unwrap_err();
    assert!(matches!(err, MailError::Connect { .. }), "{err:?}");
    assert!(err.to_string().contains("TLS failed"), "{err}");
    assert!(deliveries.is_empty());
    assert!(sink.messages().is_empty());
}

#[test]
fn unreachable_server_is_an_error_before_sending() {
    // A port nothing listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut s = MailSettings::new(format!("smtp://127.0.0.1:{port}"), "e@example.org");
    s.attempts = 2;
    s.retry_delay = Duration::from_millis(1);
    let (deliveries, _, result) = run_send(&s, &MailTemplate::default(), &voters());
    assert!(
        matches!(result, Err(MailError::Connect { .. })),
        "{result:?}"
    );
    assert!(deliveries.is_empty());
}

#[test]
fn server_lost_mid_run_stops_the_run() {
    let py = python_or_skip!();
    let cert = harness::self_signed();
    let mut sink = tls_sink(&py, &cert, &[]);
    let mut s = settings(sink.port, &cert);
    s.attempts = 2;
    let many: Vec<Recipient<'static>> = (0..6)
        .map(|i| Recipient {
            voter_id: ["A", "B", "C", "D", "E", "F"][i],
            email: "x@example.org",
            name: None,
            code: CODES[i % CODES.len()],
        })
        .collect();
    let mut deliveries = Vec::new();
    let result = send_all(&s, &MailTemplate::default(), &context(), &many, |d| {
        deliveries.push(d.clone());
        if deliveries.len() == 1 {
            sink.stop();
        }
    });
    let err = result.unwrap_err();
    match &err {
        MailError::ConnectionLost {
            processed, total, ..
        } => {
            assert_eq!((*processed, *total), (1 + MAX_CONSECUTIVE_UNREACHABLE, 6));
        }
        other => panic!("expected ConnectionLost, got {other:?}"),
    }
    assert_no_code(&err.to_string());
    assert_eq!(deliveries[0].status, DeliveryStatus::Sent);
    for d in &deliveries[1..] {
        assert_eq!((d.status, d.attempts), (DeliveryStatus::Failed, 2), "{d:?}");
        assert_no_code(&d.detail);
    }
}

// --- (5) templates -----------------------------------------------------------------------

#[test]
fn default_templates_are_valid() {
    MailTemplate::default()
        .check(&MailContext::new("E", "https://x"))
        .unwrap();
    MailTemplate::default_for(&context())
        .check(&context())
        .unwrap();
    let bare = MailContext::new("E", "https://x");
    let t = MailTemplate::default_for(&bare);
    t.check(&bare).unwrap();
    assert!(!t.body.contains("{opens}") && !t.body.contains("{contact}"));
    assert!(!MailTemplate::default().uses_name());
    let literal = MailTemplate {
        subject: "S".into(),
        body: "{{name}} {code}".into(),
    };
    assert!(
        !literal.uses_name(),
        "a literal {{name}} is not the placeholder"
    );
}

#[test]
fn template_file_format() {
    let t = MailTemplate::parse(
        "\u{feff}subject:  Code for {election} \r\n\r\nDear {name},\r\n{{literal}} {code}\r\n",
    )
    .unwrap();
    assert_eq!(t.subject, "Code for {election}");
    assert_eq!(t.body, "Dear {name},\n{{literal}} {code}\n");
    assert!(t.uses_name());
    let r = Recipient {
        voter_id: "V1",
        email: "a@b.c",
        name: Some("Ann"),
        code: CODES[0],
    };
    let m = t.render(&context(), &r).unwrap();
    assert_eq!(m.subject, "Code for Board Election 2025");
    assert_eq!(m.body, format!("Dear Ann,\n{{literal}} {}\n", CODES[0]));
    assert_no_code(&format!("{m:?}"));
    assert_no_code(&format!("{r:?}"));

    assert!(matches!(
        MailTemplate::parse("Hello\n\n{code}"),
        Err(TemplateError::Format { line: 1, .. })
    ));
    assert!(matches!(
        MailTemplate::parse("Subject: x\nbody {code}"),
        Err(TemplateError::Format { line: 2, .. })
    ));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.txt");
    std::fs::write(&path, "Subject: S\n\n{code}\n").unwrap();
    assert_eq!(MailTemplate::from_file(&path).unwrap().body, "{code}\n");
    assert!(matches!(
        MailTemplate::from_file(&dir.path().join("missing")),
        Err(TemplateError::Read { .. })
    ));
}

#[test]
fn template_errors_are_typed_and_early() {
    let t = |subject: &str, body: &str| MailTemplate {
        subject: subject.into(),
        body: body.into(),
    };
    let err = t("S", "{code} {nmae}").validate().unwrap_err();
    match &err {
        TemplateError::UnknownPlaceholder {
            placeholder,
            part,
            line,
        } => {
            assert_eq!(
                (placeholder.as_str(), *part, *line),
                ("{nmae}", TemplatePart::Body, 1)
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("{nmae}") && err.to_string().contains("{voter_id}"));
    assert!(matches!(
        t("S {x}", "{code}").validate(),
        Err(TemplateError::UnknownPlaceholder {
            part: TemplatePart::Subject,
            ..
        })
    ));
    assert!(matches!(
        t("S", "no code here").validate(),
        Err(TemplateError::MissingCode)
    ));
    assert!(matches!(
        t("S {code}", "{code}").validate(),
        Err(TemplateError::CodeInSubject)
    ));
    assert!(matches!(
        t("", "{code}").validate(),
        Err(TemplateError::Subject { .. })
    ));
    assert!(matches!(
        t("a\r\nBcc: x@y.z", "{code}").validate(),
        Err(TemplateError::Subject { .. })
    ));
    assert!(matches!(
        t("S", "{code}\n{ code").validate(),
        Err(TemplateError::Syntax { line: 2, .. })
    ));
    assert!(matches!(
        t("S", "{code} }").validate(),
        Err(TemplateError::Syntax { .. })
    ));
    assert!(matches!(
        t("S", "{co\nde}").validate(),
        Err(TemplateError::Syntax { .. })
    ));

    // A value the context lacks is an error at check time, naming the placeholder...
    let mut ctx = context();
    ctx.opens = None;
    let err = t("S", "{code} opens {opens}").check(&ctx).unwrap_err();
    assert!(matches!(
        err,
        TemplateError::MissingValue {
            placeholder: "{opens}"
        }
    ));
    assert!(err.to_string().contains("{opens}"));
    ctx.contact = Some("  ".into());
    assert!(matches!(
        t("S", "{code} {contact}").check(&ctx),
        Err(TemplateError::MissingValue {
            placeholder: "{contact}"
        })
    ));
    // ...and so is a line break in a value used in the subject.
    ctx.election = "Vote\r\nBcc: all@example.org".into();
    assert!(matches!(
        t("{election}", "{code}").check(&ctx),
        Err(TemplateError::BadValue { .. })
    ));
    t("S", "{election} {code}").check(&ctx).unwrap();

    // send_all reports template problems before connecting (port 9 is never used here).
    let s = MailSettings::new("smtp://127.0.0.1:9", "e@example.org");
    let (d, _, result) = run_send(&s, &t("S", "{code} {closes} {nope}"), &voters());
    assert!(matches!(
        result,
        Err(MailError::Template(
            TemplateError::UnknownPlaceholder { .. }
        ))
    ));
    assert!(d.is_empty());
    let (_, _, result) = run_send(&s, &t("Hi {name}", "{code}"), &voters());
    match result {
        Err(MailError::Recipient { voter_id, reason }) => {
            assert_eq!(voter_id, "V-003");
            assert!(reason.contains("{name}"));
        }
        other => panic!("{other:?}"),
    }
}

// --- (6) codes never leak ----------------------------------------------------------------

#[test]
fn no_code_in_errors_debug_or_report() {
    let r = Recipient {
        voter_id: "V-9",
        email: "bad\r\naddress",
        name: None,
        code: CODES[3],
    };
    assert_no_code(&format!("{r:?}"));
    let s = MailSettings::new("smtp://127.0.0.1:9", "e@example.org");
    let bad = [
        Recipient { code: "", ..r },
        Recipient {
            email: "no-at-sign",
            ..r
        },
        Recipient {
            email: "two@@example.org",
            ..r
        },
        Recipient {
            email: "ok@example.org",
            code: "EPD\n-WP9",
            ..r
        },
        Recipient {
            email: "ok@example.org",
            name: Some("Eve\nBcc: x@y.z"),
            ..r
        },
        // Columns swapped by mistake: the code must not be echoed as "the address".
        Recipient {
            email: CODES[3],
            ..r
        },
        Recipient {
            email: "ok@example.org",
            name: Some(CODES[3]),
            code: "",
            ..r
        },
    ];
    for b in bad {
        let (_, _, result) = run_send(&s, &MailTemplate::default(), &[b]);
        let err = result.unwrap_err();
        assert!(
            matches!(&err, MailError::Recipient { voter_id, .. } if voter_id == "V-9"),
            "{err:?}"
        );
        assert!(!err.to_string().contains("EPD"), "{err}");
    }
    // A detail that somehow held the code is scrubbed.
    let scrubbed = scrub(
        &format!("550 nope {}\r\n", CODES[0]),
        &[CODES[0].to_owned()],
    );
    assert_eq!(scrubbed, "550 nope [redacted]");
    let d = Delivery {
        voter_id: "V-1".into(),
        email: "a@b.c".into(),
        status: DeliveryStatus::Failed,
        attempts: 2,
        detail: scrubbed,
    };
    let mut out = Vec::new();
    write_report_row(&mut out, &d).unwrap();
    assert_no_code(&String::from_utf8(out).unwrap());
}

// --- (7) header injection ----------------------------------------------------------------

#[test]
fn header_injection_is_refused_before_sending() {
    let s = MailSettings::new("smtp://127.0.0.1:9", "e@example.org");
    let ok = voters()[0];
    for email in [
        "alice@example.org\r\nBcc: everyone@example.org",
        "alice@example.org\nBcc: everyone@example.org",
        "alice@example.org\rX: y",
        "alice.example.org",
    ] {
        let rs = [
            ok,
            Recipient {
                voter_id: "V-EVIL",
                email,
                ..ok
            },
        ];
        let (d, _, result) = run_send(&s, &MailTemplate::default(), &rs);
        match result {
            Err(MailError::Recipient { voter_id, .. }) => assert_eq!(voter_id, "V-EVIL"),
            other => panic!("{email:?}: {other:?}"),
        }
        assert!(
            d.is_empty(),
            "nothing is sent, not even to the valid voter first"
        );
    }
    let rs = [Recipient {
        name: Some("Alice\r\nBcc: everyone@example.org"),
        ..ok
    }];
    assert!(matches!(
        run_send(&s, &MailTemplate::default(), &rs).2,
        Err(MailError::Recipient { .. })
    ));
    let mut bad_from = s.clone();
    bad_from.from = "Office <e@example.org>\r\nBcc: everyone@example.org".into();
    assert!(matches!(
        run_send(&bad_from, &MailTemplate::default(), &[ok]).2,
        Err(MailError::Sender { .. })
    ));
    bad_from.from = "Office".into();
    assert!(matches!(
        run_send(&bad_from, &MailTemplate::default(), &[ok]).2,
        Err(MailError::Sender { .. })
    ));
    let dup = [ok, ok];
    assert!(matches!(
        run_send(&s, &MailTemplate::default(), &dup).2,
        Err(MailError::Recipient { .. })
    ));
}

// --- URL and settings --------------------------------------------------------------------

#[test]
fn url_defaults_to_tls() {
    let e = parse_smtp_url("smtp://mail.example.org").unwrap();
    assert_eq!((e.tls, e.port), (TlsMode::StartTls, 587));
    let e = parse_smtp_url("smtp://mail.example.org:2525?tls=required").unwrap();
    assert_eq!((e.tls, e.port), (TlsMode::StartTls, 2525));
    let e = parse_smtp_url("SMTPS://u%40x:p%3Aw@mail.example.org").unwrap();
    assert_eq!((e.tls, e.port), (TlsMode::Implicit, 465));
    assert_eq!(
        (e.user.as_deref(), e.password.as_deref()),
        (Some("u@x"), Some("p:w"))
    );
    let e = parse_smtp_url("smtp://localhost?tls=none&ehlo=registrar.example.org").unwrap();
    assert_eq!(
        (e.tls, e.port, e.ehlo.as_deref()),
        (TlsMode::Plaintext, 25, Some("registrar.example.org"))
    );
    let e = parse_smtp_url("smtp://[::1]:2525?tls=none").unwrap();
    assert_eq!(
        (e.host.as_str(), e.display()),
        ("::1", "smtp://[::1]:2525".to_owned())
    );
    parse_smtp_url("smtp://127.0.0.2?tls=none").unwrap();

    for bad in [
        "smtp://mail.example.org?tls=none",
        "smtp://10.0.0.1?tls=none",
        "smtp://mail.example.org?tls=opportunistic",
        "smtps://mail.example.org?tls=none",
        "smtp://mail.example.org?tls=maybe",
        "smtp://mail.example.org?foo=1",
        "smtp://mail.example.org/ehlo-name",
        "http://mail.example.org",
        "smtp://",
        "mail.example.org:587",
        "smtp://mail.example.org?tls=required&tls=none",
    ] {
        assert!(
            matches!(parse_smtp_url(bad), Err(MailError::Url { .. })),
            "{bad}"
        );
    }
    let err = parse_smtp_url("smtp://u:hunter2@mail.example.org?tls=none")
        .err()
        .unwrap();
    assert!(!err.to_string().contains("hunter2"));
}

#[test]
fn settings_are_checked() {
    let mut s = MailSettings::new("smtps://u:pw@mail.example.org", "e@example.org");
    s.password = Some("other".into());
    assert!(matches!(prepare(&s), Err(MailError::Settings { .. })));
    s.smtp_url = "smtps://mail.example.org".into();
    assert!(
        matches!(prepare(&s), Err(MailError::Settings { .. })),
        "password without user"
    );
    s.username = Some("u".into());
    assert!(prepare(&s).is_ok());
    s.timeout = Duration::ZERO;
    assert!(matches!(prepare(&s), Err(MailError::Settings { .. })));
    s.timeout = DEFAULT_TIMEOUT;
    s.extra_root_pem = Some(b"not a certificate".to_vec());
    assert!(matches!(prepare(&s), Err(MailError::Tls { .. })));
    s.extra_root_pem =
        Some(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec());
    assert!(matches!(prepare(&s), Err(MailError::Tls { .. })));
    let dbg = format!("{:?}", MailSettings::new("smtps://u:hunter2@h", "e@x.y"));
    assert!(!dbg.contains("hunter2"), "{dbg}");
    // No recipients: settings are checked, no connection is made.
    let s = MailSettings::new("smtp://127.0.0.1:9", "e@example.org");
    let r = send_all(&s, &MailTemplate::default(), &context(), &[], |_| {});
    assert_eq!(r.unwrap(), DeliverySummary::default());
}

#[test]
fn report_csv_quoting() {
    let d = Delivery {
        voter_id: "V,1".into(),
        email: "a@b.c".into(),
        status: DeliveryStatus::Failed,
        attempts: 3,
        detail: "550 \"no\" such user\nsecond line".into(),
    };
    let mut w = ReportWriter::new(Vec::new()).unwrap();
    w.write(&d).unwrap();
    let text = String::from_utf8(w.into_inner()).unwrap();
    assert_eq!(
        text,
        "voter_id,email,status,attempts,detail\r\n\
         \"V,1\",a@b.c,failed,3,\"550 \"\"no\"\" such user\nsecond line\"\r\n"
    );
    let mut out = Vec::new();
    write_report_row(
        &mut out,
        &Delivery {
            voter_id: " x".into(),
            detail: String::new(),
            ..d
        },
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "\" x\",a@b.c,failed,3,\r\n"
    );
}

#[test]
fn report_failure_stops_the_run() {
    // No recipients are reachable here, so check the error path with zero recipients and
    // the type with a failing callback on a plaintext local sink when Python is present.
    let py = python_or_skip!();
    let sink = Sink::start(&py, &[]);
    let mut s = MailSettings::new(
        format!("smtp://127.0.0.1:{}?tls=none", sink.port),
        "e@example.org",
    );
    s.retry_delay = Duration::from_millis(5);
    let mut calls = 0;
    let result = try_send_all(&s, &MailTemplate::default(), &context(), &voters(), |_| {
        calls += 1;
        Err(io::Error::other("disk full"))
    });
    assert!(matches!(result, Err(MailError::Report(_))), "{result:?}");
    assert_eq!(calls, 1);
    assert_eq!(
        sink.messages().len(),
        1,
        "the run stopped after the first voter"
    );
}
