//! Printable voter credential letters, rendered as one PDF with one A4 page per voter.
//!
//! Election officials (or an independent registrar) draw a secret credential code for every
//! voter offline and must deliver it on paper. [`write_letters`] renders the letters of one
//! election: each page shows the election title, the voter's id and name, the credential code
//! (large, monospaced, in its groups of three), the booth address as text and as a QR code, the
//! voting dates, numbered instructions and a contact line.
//!
//! Every visible word comes from [`LetterText`], which officials can translate with a JSON file
//! that overrides only some of its keys.
//!
//! The PDF uses only the standard fonts Helvetica, Helvetica-Bold and Courier-Bold with
//! `WinAnsiEncoding` (nothing is embedded), so every text must be printable in Windows-1252: a
//! character outside it, or a control character, is refused with
//! [`LetterError::Unprintable`] rather than printed as a stand-in. Everything that is the same on
//! every page (the title, the address, the QR code, the instructions) is drawn once into shared
//! Form XObjects; a page holds only its voter's lines, so 100,000 letters stay a small file. The
//! file is built in memory and written to the output only once every letter has been rendered:
//! on an error nothing is written.
//!
//! The credential code is secret: it is never part of an error message or of `Debug` output.

use std::fmt;
use std::io::Write;

use flate2::{Compress, Compression, FlushCompress, Status};
use pdf_writer::{Content, Filter, Name, Pdf, Rect, Ref, Str, TextStr};
use qrcode::{Color, EcLevel, QrCode};
use serde::{Deserialize, Serialize};

/// Every visible string of a letter, in one language.
///
/// `Default` is plain English. A translation is read from JSON (for example with
/// `serde_json::from_str::<LetterText>`): keys left out keep their English text, unknown keys
/// are refused (so a misspelt key is not silently ignored). Labels are printed followed by a
/// space and their value ("Voter ID: 0001"), so they carry their own punctuation. The
/// instructions are a list: a translation that gives `steps` replaces all of them; they are
/// numbered when printed. `Serialize` writes the whole text out, e.g. as a template to translate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LetterText {
    /// The line under the election title.
    pub subtitle: String,
    /// The label before the voter's name.
    pub name_label: String,
    /// The label before the voter's id.
    pub voter_id_label: String,
    /// The caption inside the box with the credential code.
    pub code_label: String,
    /// The heading over the booth address.
    pub booth_label: String,
    /// The caption under the QR code.
    pub qr_caption: String,
    /// The label before the time voting opens.
    pub opens_label: String,
    /// The label before the time voting closes.
    pub closes_label: String,
    /// The heading over the instructions.
    pub steps_heading: String,
    /// The instructions, one string per step, numbered when printed.
    pub steps: Vec<String>,
    /// The label before the contact line.
    pub contact_label: String,
}

impl Default for LetterText {
    fn default() -> Self {
        LetterText {
            subtitle: "Your personal voting credential".into(),
            name_label: "For:".into(),
            voter_id_label: "Voter ID:".into(),
            code_label: "Your credential code".into(),
            booth_label: "Where to vote".into(),
            qr_caption: "Scan to open the voting page".into(),
            opens_label: "Voting opens:".into(),
            closes_label: "Voting closes:".into(),
            steps_heading: "How to vote".into(),
            steps: vec![
                "Go to the voting address above, or scan the QR code with your phone's camera."
                    .into(),
                "Enter your credential code exactly as it is printed on this letter.".into(),
                "Make your choices, check them, and cast your ballot.".into(),
                "Keep this letter private: anyone who has your code can vote in your name.".into(),
                "You can vote again while voting is open; only your last ballot counts.".into(),
                "If you lose this letter, or think someone else has seen your code, contact the \
                 election officials straight away."
                    .into(),
            ],
            contact_label: "Contact:".into(),
        }
    }
}

/// What every letter of one election says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterSettings {
    /// The election's title, the heading of every letter and the PDF's document title.
    pub election_title: String,
    /// The booth's address, printed as text and as a QR code (the QR code holds only this).
    pub booth_url: String,
    /// When voting opens, as the officials wrote it (printed as given); `None` or blank leaves
    /// the line out.
    pub voting_opens: Option<String>,
    /// When voting closes, as the officials wrote it; `None` or blank leaves the line out.
    pub voting_closes: Option<String>,
    /// Whom to contact (an office, a telephone number, an address); `None` or blank leaves the
    /// line out.
    pub contact: Option<String>,
    /// The letter's words.
    pub text: LetterText,
}

