//! Tests of the letters module: the PDF's text through `pdftotext` (Debian's poppler-utils),
//! the QR code module by module, and the refusals.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use std::path::Path;
use std::process::Command;

const CODES: [&str; 3] = [
    "EPD-WP9-3QR-7P2-YEX-DJM-RZZ",
    "A*~-$=0-9ZZ-QQQ-WWW-MMM-888",
    "K7M-X2Q-9PB-TT4-ZC8-RWN-5HJ",
];

fn settings() -> LetterSettings {
    LetterSettings {
        election_title: "Board Election 2026".into(),
        booth_url: "https://vote.example.org/booth".into(),
        voting_opens: Some("1 June 2026, 08:00".into()),
        voting_closes: Some("14 June 2026, 20:00".into()),
        contact: Some("Election office, +41 44 000 00 00".into()),
        text: LetterText::default(),
    }
}

fn letters() -> Vec<Letter<'static>> {
    vec![
        Letter {
            voter_id: "V-0001",
            name: Some("Jane Doe"),
            code: CODES[0],
        },
        Letter {
            voter_id: "V-0002",
            name: None,
            code: CODES[1],
        },
        Letter {
            voter_id: "V-0003",
            name: Some("Zoë Müller"),
            code: CODES[2],
        },
    ]
}

fn render(settings: &LetterSettings, letters: Vec<Letter<'_>>) -> Result<Vec<u8>, LetterError> {
    let mut out = Vec::new();
    let pages = write_letters(settings, letters.clone(), &mut out)?;
    assert_eq!(pages, letters.len() as u64);
    Ok(out)
}

/// Whether the poppler tools can be used; panics when they are missing but required.
fn have_poppler() -> bool {
    let found = Command::new("pdftotext").arg("-v").output().is_ok()
        && Command::new("pdfinfo").arg("-v").output().is_ok();
    if !found {
        let required = std::env::var_os("TABELLA_REQUIRE_PDFTOTEXT").is_some()
            || std::env::var_os("CI").is_some();
        assert!(
            !required,
            "pdftotext/pdfinfo (poppler-utils) are missing, but TABELLA_REQUIRE_PDFTOTEXT or \
             CI is set: install poppler-utils (apt-get install poppler-utils)"
        );
        eprintln!("skipping: pdftotext/pdfinfo (poppler-utils) not installed");
    }
    found
}

fn run(program: &str, args: &[&str], file: &Path) -> String {
    let output = Command::new(program)
        .args(args)
        .arg(file)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{program} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "{program} complained: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn page_text(file: &Path, page: usize) -> String {
    let page = page.to_string();
    run("pdftotext", &["-f", &page, "-l", &page], file)
}

fn temp_pdf(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
    file.write_all(bytes).unwrap();
    file.flush().unwrap();
    file
}

#[test]
fn every_page_shows_its_voter_and_the_election() {
    if !have_poppler() {
        return;
    }
    let settings = settings();
    let letters = letters();
    let file = temp_pdf(&render(&settings, letters.clone()).unwrap());

    // pdfinfo has no "-" output argument; run it directly.
    let info = Command::new("pdfinfo").arg(file.path()).output().unwrap();
    assert!(info.status.success());
    let info = String::from_utf8(info.stdout).unwrap();
    assert!(
        info.lines()
            .any(|l| l.split_whitespace().eq(["Pages:", "3"])),
        "{info}"
    );
    assert!(info.contains("Board Election 2026"), "{info}");
    assert!(info.contains("Tabella"), "{info}");

    for (n, letter) in letters.iter().enumerate() {
        let text = page_text(file.path(), n + 1);
        for expected in [
            letter.voter_id,
            letter.code,
            "Board Election 2026",
            "https://vote.example.org/booth",
            "Voting opens: 1 June 2026, 08:00",
            "Voting closes: 14 June 2026, 20:00",
            "Contact: Election office, +41 44 000 00 00",
            "How to vote",
            "only your last ballot counts",
        ] {
            assert!(
                text.contains(expected),
                "page {} lacks {expected:?}:\n{text}",
                n + 1
            );
        }
        for group in letter.code.split('-') {
            assert!(text.contains(group));
        }
        if let Some(name) = letter.name {
            assert!(text.contains(&format!("For: {name}")), "{text}");
        } else {
            assert!(!text.contains("For:"), "{text}");
        }
        // No other voter's id or code is on this page.
        for (m, other) in letters.iter().enumerate() {
            if m != n {
                assert!(!text.contains(other.voter_id) && !text.contains(other.code));
            }
        }
    }
}