/// One voter's letter.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Letter<'a> {
    /// The voter's id, printed on the letter and named in errors.
    pub voter_id: &'a str,
    /// The voter's name, if the letter should show it.
    pub name: Option<&'a str>,
    /// The credential code as printed: 21 characters in 7 groups of 3 joined by hyphens.
    pub code: &'a str,
}

impl fmt::Debug for Letter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Letter")
            .field("voter_id", &self.voter_id)
            .field("name", &self.name)
            .field("code", &"<secret>")
            .finish()
    }
}

/// Why letters could not be rendered. No variant ever holds a credential code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LetterError {
    /// A text holds a character the letter's fonts cannot print: a character outside
    /// Windows-1252 (WinAnsi), or a control character.
    #[error("{}", unprintable_message(.what, .voter_id.as_deref(), *.ch))]
    Unprintable {
        /// Which text holds it ("election title", "text.steps", "voter name", ...).
        what: &'static str,
        /// The voter whose letter it is in, for a voter's own text (id or name).
        voter_id: Option<String>,
        /// The character.
        ch: char,
    },
    /// A credential code is not 7 groups of 3 characters from `0-9A-Z*~$=` joined by hyphens.
    #[error(
        "the credential code of voter {voter_id:?} is not 7 groups of 3 characters \
         (0-9, A-Z, *, ~, $, =) joined by hyphens"
    )]
    BadCode {
        /// The voter whose code it is.
        voter_id: String,
    },
    /// The booth URL is empty (or blank).
    #[error("the booth URL is empty")]
    EmptyBoothUrl,
    /// The booth URL cannot be put into a QR code (it is too long).
    #[error("the booth URL cannot be put into a QR code: {reason}")]
    QrCode {
        /// What the QR code encoder said.
        reason: String,
    },
    /// A letter's voter id is empty (or blank).
    #[error("letter number {number} has an empty voter id")]
    EmptyVoterId {
        /// The letter's position, counting from 1.
        number: u64,
    },
    /// The text does not fit on one A4 page.
    #[error("{}", does_not_fit_message(.what, .voter_id.as_deref()))]
    DoesNotFit {
        /// Which part overflows.
        what: &'static str,
        /// The voter whose own lines overflow (the name is limited to two lines).
        voter_id: Option<String>,
    },
    /// There were no letters to render.
    #[error("there are no letters to render")]
    NoLetters,
    /// More letters than one PDF may hold.
    #[error("too many letters for one PDF (at most {max})")]
    TooManyLetters {
        /// The most letters one PDF may hold.
        max: u64,
    },
    /// Writing the PDF failed.
    #[error("writing the letters' PDF failed: {0}")]
    Io(#[from] std::io::Error),
}

fn unprintable_message(what: &str, voter_id: Option<&str>, ch: char) -> String {
    let place = match voter_id {
        Some(id) => format!("the {what} of voter {id:?}"),
        None => format!("the {what}"),
    };
    let code = u32::from(ch);
    if ch.is_control() {
        format!("{place} contains the control character U+{code:04X}, which cannot be printed")
    } else {
        format!(
            "{place} contains {ch:?} (U+{code:04X}), which the letter's fonts cannot print \
             (only Windows-1252 characters can be printed)"
        )
    }
}

fn does_not_fit_message(what: &str, voter_id: Option<&str>) -> String {
    match voter_id {
        Some(id) => format!("the {what} of voter {id:?} do not fit on the letter"),
        None => format!("the {what} do not fit on one page"),
    }
}

/// The most letters one PDF may hold (which keeps every object number far inside PDF's range).
pub const MAX_LETTERS: u64 = 10_000_000;