#[test]
fn optional_lines_are_left_out() {
    if !have_poppler() {
        return;
    }
    let settings = LetterSettings {
        voting_opens: None,
        voting_closes: Some("  ".into()),
        contact: None,
        ..settings()
    };
    let file = temp_pdf(&render(&settings, letters()).unwrap());
    let text = page_text(file.path(), 1);
    assert!(
        !text.contains("Voting opens") && !text.contains("Voting closes"),
        "{text}"
    );
    assert!(!text.contains("Contact:"), "{text}");
    assert!(text.contains(CODES[0]));
}

#[test]
fn a_translation_overrides_only_its_keys() {
    let text: LetterText = serde_json::from_str(
        r#"{"code_label": "Ihr persönlicher Zugangscode", "booth_label": "Hier wählen Sie"}"#,
    )
    .unwrap();
    assert_eq!(text.steps, LetterText::default().steps);
    assert!(serde_json::from_str::<LetterText>(r#"{"code_lable": "x"}"#).is_err());
    if !have_poppler() {
        return;
    }
    let settings = LetterSettings { text, ..settings() };
    let file = temp_pdf(&render(&settings, letters()).unwrap());
    let page = page_text(file.path(), 2);
    assert!(page.contains("Ihr persönlicher Zugangscode"), "{page}");
    assert!(page.contains("Hier wählen Sie"), "{page}");
    assert!(!page.contains("Your credential code") && !page.contains("Where to vote"));
    assert!(
        page.contains("How to vote") && page.contains("Voter ID: V-0002"),
        "{page}"
    );
}

#[test]
fn unprintable_and_control_characters_are_refused() {
    let mut bad = settings();
    bad.election_title = "Выборы 2026".into();
    match render(&bad, letters()) {
        Err(LetterError::Unprintable {
            what: "election title",
            voter_id: None,
            ch: 'В',
        }) => {}
        other => panic!("{other:?}"),
    }

    let mut bad = settings();
    bad.text.steps.push("Ring the bell\u{7}".into());
    match render(&bad, letters()) {
        Err(
            error @ LetterError::Unprintable {
                what: "text.steps",
                ch: '\u{7}',
                ..
            },
        ) => {
            assert!(
                error.to_string().contains("control character U+0007"),
                "{error}"
            );
        }
        other => panic!("{other:?}"),
    }

    let mut bad = settings();
    bad.contact = Some("Office\nRoom 1".into());
    assert!(matches!(
        render(&bad, letters()),
        Err(LetterError::Unprintable {
            what: "contact",
            ch: '\n',
            ..
        })
    ));

    let mut letters = letters();
    letters[1].name = Some("Ζωή");
    match render(&settings(), letters) {
        Err(
            error @ LetterError::Unprintable {
                what: "voter name",
                ch: 'Ζ',
                ..
            },
        ) => {
            let message = error.to_string();
            assert!(
                message.contains("\"V-0002\"") && message.contains("U+0396"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }

    // WinAnsi's own characters beyond Latin-1 are fine: € – “ ” Š œ.
    let mut fine = settings();
    fine.contact = Some("Fee: 0 € – “free” – Š œ".into());
    render(&fine, self::letters()).unwrap();
    // The soft hyphen would print as a visible hyphen: refused.
    assert_eq!(winansi('\u{AD}'), None);
    assert_eq!(winansi('\u{A0}'), Some(0xA0));
    assert_eq!(winansi('ÿ'), Some(0xFF));
    assert_eq!(winansi('\u{80}'), None);
    assert_eq!(winansi('\u{7F}'), None);
}

#[test]
fn malformed_codes_are_refused_without_showing_them() {
    for code in [
        "EPD-WP9-3QR-7P2-YEX-DJM",      // six groups
        "EPD-WP9-3QR-7P2-YEX-DJM-RZZ-", // trailing hyphen
        "EPDWP93QR7P2YEXDJMRZZ",        // no hyphens
        "epd-wp9-3qr-7p2-yex-djm-rzz",  // lower case
        "EPD-WP9-3QR-7P2-YEX-DJM-RZ!",  // outside the alphabet
        "EPD WP9 3QR 7P2 YEX DJM RZZ",  // spaces
        "EPD-WP9-3QR-7P2-YEX-DJM-RZÉ",  // not ASCII
    ] {
        let mut letters = letters();
        letters[2].code = code;
        let error = render(&settings(), letters).unwrap_err();
        assert!(matches!(&error, LetterError::BadCode { voter_id } if voter_id == "V-0003"));
        for shown in [error.to_string(), format!("{error:?}")] {
            assert!(!shown.contains(code) && !shown.contains("RZ"), "{shown}");
            assert!(shown.contains("V-0003"), "{shown}");
        }
    }
    let letter = letters()[0];
    let debug = format!("{letter:?}");
    assert!(!debug.contains(CODES[0]) && !debug.contains("EPD") && debug.contains("V-0001"));
}

#[test]
fn other_errors() {
    let mut bad = settings();
    bad.booth_url = "  ".into();
    assert!(matches!(
        render(&bad, letters()),
        Err(LetterError::EmptyBoothUrl)
    ));
    bad.booth_url = format!("https://example.org/{}", "x".repeat(3000));
    assert!(matches!(
        render(&bad, letters()),
        Err(LetterError::QrCode { .. })
    ));

    let mut out = Vec::new();
    assert!(matches!(
        write_letters(&settings(), Vec::new(), &mut out),
        Err(LetterError::NoLetters)
    ));
    assert!(out.is_empty());

    let mut letters = letters();
    letters[1].voter_id = " ";
    assert!(matches!(
        render(&settings(), letters),
        Err(LetterError::EmptyVoterId { number: 2 })
    ));

    let mut letters = self::letters();
    let long_name = "Maximiliana Theodora ".repeat(12);
    letters[0].name = Some(&long_name);
    assert!(matches!(
        render(&settings(), letters),
        Err(LetterError::DoesNotFit { voter_id: Some(id), .. }) if id == "V-0001"
    ));
    // Two lines of name still fit.
    let mut letters = self::letters();
    let name = "Maximiliana Theodora ".repeat(3);
    letters[0].name = Some(&name);
    render(&settings(), letters).unwrap();

    let mut bad = settings();
    bad.text.steps = vec!["A long instruction that goes on and on. ".repeat(20); 8];
    assert!(matches!(
        render(&bad, self::letters()),
        Err(LetterError::DoesNotFit { voter_id: None, .. })
    ));

    // Nothing is written when a later letter fails.
    let mut letters = self::letters();
    letters[2].code = "nope";
    let mut out = Vec::new();
    assert!(write_letters(&settings(), letters, &mut out).is_err());
    assert!(out.is_empty());
}

#[test]
fn output_is_deterministic_and_shares_the_frame_and_qr_code() {
    let many: Vec<Letter<'_>> = (0..600).map(|i| letters()[i % 3]).collect();
    let a = render(&settings(), many.clone()).unwrap();
    let b = render(&settings(), many).unwrap();
    assert_eq!(a, b);
    let count = |needle: &[u8]| a.windows(needle.len()).filter(|w| *w == needle).count();
    // Exactly two Form XObjects (the frame and the QR code) for 600 pages, three fonts,
    // and the page tree's root plus three groups of at most 256 pages.
    assert_eq!(count(b"/Subtype/Form"), 2);
    assert_eq!(count(b"/Type/Font"), 3);
    assert_eq!(count(b"/Type/Pages"), 4);
    assert_eq!(count(b"/Type/Page/") + count(b"/Type/Page>"), 600);
    assert!(a.len() < 600 * 600, "{} bytes for 600 pages", a.len());
    // The code is not in the shared frame: each page's content holds its own.
    assert!(count(b"/Count 600") == 1);
}

/// Parses the rectangles of `qr_content` back into a module matrix.
fn modules_drawn(content: &[u8], width: usize) -> Vec<bool> {
    let text = std::str::from_utf8(content).unwrap();
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let mut grid = vec![false; width * width];
    let mut rects = 0;
    for (i, token) in tokens.iter().enumerate() {
        match *token {
            "re" => {
                let n: Vec<f32> = tokens[i - 4..i]
                    .iter()
                    .map(|t| t.parse().unwrap())
                    .collect();
                let (x, y, w, h) = (n[0], n[1], n[2], n[3]);
                assert!(x.fract() == 0.0 && y.fract() == 0.0 && w.fract() == 0.0 && h == 1.0);
                assert!(w >= 1.0 && x + w <= width as f32 && y >= 0.0 && y < width as f32);
                let row = width - 1 - y as usize;
                for column in x as usize..(x + w) as usize {
                    let cell = &mut grid[row * width + column];
                    assert!(!*cell, "module ({row}, {column}) drawn twice");
                    *cell = true;
                }
                rects += 1;
            }
            "0" | "g" | "f" => {}
            other => assert!(other.parse::<f32>().is_ok(), "unexpected operator {other}"),
        }
    }
    assert!(rects > 0);
    assert_eq!(
        tokens.iter().filter(|t| **t == "f").count(),
        1,
        "one fill for all"
    );
    grid
}

#[test]
fn the_qr_code_draws_exactly_the_dark_modules() {
    for url in [
        "https://vote.example.org/booth",
        "x",
        &format!("https://e.org/{}", "a".repeat(300)),
    ] {
        let qr = QrCode::with_error_correction_level(url, EcLevel::M).unwrap();
        let width = qr.width();
        let expected: Vec<bool> = qr.to_colors().iter().map(|c| *c == Color::Dark).collect();
        let drawn = modules_drawn(&qr_content(&qr), width);
        assert_eq!(drawn, expected, "{url}");
    }
    // And what the PDF holds is that drawing of the booth URL.
    let frame = Frame::new(&settings()).unwrap();
    let qr =
        QrCode::with_error_correction_level("https://vote.example.org/booth", EcLevel::M).unwrap();
    assert_eq!(frame.qr_content, qr_content(&qr));
    assert_eq!(frame.qr_width, qr.width() as f32);
}

/// With zbarimg (zbar-tools) and pdftoppm installed, a real decoder reads the printed QR
/// code back; skipped otherwise.
#[test]
fn the_printed_qr_code_scans_as_the_booth_url() {
    let zbar = Command::new("zbarimg").arg("--version").output().is_ok();
    let pdftoppm = Command::new("pdftoppm").arg("-v").output().is_ok();
    if !zbar || !pdftoppm {
        eprintln!("skipping: zbarimg or pdftoppm not installed");
        return;
    }
    let file = temp_pdf(&render(&settings(), letters()).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("page");
    let status = Command::new("pdftoppm")
        .args(["-png", "-r", "100", "-f", "1", "-l", "1", "-singlefile"])
        .arg(file.path())
        .arg(&prefix)
        .status()
        .unwrap();
    assert!(status.success());
    let output = Command::new("zbarimg")
        .args(["-q", "--raw"])
        .arg(dir.path().join("page.png"))
        .output()
        .unwrap();
    let decoded = String::from_utf8(output.stdout).unwrap();
    // Exactly one symbol on the page, holding the URL and nothing else.
    assert_eq!(decoded.trim_end(), "https://vote.example.org/booth");
}

#[test]
fn wrapping_uses_the_real_widths() {
    // "Hello" in Helvetica: H 722 + e 556 + l 222 + l 222 + o 556 = 2278.
    assert!((text_width(b"Hello", Font::Regular, 10.0) - 22.78).abs() < 1e-4);
    // Helvetica-Bold: 722 + 556 + 278 + 278 + 611 = 2445.
    assert!((text_width(b"Hello", Font::Bold, 10.0) - 24.45).abs() < 1e-4);
    assert!((text_width(b"ABC", Font::Mono, 10.0) - 18.0).abs() < 1e-4);
    assert_eq!(Font::Regular.width(0xE9), 556); // é
    assert_eq!(Font::Regular.width(0x80), 556); // €
    assert_eq!(Font::Bold.width(0x97), 1000); // —
    let regular = style(Font::Regular, 10.0, 12.0, 0.0);
    let bold = style(Font::Bold, 15.0, 19.0, 0.0);
    let lines = wrap(
        b"aaa bbb  ccc",
        regular,
        text_width(b"aaa bbb", Font::Regular, 10.0),
    );
    assert_eq!(lines, vec![b"aaa bbb".to_vec(), b"ccc".to_vec()]);
    // A word wider than the line is broken after a URL separator where there is one, else
    // between characters; nothing is lost and no line is too wide.
    let url = b"https://abstimmungen.wohnbaugenossenschaft-beispiel.ch/urnengang/2026";
    let lines = wrap(url, bold, 300.0);
    assert_eq!(lines.concat(), url.to_vec());
    assert!(lines.len() > 1);
    for line in &lines[..lines.len() - 1] {
        assert!(line.ends_with(b".") || line.ends_with(b"/"), "{lines:?}");
    }
    let word = b"WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW/WWWWWWWWWWWWWW";
    for width in [40.0, 100.0, 200.0] {
        let lines = wrap(word, bold, width);
        assert_eq!(lines.concat(), word.to_vec());
        assert!(lines
            .iter()
            .all(|l| text_width(l, Font::Bold, 15.0) <= width));
    }
    let url = b"https://vote.example.org/a/very/long/path/that/does/not/fit";
    let lines = wrap(url, bold, 100.0);
    assert!(lines.len() > 2);
    assert!(lines
        .iter()
        .all(|l| text_width(l, Font::Bold, 15.0) <= 100.0));
    assert_eq!(lines.concat(), url.to_vec());
    assert!(wrap(b"   ", regular, 100.0).is_empty());
}