/// Renders one PDF, one page per letter, in the order given, into `out`; returns the page count.
///
/// The whole file is built in memory first (under 0.4 KB a letter: about 37 MB for 100,000
/// letters) and written to `out` only when every letter has been rendered, so on an error
/// nothing is written. The output is deterministic: the same settings and letters give the
/// same bytes.
///
/// # Errors
///
/// [`LetterError::Unprintable`] for a character outside Windows-1252 or a control character in
/// any text, [`LetterError::BadCode`] for a malformed code, [`LetterError::EmptyBoothUrl`],
/// [`LetterError::QrCode`] for a URL too long for a QR code, [`LetterError::EmptyVoterId`],
/// [`LetterError::DoesNotFit`] when the text overflows the page, [`LetterError::NoLetters`],
/// [`LetterError::TooManyLetters`], and [`LetterError::Io`] when writing fails.
pub fn write_letters<'a, W: Write>(
    settings: &LetterSettings,
    letters: impl IntoIterator<Item = Letter<'a>>,
    mut out: W,
) -> Result<u64, LetterError> {
    let frame = Frame::new(settings)?;

    let mut pdf = Pdf::with_settings(pdf_writer::Settings { pretty: false });
    let mut ids = Ref::new(1);
    let catalog_id = ids.bump();
    let info_id = ids.bump();
    let root_id = ids.bump();
    let font_ids = [ids.bump(), ids.bump(), ids.bump()];
    let qr_id = ids.bump();
    let frame_id = ids.bump();

    for (font, id) in FONTS.iter().zip(font_ids) {
        pdf.type1_font(id)
            .base_font(Name(font.base_font()))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    let mut deflater = Deflater::new();
    let qr_stream = deflater.compress(&frame.qr_content)?;
    {
        let mut form = pdf.form_xobject(qr_id, &qr_stream);
        form.bbox(Rect::new(0.0, 0.0, frame.qr_width, frame.qr_width));
        form.filter(Filter::FlateDecode);
    }
    let frame_stream = deflater.compress(&frame.content)?;
    {
        let mut form = pdf.form_xobject(frame_id, &frame_stream);
        form.bbox(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
        form.filter(Filter::FlateDecode);
        let mut resources = form.resources();
        font_resources(&mut resources, font_ids);
        resources.x_objects().pair(Name(QR_NAME), qr_id);
    }

    // A two-level page tree: the root holds groups of up to PAGES_PER_GROUP pages.
    let mut groups: Vec<(Ref, Vec<Ref>)> = Vec::new();
    let mut count: u64 = 0;
    for letter in letters {
        if count >= MAX_LETTERS {
            return Err(LetterError::TooManyLetters { max: MAX_LETTERS });
        }
        count += 1;
        let content = frame.page_content(&letter, count)?;
        let group = match groups.last_mut() {
            Some(group) if group.1.len() < PAGES_PER_GROUP => group,
            _ => {
                groups.push((ids.bump(), Vec::with_capacity(PAGES_PER_GROUP)));
                let last = groups.len() - 1;
                &mut groups[last]
            }
        };
        let page_id = ids.bump();
        let content_id = ids.bump();
        group.1.push(page_id);
        pdf.page(page_id).parent(group.0).contents(content_id);
        write_stream(&mut pdf, &mut deflater, content_id, &content)?;
    }
    if count == 0 {
        return Err(LetterError::NoLetters);
    }

    for (group_id, kids) in &groups {
        pdf.pages(*group_id)
            .parent(root_id)
            .kids(kids.iter().copied())
            .count(page_count(kids.len()));
    }
    {
        let mut root = pdf.pages(root_id);
        root.kids(groups.iter().map(|group| group.0))
            .count(page_count(usize::try_from(count).unwrap_or(usize::MAX)))
            .media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
        let mut resources = root.resources();
        font_resources(&mut resources, font_ids);
        resources.x_objects().pair(Name(FRAME_NAME), frame_id);
    }
    pdf.catalog(catalog_id).pages(root_id);
    let mut info = pdf.document_info(info_id);
    if !settings.election_title.trim().is_empty() {
        info.title(TextStr(settings.election_title.trim()));
    }
    info.creator(TextStr("Tabella"));
    drop(info);

    out.write_all(&pdf.finish())?;
    out.flush()?;
    Ok(count)
}

/// Pages per node of the page tree.
const PAGES_PER_GROUP: usize = 256;

fn page_count(n: usize) -> i32 {
    // Never saturates: there are at most MAX_LETTERS pages.
    i32::try_from(n).unwrap_or(i32::MAX)
}

const FRAME_NAME: &[u8] = b"Frame";
const QR_NAME: &[u8] = b"Qr";

fn font_resources(resources: &mut pdf_writer::writers::Resources<'_>, ids: [Ref; 3]) {
    let mut fonts = resources.fonts();
    for (font, id) in FONTS.iter().zip(ids) {
        fonts.pair(Name(font.resource()), id);
    }
}

/// Writes a content stream, compressed when that makes it smaller (tiny streams may not be).
fn write_stream(
    pdf: &mut Pdf,
    deflater: &mut Deflater,
    id: Ref,
    content: &[u8],
) -> std::io::Result<()> {
    let compressed = deflater.compress(content)?;
    if compressed.len() < content.len() {
        pdf.stream(id, &compressed).filter(Filter::FlateDecode);
    } else {
        pdf.stream(id, content);
    }
    Ok(())
}

/// Zlib-compresses streams (what `/FlateDecode` decodes), reusing one compressor: setting up
/// a fresh one per page costs far more than compressing a page's few hundred bytes.
struct Deflater(Compress);

impl Deflater {
    fn new() -> Self {
        Deflater(Compress::new(Compression::best(), true))
    }

    fn compress(&mut self, data: &[u8]) -> std::io::Result<Vec<u8>> {
        self.0.reset();
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        // Every round either finishes or has more room to write into; the bound is a guard.
        for _ in 0..64 {
            let consumed = usize::try_from(self.0.total_in()).unwrap_or(usize::MAX);
            let rest = data.get(consumed..).unwrap_or_default();
            match self
                .0
                .compress_vec(rest, &mut out, FlushCompress::Finish)
                .map_err(std::io::Error::other)?
            {
                Status::StreamEnd => return Ok(out),
                Status::Ok | Status::BufError => out.reserve(out.capacity().max(64)),
            }
        }
        Err(std::io::Error::other(
            "compressing a content stream did not finish",
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Layout. PDF points (1/72 inch), origin at the bottom left of an A4 page.

const PAGE_WIDTH: f32 = 595.276;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN_X: f32 = 62.0;
const MARGIN_TOP: f32 = 58.0;
const MARGIN_BOTTOM: f32 = 50.0;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN_X;

/// The side of the QR code's dark area (its quiet zone of four modules lies around it).
const QR_SIZE: f32 = 112.0;
const QR_QUIET_MODULES: f32 = 4.0;

/// Lines (name and voter id) a voter's own block may take.
const PERSONAL_LINES: usize = 3;
const PERSONAL_LEADING: f32 = 17.0;

const CODE_SIZE: f32 = 24.0;
const CODE_SPACING: f32 = 1.5;
const CODE_BOX_HEIGHT: f32 = 72.0;

const TEXT_GRAY: f32 = 0.0;
const MUTED_GRAY: f32 = 0.33;
const RULE_GRAY: f32 = 0.6;
const HYPHEN_GRAY: f32 = 0.55;

/// How a kind of text is set: font, size and line distance in points, and grey (0 is black).
#[derive(Debug, Clone, Copy)]
struct Style {
    font: Font,
    size: f32,
    leading: f32,
    gray: f32,
}

const fn style(font: Font, size: f32, leading: f32, gray: f32) -> Style {
    Style {
        font,
        size,
        leading,
        gray,
    }
}

const TITLE: Style = style(Font::Bold, 20.0, 25.0, TEXT_GRAY);
const SUBTITLE: Style = style(Font::Regular, 12.0, 16.0, MUTED_GRAY);
const NAME: Style = style(Font::Bold, 13.0, PERSONAL_LEADING, TEXT_GRAY);
const VOTER_ID: Style = style(Font::Regular, 11.0, PERSONAL_LEADING, TEXT_GRAY);
const CODE_CAPTION: Style = style(Font::Regular, 10.0, 12.0, MUTED_GRAY);
const LABEL: Style = style(Font::Bold, 12.0, 16.0, MUTED_GRAY);
const URL: Style = style(Font::Bold, 15.0, 19.0, TEXT_GRAY);
const QR_CAPTION: Style = style(Font::Regular, 9.0, 11.0, MUTED_GRAY);
const DATES: Style = style(Font::Regular, 11.0, 15.0, TEXT_GRAY);
const HEADING: Style = style(Font::Bold, 13.0, 18.0, TEXT_GRAY);
const BODY: Style = style(Font::Regular, 11.5, 16.0, TEXT_GRAY);
const CONTACT: Style = style(Font::Bold, 11.5, 16.0, TEXT_GRAY);

/// The part of the page that is the same on every letter, and where the voter's own lines go.
struct Frame {
    /// The (uncompressed) content of the shared Form XObject.
    content: Vec<u8>,
    /// The (uncompressed) content of the QR code's Form XObject, in module units.
    qr_content: Vec<u8>,
    /// The QR code's width in modules.
    qr_width: f32,
    /// The baseline of the last line of the voter's own block.
    personal_baseline: f32,
    /// The baseline of the credential code.
    code_baseline: f32,
    name_label: Vec<u8>,
    voter_id_label: Vec<u8>,
}

impl Frame {
    fn new(settings: &LetterSettings) -> Result<Frame, LetterError> {
        let text = &settings.text;
        let url = settings.booth_url.trim();
        if url.is_empty() {
            return Err(LetterError::EmptyBoothUrl);
        }
        let url_bytes = encode(url, "booth URL", None)?;
        let qr =
            QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).map_err(|error| {
                LetterError::QrCode {
                    reason: error.to_string(),
                }
            })?;
        let title = encode(settings.election_title.trim(), "election title", None)?;
        let subtitle = encode(&text.subtitle, "text.subtitle", None)?;
        let name_label = encode(&text.name_label, "text.name_label", None)?;
        let voter_id_label = encode(&text.voter_id_label, "text.voter_id_label", None)?;
        let code_label = encode(&text.code_label, "text.code_label", None)?;
        let booth_label = encode(&text.booth_label, "text.booth_label", None)?;
        let qr_caption = encode(&text.qr_caption, "text.qr_caption", None)?;
        let steps_heading = encode(&text.steps_heading, "text.steps_heading", None)?;
        let steps = text
            .steps
            .iter()
            .map(|step| encode(step, "text.steps", None))
            .collect::<Result<Vec<_>, _>>()?;
        let opens = labelled(
            &text.opens_label,
            "text.opens_label",
            settings.voting_opens.as_deref(),
            "voting opens",
        )?;
        let closes = labelled(
            &text.closes_label,
            "text.closes_label",
            settings.voting_closes.as_deref(),
            "voting closes",
        )?;
        let contact = labelled(
            &text.contact_label,
            "text.contact_label",
            settings.contact.as_deref(),
            "contact",
        )?;

        let mut page = Canvas::default();
        let left = MARGIN_X;
        let mut y = PAGE_HEIGHT - MARGIN_TOP;

        // The election title and the subtitle.
        y = page.paragraph(TITLE, left, y, CONTENT_WIDTH, &title);
        y -= 2.0;
        y = page.paragraph(SUBTITLE, left, y, CONTENT_WIDTH, &subtitle);
        y -= 10.0;
        page.rule(left, y, CONTENT_WIDTH);
        y -= 10.0;

        // The voter's own lines (drawn per page), bottom-aligned above the code box.
        y -= PERSONAL_LEADING * PERSONAL_LINES as f32;
        let personal_baseline = y + 5.0;
        y -= 8.0;

        // The code box: a caption, and the code (drawn per page) in the middle.
        let box_bottom = y - CODE_BOX_HEIGHT;
        page.code_box(left, box_bottom, CONTENT_WIDTH, CODE_BOX_HEIGHT);
        page.paragraph(
            CODE_CAPTION,
            left + 14.0,
            y - 8.0,
            CONTENT_WIDTH - 28.0,
            &code_label,
        );
        let code_baseline = box_bottom + 18.0;
        y = box_bottom - 24.0;

        // The booth: the address and the dates on the left, the QR code on the right. The
        // 24 pt gap above holds the quiet zone (4 modules) of even the smallest QR code (21
        // modules: 4/21 of QR_SIZE is 21.3 pt); the caption goes below the quiet zone.
        let qr_width = qr.width() as f32;
        let module = QR_SIZE / qr_width;
        let quiet = QR_QUIET_MODULES * module;
        let qr_left = PAGE_WIDTH - MARGIN_X - QR_SIZE;
        page.qr(qr_left, y - QR_SIZE, module);
        let caption_bottom = page.paragraph_centered(
            QR_CAPTION,
            qr_left + QR_SIZE / 2.0,
            y - QR_SIZE - quiet + 4.0,
            QR_SIZE + 2.0 * quiet,
            &qr_caption,
        );
        let column = qr_left - quiet - 12.0 - left;
        let mut column_y = page.paragraph(LABEL, left, y, column, &booth_label);
        column_y = page.paragraph(URL, left, column_y - 2.0, column, &url_bytes);
        column_y -= 10.0;
        for line in [&opens, &closes].into_iter().flatten() {
            column_y = page.paragraph(DATES, left, column_y, column, line);
        }
        y = column_y.min(caption_bottom) - 14.0;
        page.rule(left, y, CONTENT_WIDTH);
        y -= 16.0;

        // The numbered instructions, with a hanging indent, and the contact line.
        y = page.paragraph(HEADING, left, y, CONTENT_WIDTH, &steps_heading) - 2.0;
        let indent = 18.0;
        for (number, step) in steps.iter().enumerate() {
            let label = format!("{}.", number + 1);
            page.line(BODY, left, y - BODY.size * ASCENT, label.as_bytes());
            y = page.paragraph(BODY, left + indent, y, CONTENT_WIDTH - indent, step) - 5.0;
        }
        if let Some(contact) = &contact {
            y = page.paragraph(CONTACT, left, y - 8.0, CONTENT_WIDTH, contact);
        }
        if y < MARGIN_BOTTOM {
            return Err(LetterError::DoesNotFit {
                what: "title, address, dates, instructions and contact",
                voter_id: None,
            });
        }

        Ok(Frame {
            content: page.content,
            qr_content: qr_content(&qr),
            qr_width,
            personal_baseline,
            code_baseline,
            name_label,
            voter_id_label,
        })
    }

    /// The content of one voter's page: the shared frame, the voter's lines and the code.
    fn page_content(&self, letter: &Letter<'_>, number: u64) -> Result<Vec<u8>, LetterError> {
        let voter_id = letter.voter_id.trim();
        if voter_id.is_empty() {
            return Err(LetterError::EmptyVoterId { number });
        }
        let id_bytes = encode(voter_id, "voter id", Some(voter_id))?;
        if !code_is_well_formed(letter.code) {
            return Err(LetterError::BadCode {
                voter_id: voter_id.to_owned(),
            });
        }
        let mut lines: Vec<(Style, Vec<u8>)> = Vec::new();
        if let Some(name) = letter.name.map(str::trim).filter(|name| !name.is_empty()) {
            let name = encode(name, "voter name", Some(voter_id))?;
            let line = join_label(&self.name_label, &name);
            lines.extend(
                wrap(&line, NAME, CONTENT_WIDTH)
                    .into_iter()
                    .map(|l| (NAME, l)),
            );
        }
        let line = join_label(&self.voter_id_label, &id_bytes);
        lines.extend(
            wrap(&line, VOTER_ID, CONTENT_WIDTH)
                .into_iter()
                .map(|l| (VOTER_ID, l)),
        );
        if lines.len() > PERSONAL_LINES {
            return Err(LetterError::DoesNotFit {
                what: "name and voter id",
                voter_id: Some(voter_id.to_owned()),
            });
        }

        let mut page = Canvas::default();
        let mut content = Content::new();
        content.x_object(Name(FRAME_NAME));
        page.append(content);
        let mut baseline =
            self.personal_baseline + PERSONAL_LEADING * lines.len().saturating_sub(1) as f32;
        for (style, line) in &lines {
            page.line(*style, MARGIN_X, baseline, line);
            baseline -= PERSONAL_LEADING;
        }
        let code = letter.code.as_bytes();
        let width = text_width(code, Font::Mono, CODE_SIZE)
            + CODE_SPACING * (code.len().saturating_sub(1)) as f32;
        // The groups in black, the hyphens between them in grey, so the groups stand out while
        // the text (and a copy from the PDF) stays the code exactly as printed.
        let mut content = Content::new();
        content
            .begin_text()
            .set_font(Name(Font::Mono.resource()), CODE_SIZE)
            .set_char_spacing(CODE_SPACING)
            .next_line(MARGIN_X + (CONTENT_WIDTH - width) / 2.0, self.code_baseline);
        for (i, group) in code.split(|&b| b == b'-').enumerate() {
            if i > 0 {
                content.set_fill_gray(HYPHEN_GRAY).show(Str(b"-"));
            }
            content.set_fill_gray(TEXT_GRAY).show(Str(group));
        }
        content.end_text();
        page.append(content);
        Ok(page.content)
    }
}

/// "Label value", or `None` when the value is absent or blank.
fn labelled(
    label: &str,
    label_what: &'static str,
    value: Option<&str>,
    value_what: &'static str,
) -> Result<Option<Vec<u8>>, LetterError> {
    let Some(value) = value.map(str::trim).filter(|value| !value.is_empty()) else {
        return Ok(None);
    };
    let label = encode(label, label_what, None)?;
    let value = encode(value, value_what, None)?;
    Ok(Some(join_label(&label, &value)))
}

fn join_label(label: &[u8], value: &[u8]) -> Vec<u8> {
    let mut line = label.to_vec();
    if !line.is_empty() {
        line.push(b' ');
    }
    line.extend_from_slice(value);
    line
}

/// Whether `code` is 7 groups of 3 characters from `0-9A-Z*~$=` joined by hyphens.
fn code_is_well_formed(code: &str) -> bool {
    let bytes = code.as_bytes();
    bytes.len() == 27
        && bytes.iter().enumerate().all(|(i, &b)| {
            if i % 4 == 3 {
                b == b'-'
            } else {
                b.is_ascii_digit() || b.is_ascii_uppercase() || b"*~$=".contains(&b)
            }
        })
}

/// The top of a line to its baseline, as a fraction of the font size.
const ASCENT: f32 = 0.78;

/// A content stream being drawn.
#[derive(Default)]
struct Canvas {
    content: Vec<u8>,
}

impl Canvas {
    fn append(&mut self, content: Content) {
        self.content.extend_from_slice(&content.finish());
        // Content streams are written without a final separator.
        self.content.push(b'\n');
    }

    /// One line of text with its baseline at `y`.
    fn line(&mut self, style: Style, x: f32, y: f32, text: &[u8]) {
        let mut content = Content::new();
        content
            .set_fill_gray(style.gray)
            .begin_text()
            .set_font(Name(style.font.resource()), style.size)
            .next_line(x, y)
            .show(Str(text))
            .end_text();
        self.append(content);
    }

    /// A paragraph wrapped to `width`, its first line's top at `top`; returns the top of what
    /// comes next.
    fn paragraph(&mut self, style: Style, x: f32, top: f32, width: f32, text: &[u8]) -> f32 {
        let mut y = top;
        for line in wrap(text, style, width) {
            self.line(style, x, y - style.size * ASCENT, &line);
            y -= style.leading;
        }
        y
    }

    /// A paragraph with every line centred on `center`.
    fn paragraph_centered(
        &mut self,
        style: Style,
        center: f32,
        top: f32,
        width: f32,
        text: &[u8],
    ) -> f32 {
        let mut y = top;
        for line in wrap(text, style, width) {
            let x = center - text_width(&line, style.font, style.size) / 2.0;
            self.line(style, x, y - style.size * ASCENT, &line);
            y -= style.leading;
        }
        y
    }

    /// A thin horizontal rule.
    fn rule(&mut self, x: f32, y: f32, width: f32) {
        let mut content = Content::new();
        content
            .set_stroke_gray(RULE_GRAY)
            .set_line_width(0.75)
            .move_to(x, y)
            .line_to(x + width, y)
            .stroke();
        self.append(content);
    }

    /// The lightly shaded, outlined box around the code.
    fn code_box(&mut self, x: f32, y: f32, width: f32, height: f32) {
        let mut content = Content::new();
        content
            .set_fill_gray(0.94)
            .set_stroke_gray(0.25)
            .set_line_width(1.25)
            .rect(x, y, width, height)
            .fill_nonzero_and_stroke();
        self.append(content);
    }

    /// The shared QR code, its dark area's bottom left at (`x`, `y`), `module` points a module.
    fn qr(&mut self, x: f32, y: f32, module: f32) {
        let mut content = Content::new();
        content
            .save_state()
            .transform([module, 0.0, 0.0, module, x, y])
            .x_object(Name(QR_NAME))
            .restore_state();
        self.append(content);
    }
}

/// The QR code's modules in module units: (0, 0) is the bottom left of its dark area (the quiet
/// zone is left to the layout), each row's runs of dark modules one rectangle, all filled as one
/// path (so no hairline seams appear between rectangles when rasterised).
fn qr_content(qr: &QrCode) -> Vec<u8> {
    let width = qr.width();
    let colors = qr.to_colors();
    let mut content = Content::new();
    content.set_fill_gray(0.0);
    for (row, modules) in colors.chunks(width.max(1)).enumerate() {
        let y = (width - 1 - row) as f32;
        let mut column = 0;
        while column < modules.len() {
            if modules[column] == Color::Dark {
                let start = column;
                while column < modules.len() && modules[column] == Color::Dark {
                    column += 1;
                }
                content.rect(start as f32, y, (column - start) as f32, 1.0);
            } else {
                column += 1;
            }
        }
    }
    content.fill_nonzero();
    content.finish().into_vec()
}

// ---------------------------------------------------------------------------------------------
// Text: Windows-1252 (WinAnsi) encoding, glyph widths and line wrapping.

/// Encodes `text` to WinAnsi (Windows-1252), refusing control characters and characters it
/// lacks; `what` and `voter_id` name the text in the error.
fn encode(text: &str, what: &'static str, voter_id: Option<&str>) -> Result<Vec<u8>, LetterError> {
    text.chars()
        .map(|ch| {
            winansi(ch).ok_or_else(|| LetterError::Unprintable {
                what,
                voter_id: voter_id.map(str::to_owned),
                ch,
            })
        })
        .collect()
}

/// The WinAnsi byte of `ch`, if it has one (and is not a control character).
fn winansi(ch: char) -> Option<u8> {
    let code = u32::from(ch);
    match code {
        // Printable ASCII, and Latin-1 except the soft hyphen (a format character, which
        // would print as a visible hyphen).
        0x20..=0x7E | 0xA0..=0xAC | 0xAE..=0xFF => u8::try_from(code).ok(),
        _ => match ch {
            '€' => Some(0x80),
            '‚' => Some(0x82),
            'ƒ' => Some(0x83),
            '„' => Some(0x84),
            '…' => Some(0x85),
            '†' => Some(0x86),
            '‡' => Some(0x87),
            'ˆ' => Some(0x88),
            '‰' => Some(0x89),
            'Š' => Some(0x8A),
            '‹' => Some(0x8B),
            'Œ' => Some(0x8C),
            'Ž' => Some(0x8E),
            '‘' => Some(0x91),
            '’' => Some(0x92),
            '“' => Some(0x93),
            '”' => Some(0x94),
            '•' => Some(0x95),
            '–' => Some(0x96),
            '—' => Some(0x97),
            '˜' => Some(0x98),
            '™' => Some(0x99),
            'š' => Some(0x9A),
            '›' => Some(0x9B),
            'œ' => Some(0x9C),
            'ž' => Some(0x9E),
            'Ÿ' => Some(0x9F),
            _ => None,
        },
    }
}

/// The three standard fonts the letters use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Font {
    Regular,
    Bold,
    Mono,
}

const FONTS: [Font; 3] = [Font::Regular, Font::Bold, Font::Mono];

impl Font {
    fn base_font(self) -> &'static [u8] {
        match self {
            Font::Regular => b"Helvetica",
            Font::Bold => b"Helvetica-Bold",
            Font::Mono => b"Courier-Bold",
        }
    }

    fn resource(self) -> &'static [u8] {
        match self {
            Font::Regular => b"F1",
            Font::Bold => b"F2",
            Font::Mono => b"F3",
        }
    }

    /// The advance width of WinAnsi byte `byte`, in 1/1000 em.
    fn width(self, byte: u8) -> u16 {
        let table = match self {
            Font::Regular => &HELVETICA_WIDTHS,
            Font::Bold => &HELVETICA_BOLD_WIDTHS,
            Font::Mono => return 600,
        };
        byte.checked_sub(0x20)
            .and_then(|index| table.get(usize::from(index)))
            .copied()
            .unwrap_or(0)
    }
}

fn text_width(text: &[u8], font: Font, size: f32) -> f32 {
    let units: u32 = text.iter().map(|&b| u32::from(font.width(b))).sum();
    units as f32 * size / 1000.0
}

/// Greedy wrapping at spaces; a word wider than a line is broken between characters (long
/// URLs). Runs of spaces collapse; an empty text gives no lines.
fn wrap(text: &[u8], style: Style, width: f32) -> Vec<Vec<u8>> {
    let (font, size) = (style.font, style.size);
    let mut lines = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    for word in text.split(|&b| b == b' ').filter(|word| !word.is_empty()) {
        if !line.is_empty() {
            let mut candidate = line.clone();
            candidate.push(b' ');
            candidate.extend_from_slice(word);
            if text_width(&candidate, font, size) <= width {
                line = candidate;
                continue;
            }
            lines.push(std::mem::take(&mut line));
        }
        for &b in word {
            line.push(b);
            if line.len() > 1 && text_width(&line, font, size) > width {
                line.pop();
                // Break after the last URL separator on the line, if any, else here.
                let cut = line
                    .iter()
                    .rposition(|c| b"/.-?&=_#".contains(c))
                    .map(|at| at + 1)
                    .filter(|&at| {
                        let mut rest = line[at..].to_vec();
                        rest.push(b);
                        text_width(&rest, font, size) <= width
                    })
                    .unwrap_or(line.len());
                let mut rest = line.split_off(cut);
                rest.push(b);
                lines.push(std::mem::replace(&mut line, rest));
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

// Advance widths (1/1000 em) of Helvetica and Helvetica-Bold for WinAnsi bytes 0x20..=0xFF,
// taken from Adobe's Core14 AFM files (Helvetica.afm, Helvetica-Bold.afm, "Version 002.000",
// 1997) as shipped in the pdf-canvas 0.7.0 crate's data/ folder, mapped from glyph names to
// WinAnsi bytes with the WinAnsiEncoding glyph list (PDF 1.7, Annex D); 0xA0 (no-break space)
// is "space" and 0xAD is "hyphen". Bytes that WinAnsi leaves undefined (0x7F, 0x81, 0x8D,
// 0x8F, 0x90, 0x9D) are 0 and are never produced by `winansi`. Adobe's terms for the Core14
// AFM files allow them to be used, copied and distributed for any purpose without charge.
// Courier-Bold is monospaced: every glyph is 600.
#[rustfmt::skip]
const HELVETICA_WIDTHS: [u16; 224] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // 0x20
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0x30
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // 0x40
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // 0x50
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // 0x60
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 0, // 0x70
    556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0, // 0x80
    0, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667, // 0x90
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333, // 0xA0
    400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611, // 0xB0
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, // 0xC0
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, // 0xD0
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278, // 0xE0
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500, // 0xF0
];

/// See [`HELVETICA_WIDTHS`].
#[rustfmt::skip]
const HELVETICA_BOLD_WIDTHS: [u16; 224] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, // 0x20
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, // 0x30
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, // 0x40
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, // 0x50
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, // 0x60
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 0, // 0x70
    556, 0, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0, // 0x80
    0, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 0, 500, 667, // 0x90
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333, // 0xA0
    400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611, // 0xB0
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, // 0xC0
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, // 0xD0
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278, // 0xE0
    611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556, // 0xF0
];

#[cfg(test)]
mod tests;
