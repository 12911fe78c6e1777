//! E-mailing voters their credential codes over SMTP with TLS.
//!
//! The registrar has, for each voter, a voter id, an e-mail address and a secret credential
//! code. [`send_all`] sends each voter one plain-text message made from a [`MailTemplate`],
//! retries transient failures with exponential backoff, and reports one [`Delivery`] per voter
//! through a callback as it goes, so that a [`ReportWriter`] can record every outcome the moment
//! it is known (nothing is lost if the run stops).
//!
//! # Secrecy of the codes
//!
//! A credential code appears only in the body of the message sent to its voter. It never
//! appears in an error ([`MailError`], [`TemplateError`]), in a [`Delivery`] (whose `detail` is
//! the SMTP server's reply, which never echoes the body, and is scrubbed of the code anyway),
//! in the report, or in any `Debug` output ([`Recipient`] and [`RenderedMail`] redact it). A
//! template may not put `{code}` in the subject, which mail servers commonly log. This module
//! logs nothing itself. lettre's `tracing` feature must stay **off**: with it, lettre logs every
//! byte written to the server at debug level, bodies included.
//!
//! # The SMTP URL
//!
//! | URL                               | transport                                         | default port |
//! | --------------------------------- | ------------------------------------------------- | ------------ |
//! | `smtp://host[:port]`              | STARTTLS, **required** (refused if not offered)   | 587          |
//! | `smtp://host[:port]?tls=required` | the same, spelled out                             | 587          |
//! | `smtps://host[:port]`             | implicit TLS from the first byte                  | 465          |
//! | `smtp://host[:port]?tls=none`     | plaintext; **only** for a loopback host (a local relay: `localhost`, `127.0.0.0/8`, `::1`) | 25 |
//!
//! Opportunistic STARTTLS (`tls=opportunistic`) is refused: an attacker on the path can strip
//! the STARTTLS offer and read every code. The server certificate is verified against the
//! Mozilla roots (webpki-roots) plus [`MailSettings::extra_root_pem`] (a private CA, or the
//! certificate of a self-signed server itself), for the host name in the URL.
//!
//! Credentials go either in the URL (`smtps://user:pass@host`, percent-encoded) or in
//! [`MailSettings::username`]/[`MailSettings::password`], not both. Another query parameter,
//! `ehlo=NAME`, sets the name sent with EHLO (default: the address literal `[127.0.0.1]`). Any
//! other query parameter, a path or a fragment is an error.
//!
//! # The template
//!
//! See [`MailTemplate`] for the placeholders and [`MailTemplate::parse`] for the file format.

use std::collections::HashSet;
use std::fmt;
use std::io::{self, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::PoolConfig;
use lettre::{Address, Message, SmtpTransport, Transport};

/// Default number of attempts per message, the first try included.
pub const DEFAULT_ATTEMPTS: u32 = 4;
/// Default delay before the first retry (it doubles after each retry).
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(2);
/// Default timeout for connecting and for each SMTP command.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest wait between two attempts, however many retries came before.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(300);
/// After this many voters in a row whose every attempt failed to reach the server (no SMTP
/// reply at all: refused, reset, timed out, TLS failure), [`send_all`] stops with
/// [`MailError::ConnectionLost`] instead of failing every remaining voter the slow way.
pub const MAX_CONSECUTIVE_UNREACHABLE: usize = 3;

/// The header line of the delivery report written by [`ReportWriter`] / [`write_report_header`].
pub const REPORT_HEADER: &str = "voter_id,email,status,attempts,detail";

const REDACTED: &str = "[redacted]";
const MAX_DETAIL_CHARS: usize = 500;

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

/// How to reach the SMTP server and who sends.
#[derive(Clone)]
pub struct MailSettings {
    /// Where the SMTP server is and how to secure the connection: `smtp://host[:port]`
    /// (STARTTLS, required), `smtps://host[:port]` (implicit TLS), or
    /// `smtp://host[:port]?tls=none` (plaintext, loopback hosts only). Credentials may be given
    /// as `user:password@` (percent-encoded). See the [module documentation](self).
    pub smtp_url: String,
    /// SMTP AUTH user name, when not given in `smtp_url`.
    pub username: Option<String>,
    /// SMTP AUTH password, when not given in `smtp_url`. Never logged nor shown by `Debug`.
    pub password: Option<String>,
    /// The sender, e.g. `Election Office <elections@example.org>`.
    pub from: String,
    /// Extra trusted root certificates (PEM, one or more `CERTIFICATE` blocks) for a private CA
    /// or a self-signed server, trusted in addition to the Mozilla roots.
    pub extra_root_pem: Option<Vec<u8>>,
    /// Attempts per message, the first try included (at least 1).
    pub attempts: u32,
    /// Delay before the first retry; it doubles after each retry, up to [`MAX_RETRY_DELAY`].
    pub retry_delay: Duration,
    /// Timeout for connecting and for each SMTP command (must not be zero).
    pub timeout: Duration,
}

impl MailSettings {
    /// Settings for `smtp_url` and sender `from`, with no separate credentials, no extra root,
    /// [`DEFAULT_ATTEMPTS`], [`DEFAULT_RETRY_DELAY`] and [`DEFAULT_TIMEOUT`].
    pub fn new(smtp_url: impl Into<String>, from: impl Into<String>) -> Self {
        MailSettings {
            smtp_url: smtp_url.into(),
            username: None,
            password: None,
            from: from.into(),
            extra_root_pem: None,
            attempts: DEFAULT_ATTEMPTS,
            retry_delay: DEFAULT_RETRY_DELAY,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailSettings")
            .field("smtp_url", &redact_url(&self.smtp_url))
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| REDACTED))
            .field("from", &self.from)
            .field(
                "extra_root_pem",
                &self
                    .extra_root_pem
                    .as_ref()
                    .map(|p| format!("{} bytes", p.len())),
            )
            .field("attempts", &self.attempts)
            .field("retry_delay", &self.retry_delay)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The URL with any password replaced, for display; an unparsable URL is not shown at all.
fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) => {
            if u.password().is_some() && u.set_password(Some(REDACTED)).is_err() {
                return "<URL with credentials>".to_owned();
            }
            u.to_string()
        }
        Err(_) => "<unparsable URL>".to_owned(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TlsMode {
    StartTls,
    Implicit,
    Plaintext,
}

/// A parsed `smtp_url`.
#[derive(Clone)]
struct Endpoint {
    host: String,
    port: u16,
    tls: TlsMode,
    user: Option<String>,
    password: Option<String>,
    ehlo: Option<String>,
}

impl Endpoint {
    /// `scheme://host:port`, never with credentials.
    fn display(&self) -> String {
        let scheme = if self.tls == TlsMode::Implicit {
            "smtps"
        } else {
            "smtp"
        };
        if self.host.contains(':') {
            format!("{scheme}://[{}]:{}", self.host, self.port)
        } else {
            format!("{scheme}://{}:{}", self.host, self.port)
        }
    }
}

fn url_error(reason: impl Into<String>) -> MailError {
    MailError::Url {
        reason: reason.into(),
    }
}

fn parse_smtp_url(raw: &str) -> Result<Endpoint, MailError> {
    // url::ParseError never echoes the input, so a password cannot leak through it.
    let url = url::Url::parse(raw.trim()).map_err(|e| url_error(e.to_string()))?;
    let implicit = match url.scheme() {
        "smtp" => false,
        "smtps" => true,
        other => {
            return Err(url_error(format!(
            "unsupported scheme {other:?} (use smtp:// for STARTTLS or smtps:// for implicit TLS)"
        )))
        }
    };
    let host = match url.host() {
        Some(url::Host::Domain(d)) if !d.is_empty() => d.to_owned(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        _ => return Err(url_error("no host")),
    };
    if !(url.path().is_empty() || url.path() == "/") {
        return Err(url_error(
            "a path is not allowed (use ?ehlo=NAME for the EHLO name)",
        ));
    }
    if url.fragment().is_some() {
        return Err(url_error("a fragment (#...) is not allowed"));
    }
    let mut tls_param: Option<String> = None;
    let mut ehlo: Option<String> = None;
    for (key, value) in url.query_pairs() {
        let slot = match key.as_ref() {
            "tls" => &mut tls_param,
            "ehlo" => &mut ehlo,
            other => {
                return Err(url_error(format!(
                    "unknown query parameter {other:?} (known: tls, ehlo)"
                )))
            }
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(url_error(format!("query parameter {key:?} given twice")));
        }
    }
    let tls =
        match (implicit, tls_param.as_deref()) {
            (true, None) => TlsMode::Implicit,
            (true, Some(_)) => {
                return Err(url_error(
                    "smtps:// is always implicit TLS: remove the tls parameter",
                ))
            }
            (false, None | Some("required" | "starttls")) => TlsMode::StartTls,
            (false, Some("none")) => {
                if !is_loopback(&host) {
                    return Err(url_error(format!(
                    "tls=none is only allowed for a loopback host (localhost, 127.0.0.0/8, ::1), \
                     not {host:?}: voters' codes must not cross a network unencrypted"
                )));
                }
                TlsMode::Plaintext
            }
            (false, Some("opportunistic")) => return Err(url_error(
                "tls=opportunistic is refused: an attacker can strip the STARTTLS offer and read \
                 the codes; use the default (STARTTLS required) or smtps://",
            )),
            (false, Some(other)) => {
                return Err(url_error(format!(
                    "unknown tls value {other:?} (known: required, none)"
                )))
            }
        };
    if let Some(name) = &ehlo {
        let ok = !name.is_empty()
            && name.len() <= 255
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
        if !ok {
            return Err(url_error(
                "the ehlo name must be a host name or an address literal",
            ));
        }
    }
    let port = url.port().unwrap_or(match tls {
        TlsMode::StartTls => 587,
        TlsMode::Implicit => 465,
        TlsMode::Plaintext => 25,
    });
    let decode = |s: &str, what: &str| -> Result<String, MailError> {
        percent_decode(s).ok_or_else(|| {
            url_error(format!(
                "the {what} in the URL is not valid percent-encoded UTF-8"
            ))
        })
    };
    let user = match url.username() {
        "" => None,
        u => Some(decode(u, "user name")?),
    };
    let password = match url.password() {
        None => None,
        Some(p) => Some(decode(p, "password")?),
    };
    Ok(Endpoint {
        host,
        port,
        tls,
        user,
        password,
        ehlo,
    })
}

/// Decodes `%XX` escapes; `None` for a malformed escape or non-UTF-8 result.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn is_loopback(host: &str) -> bool {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return ip.is_loopback();
    }
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    h == "localhost" || h.ends_with(".localhost")
}

/// Everything `send_all` needs from the settings, checked before anything is sent.
struct Prepared {
    endpoint: Endpoint,
    transport: SmtpTransport,
    from: Mailbox,
    message_id_domain: String,
    attempts: u32,
    retry_delay: Duration,
    /// Secrets to scrub from any text that leaves this module (the password).
    secrets: Vec<String>,
}

fn prepare(settings: &MailSettings) -> Result<Prepared, MailError> {
    if settings.timeout.is_zero() {
        return Err(MailError::Settings {
            reason: "the timeout must not be zero".into(),
        });
    }
    let endpoint = parse_smtp_url(&settings.smtp_url)?;

    let credentials = {
        let user = match (&endpoint.user, &settings.username) {
            (Some(_), Some(_)) => {
                return Err(MailError::Settings {
                    reason: "a user name is given both in smtp_url and in username; give it once"
                        .into(),
                })
            }
            (a, b) => a.clone().or_else(|| b.clone()),
        };
        let password = match (&endpoint.password, &settings.password) {
            (Some(_), Some(_)) => {
                return Err(MailError::Settings {
                    reason: "a password is given both in smtp_url and in password; give it once"
                        .into(),
                })
            }
            (a, b) => a.clone().or_else(|| b.clone()),
        };
        match (user, password) {
            (Some(u), Some(p)) => Some((u, p)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(MailError::Settings {
                    reason: "a user name is given without a password".into(),
                })
            }
            (None, Some(_)) => {
                return Err(MailError::Settings {
                    reason: "a password is given without a user name".into(),
                })
            }
        }
    };

    let tls = match endpoint.tls {
        TlsMode::Plaintext => Tls::None,
        mode => {
            let params = tls_parameters(&endpoint.host, settings.extra_root_pem.as_deref())?;
            if mode == TlsMode::Implicit {
                Tls::Wrapper(params)
            } else {
                Tls::Required(params)
            }
        }
    };

    let from = parse_sender(&settings.from)?;
    let message_id_domain = message_id_domain(&from);

    let mut builder = SmtpTransport::builder_dangerous(endpoint.host.clone())
        .port(endpoint.port)
        .tls(tls)
        .timeout(Some(settings.timeout))
        .pool_config(PoolConfig::new().max_size(1));
    if let Some(name) = &endpoint.ehlo {
        builder = builder.hello_name(ClientId::Domain(name.clone()));
    }
    let mut secrets = Vec::new();
    if let Some((user, password)) = credentials {
        if !password.is_empty() {
            secrets.push(password.clone());
        }
        builder = builder.credentials(Credentials::new(user, password));
    }

    Ok(Prepared {
        endpoint,
        transport: builder.build(),
        from,
        message_id_domain,
        attempts: settings.attempts.max(1),
        retry_delay: settings.retry_delay,
        secrets,
    })
}

fn tls_parameters(host: &str, extra_root_pem: Option<&[u8]>) -> Result<TlsParameters, MailError> {
    let tls_error = |reason: String| MailError::Tls { reason };
    let mut builder = TlsParameters::builder(host.to_owned());
    if let Some(pem) = extra_root_pem {
        // lettre accepts a PEM without any certificate in it; an empty trust addition is a
        // configuration mistake worth reporting.
        let text = String::from_utf8_lossy(pem);
        if !text.contains("-----BEGIN CERTIFICATE-----") {
            return Err(tls_error(
                "extra_root_pem holds no PEM CERTIFICATE block".to_owned(),
            ));
        }
        let cert =
            Certificate::from_pem(pem).map_err(|e| tls_error(format!("extra_root_pem: {e}")))?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build().map_err(|e| tls_error(e.to_string()))
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// The domain of the Message-IDs: the sender's, when it is a plain host name.
fn message_id_domain(from: &Mailbox) -> String {
    let domain = from.email.domain();
    if !domain.is_empty()
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
    {
        domain.to_owned()
    } else {
        "tabella.invalid".to_owned()
    }
}

fn parse_sender(from: &str) -> Result<Mailbox, MailError> {
    let err = |reason: &str| MailError::Sender {
        from: from.to_owned(),
        reason: reason.to_owned(),
    };
    if has_control(from) {
        return Err(err("contains a line break or another control character"));
    }
    if !from.contains('@') {
        return Err(err("has no '@'"));
    }
    from.trim()
        .parse::<Mailbox>()
        .map_err(|e| MailError::Sender {
            from: from.to_owned(),
            reason: e.to_string(),
        })
}

// ---------------------------------------------------------------------------------------------
// Template
// ---------------------------------------------------------------------------------------------

/// The message every voter gets: a subject and a plain-text body, with placeholders.
///
/// Placeholders are written `{name}`: `{name}` (the voter's name), `{voter_id}`, `{code}` (the
/// credential code), `{election}` (election title), `{booth_url}`, `{opens}`, `{closes}` and
/// `{contact}`. `{{` and `}}` write a literal brace; any other `{` or `}` is an error. The body
/// must contain `{code}`, and the subject must not (subjects are commonly logged by mail
/// servers). A template that uses `{opens}`, `{closes}` or `{contact}` needs that value in the
/// [`MailContext`]; one that uses `{name}` needs a name for every recipient. All of this is
/// checked before anything is sent ([`MailTemplate::parse`], [`MailTemplate::check`]).
///
/// [`MailTemplate::default`] is a plain English message that needs only the election title
/// and booth URL; [`MailTemplate::default_for`] adds a line for each optional value present.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailTemplate {
    /// The subject line (one line, without `{code}`).
    pub subject: String,
    /// The plain-text body (must contain `{code}`).
    pub body: String,
}

const DEFAULT_SUBJECT: &str = "Your voting code for {election}";
const DEFAULT_BODY_HEAD: &str = "\
Hello,

You are registered to vote in {election} (voter ID {voter_id}).

Your personal voting code is:

    {code}

To vote, go to {booth_url} and enter this code.
";
const DEFAULT_BODY_TAIL: &str = "
Keep this code secret: anyone who has it can vote in your place.
Election officials will never ask you for it.
";

impl Default for MailTemplate {
    fn default() -> Self {
        MailTemplate {
            subject: DEFAULT_SUBJECT.to_owned(),
            body: format!("{DEFAULT_BODY_HEAD}{DEFAULT_BODY_TAIL}"),
        }
    }
}

impl MailTemplate {
    /// The default English message, with a line for each of `opens`, `closes` and `contact`
    /// that `context` has.
    pub fn default_for(context: &MailContext) -> Self {
        let mut body = DEFAULT_BODY_HEAD.to_owned();
        if present(&context.opens) {
            body.push_str("Voting opens: {opens}\n");
        }
        if present(&context.closes) {
            body.push_str("Voting closes: {closes}\n");
        }
        body.push_str(DEFAULT_BODY_TAIL);
        if present(&context.contact) {
            body.push_str(
                "\nIf you did not expect this message, or need help, contact {contact}.\n",
            );
        }
        MailTemplate {
            subject: DEFAULT_SUBJECT.to_owned(),
            body,
        }
    }

    /// Parses the template file format and [validates](Self::validate) the result.
    ///
    /// The format is e-mail-like UTF-8 text: the first line is `Subject: ...` (the word
    /// `Subject` in any case), the second line is empty, and everything after it is the body.
    /// CRLF or LF line endings are accepted (the body is stored with LF; it is sent with CRLF).
    /// A leading byte-order mark is ignored. Example:
    ///
    /// ```text
    /// Subject: Your voting code for {election}
    ///
    /// Dear {name},
    ///
    /// your code is {code}. Vote at {booth_url} before {closes}.
    /// ```
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let text = text.replace("\r\n", "\n");
        let (first, rest) = match text.split_once('\n') {
            Some((first, rest)) => (first, rest),
            None => (text.as_str(), ""),
        };
        let subject = match first.split_once(':') {
            Some((key, value)) if key.trim().eq_ignore_ascii_case("subject") => value.trim(),
            _ => {
                return Err(TemplateError::Format {
                    line: 1,
                    reason: "the first line must be `Subject: ...`".into(),
                })
            }
        };
        let body = match rest.split_once('\n') {
            Some((blank, body)) if blank.trim().is_empty() => body,
            None if rest.trim().is_empty() => "",
            _ => {
                return Err(TemplateError::Format {
                    line: 2,
                    reason:
                        "the second line must be empty (it separates the subject from the body)"
                            .into(),
                })
            }
        };
        let template = MailTemplate {
            subject: subject.to_owned(),
            body: body.to_owned(),
        };
        template.validate()?;
        Ok(template)
    }

    /// Reads and [parses](Self::parse) a template file.
    pub fn from_file(path: &Path) -> Result<Self, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Checks the template on its own: placeholder syntax, no unknown placeholder, a one-line
    /// non-empty subject without `{code}`, and `{code}` in the body.
    pub fn validate(&self) -> Result<(), TemplateError> {
        self.pieces().map(|_| ())
    }

    /// [`validate`](Self::validate)s the template and checks that `context` has a value for
    /// every context placeholder it uses, and that the values used in the subject are one line.
    pub fn check(&self, context: &MailContext) -> Result<(), TemplateError> {
        let (subject, body) = self.pieces()?;
        for (pieces, in_subject) in [(&subject, true), (&body, false)] {
            for piece in pieces {
                let Piece::Field(field) = piece else { continue };
                let Some(value) = field.context_value(context) else {
                    continue;
                };
                match value {
                    Some(v) if !v.trim().is_empty() => {
                        if in_subject && has_control(v) {
                            return Err(TemplateError::BadValue {
                                placeholder: field.placeholder(),
                                reason: "it is used in the subject and contains a line break or \
                                         control character",
                            });
                        }
                    }
                    _ => {
                        return Err(TemplateError::MissingValue {
                            placeholder: field.placeholder(),
                        })
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether the template uses `{name}`.
    pub fn uses_name(&self) -> bool {
        let name = Piece::Field(Field::Name);
        [
            (&self.subject, TemplatePart::Subject),
            (&self.body, TemplatePart::Body),
        ]
        .into_iter()
        .any(|(text, part)| tokenize(text, part).is_ok_and(|p| p.contains(&name)))
    }

    /// Fills in the template for one recipient. The result holds the code: handle it as the
    /// secret it is (its `Debug` output redacts the body).
    pub fn render(
        &self,
        context: &MailContext,
        recipient: &Recipient<'_>,
    ) -> Result<RenderedMail, TemplateError> {
        self.check(context)?;
        let (subject, body) = self.pieces()?;
        Ok(RenderedMail {
            subject: fill(&subject, context, recipient)?,
            body: fill(&body, context, recipient)?,
        })
    }

    /// Tokenizes and checks subject and body.
    fn pieces(&self) -> Result<(Vec<Piece<'_>>, Vec<Piece<'_>>), TemplateError> {
        if self.subject.trim().is_empty() {
            return Err(TemplateError::Subject {
                reason: "it is empty",
            });
        }
        if has_control(&self.subject) {
            return Err(TemplateError::Subject {
                reason: "it contains a line break or another control character",
            });
        }
        let subject = tokenize(&self.subject, TemplatePart::Subject)?;
        let body = tokenize(&self.body, TemplatePart::Body)?;
        if subject.contains(&Piece::Field(Field::Code)) {
            return Err(TemplateError::CodeInSubject);
        }
        if !body.contains(&Piece::Field(Field::Code)) {
            return Err(TemplateError::MissingCode);
        }
        Ok((subject, body))
    }
}

fn present(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.trim().is_empty())
}

fn fill(
    pieces: &[Piece<'_>],
    context: &MailContext,
    recipient: &Recipient<'_>,
) -> Result<String, TemplateError> {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Field(field) => {
                let value = match field {
                    Field::Name => recipient.name.filter(|n| !n.trim().is_empty()),
                    Field::VoterId => Some(recipient.voter_id),
                    Field::Code => Some(recipient.code),
                    other => other.context_value(context).flatten(),
                };
                let value = value.ok_or(TemplateError::MissingValue {
                    placeholder: field.placeholder(),
                })?;
                out.push_str(value);
            }
        }
    }
    Ok(out)
}

/// A template filled in for one recipient (see [`MailTemplate::render`]).
#[derive(Clone, PartialEq, Eq)]
pub struct RenderedMail {
    /// The subject.
    pub subject: String,
    /// The body, which contains the credential code.
    pub body: String,
}

impl fmt::Debug for RenderedMail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RenderedMail")
            .field("subject", &self.subject)
            .field(
                "body",
                &format_args!("[{} bytes, redacted]", self.body.len()),
            )
            .finish()
    }
}

/// Which part of a template an error is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemplatePart {
    /// The subject line.
    Subject,
    /// The body.
    Body,
}

impl fmt::Display for TemplatePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TemplatePart::Subject => "subject",
            TemplatePart::Body => "body",
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Name,
    VoterId,
    Code,
    Election,
    BoothUrl,
    Opens,
    Closes,
    Contact,
}

const KNOWN_PLACEHOLDERS: &str =
    "{name}, {voter_id}, {code}, {election}, {booth_url}, {opens}, {closes}, {contact}";

impl Field {
    fn from_name(name: &str) -> Option<Field> {
        Some(match name {
            "name" => Field::Name,
            "voter_id" => Field::VoterId,
            "code" => Field::Code,
            "election" => Field::Election,
            "booth_url" => Field::BoothUrl,
            "opens" => Field::Opens,
            "closes" => Field::Closes,
            "contact" => Field::Contact,
            _ => return None,
        })
    }

    fn placeholder(self) -> &'static str {
        match self {
            Field::Name => "{name}",
            Field::VoterId => "{voter_id}",
            Field::Code => "{code}",
            Field::Election => "{election}",
            Field::BoothUrl => "{booth_url}",
            Field::Opens => "{opens}",
            Field::Closes => "{closes}",
            Field::Contact => "{contact}",
        }
    }

    /// `None` for a per-recipient field; `Some(value)` for a context field.
    fn context_value(self, c: &MailContext) -> Option<Option<&str>> {
        fn nonblank(s: &str) -> Option<&str> {
            (!s.trim().is_empty()).then_some(s)
        }
        match self {
            Field::Name | Field::VoterId | Field::Code => None,
            Field::Election => Some(nonblank(&c.election)),
            Field::BoothUrl => Some(nonblank(&c.booth_url)),
            Field::Opens => Some(c.opens.as_deref().and_then(nonblank)),
            Field::Closes => Some(c.closes.as_deref().and_then(nonblank)),
            Field::Contact => Some(c.contact.as_deref().and_then(nonblank)),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Piece<'t> {
    Text(&'t str),
    Field(Field),
}

fn line_of(text: &str, byte: usize) -> usize {
    text.get(..byte).map_or(0, |s| s.matches('\n').count()) + 1
}

fn tokenize(text: &str, part: TemplatePart) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let rest = &text[pos..];
        let Some(i) = rest.find(['{', '}']) else {
            out.push(Piece::Text(rest));
            break;
        };
        if i > 0 {
            out.push(Piece::Text(&rest[..i]));
        }
        let at = pos + i;
        let after = &rest[i + 1..];
        if rest[i..].starts_with('{') {
            if after.starts_with('{') {
                out.push(Piece::Text("{"));
                pos = at + 2;
                continue;
            }
            let Some(close) = after
                .find(['}', '{', '\n'])
                .filter(|&c| after[c..].starts_with('}'))
            else {
                return Err(TemplateError::Syntax {
                    part,
                    line: line_of(text, at),
                    reason:
                        "'{' without a closing '}' on the same line (write {{ for a literal '{')",
                });
            };
            let name = &after[..close];
            let field =
                Field::from_name(name).ok_or_else(|| TemplateError::UnknownPlaceholder {
                    placeholder: format!("{{{}}}", name.chars().take(40).collect::<String>()),
                    part,
                    line: line_of(text, at),
                })?;
            out.push(Piece::Field(field));
            pos = at + 1 + close + 1;
        } else {
            if after.starts_with('}') {
                out.push(Piece::Text("}"));
                pos = at + 2;
                continue;
            }
            return Err(TemplateError::Syntax {
                part,
                line: line_of(text, at),
                reason: "'}' without an opening '{' (write }} for a literal '}')",
            });
        }
    }
    Ok(out)
}

/// Values shared by every message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MailContext {
    /// The election title, for `{election}`.
    pub election: String,
    /// The address of the voting booth, for `{booth_url}`.
    pub booth_url: String,
    /// When voting opens, as it should read in the message, for `{opens}`.
    pub opens: Option<String>,
    /// When voting closes, as it should read in the message, for `{closes}`.
    pub closes: Option<String>,
    /// Whom to contact for help, for `{contact}`.
    pub contact: Option<String>,
}

impl MailContext {
    /// A context with the election title and booth URL and no optional values.
    pub fn new(election: impl Into<String>, booth_url: impl Into<String>) -> Self {
        MailContext {
            election: election.into(),
            booth_url: booth_url.into(),
            ..Self::default()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Recipients and outcomes
// ---------------------------------------------------------------------------------------------

/// One voter to write to. Its `Debug` output never shows the code.
#[derive(Clone, Copy)]
pub struct Recipient<'a> {
    /// The voter's id (shown in the report and in errors).
    pub voter_id: &'a str,
    /// The voter's e-mail address (`local@domain`, without a display name).
    pub email: &'a str,
    /// The voter's name, for the `To:` header and `{name}`; `None` or blank for none.
    pub name: Option<&'a str>,
    /// The secret credential code, for `{code}`.
    pub code: &'a str,
}

impl fmt::Debug for Recipient<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recipient")
            .field("voter_id", &self.voter_id)
            .field("email", &self.email)
            .field("name", &self.name)
            .field("code", &REDACTED)
            .finish()
    }
}

/// The outcome for one voter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// The server accepted the message (250 after DATA); `detail` is its reply.
    Sent,
    /// Every attempt failed, or one failed permanently; `detail` is the last reply or error.
    Failed,
}

impl DeliveryStatus {
    /// `sent` or `failed`, as in the report.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome for one voter: one row of the report. Holds no code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The voter's id.
    pub voter_id: String,
    /// The address written to.
    pub email: String,
    /// Sent or failed.
    pub status: DeliveryStatus,
    /// Attempts made (1 when the first try settled it).
    pub attempts: u32,
    /// The server's final reply (e.g. `250 2.0.0 OK queued as 1234`, `550 5.1.1 ...`) or, when
    /// there was no reply, the connection error; one line.
    pub detail: String,
}

/// Counts for a finished run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliverySummary {
    /// Voters whose message the server accepted.
    pub sent: usize,
    /// Voters whose message could not be delivered.
    pub failed: usize,
}

impl DeliverySummary {
    /// `sent + failed`.
    pub fn total(&self) -> usize {
        self.sent + self.failed
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a run could not start, or had to stop. No variant ever holds a credential code or a
/// password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// `smtp_url` is malformed or asks for something refused (e.g. plaintext to a remote host).
    #[error("invalid SMTP URL: {reason}")]
    Url {
        /// What is wrong.
        reason: String,
    },
    /// The other settings are inconsistent (credentials given twice, zero timeout, ...).
    #[error("invalid mail settings: {reason}")]
    Settings {
        /// What is wrong.
        reason: String,
    },
    /// The sender address is unusable.
    #[error("invalid sender address {from:?}: {reason}")]
    Sender {
        /// The sender as configured.
        from: String,
        /// What is wrong.
        reason: String,
    },
    /// A recipient is unusable (bad or unsafe address, bad name, empty code, duplicate id, ...).
    #[error("voter {voter_id:?}: {reason}")]
    Recipient {
        /// The voter's id.
        voter_id: String,
        /// What is wrong (never the code).
        reason: String,
    },
    /// The template is unusable, or needs a value the context lacks.
    #[error("mail template: {0}")]
    Template(#[from] TemplateError),
    /// The TLS configuration (extra root certificate) is unusable.
    #[error("TLS configuration: {reason}")]
    Tls {
        /// What is wrong.
        reason: String,
    },
    /// No usable connection could be made before the first message: unreachable, no STARTTLS,
    /// certificate not trusted, authentication refused, ... Nothing was sent.
    #[error("cannot use the SMTP server {server}: {reason}")]
    Connect {
        /// `scheme://host:port`.
        server: String,
        /// What went wrong.
        reason: String,
    },
    /// The server became unreachable during the run ([`MAX_CONSECUTIVE_UNREACHABLE`] voters in
    /// a row); the voters before were reported through the callback, the rest were not tried.
    #[error(
        "lost the SMTP server {server} after {processed} of {total} voters (last error: {reason}); \
         the remaining voters were not tried"
    )]
    ConnectionLost {
        /// `scheme://host:port`.
        server: String,
        /// Voters reported through the callback (sent or failed).
        processed: usize,
        /// Voters in the run.
        total: usize,
        /// The last connection error.
        reason: String,
    },
    /// The delivery callback of [`try_send_all`] failed (e.g. the report could not be written);
    /// the run stopped after the voter it was called for.
    #[error("recording a delivery failed, the run was stopped: {0}")]
    Report(#[source] io::Error),
}

/// What is wrong with a [`MailTemplate`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// The template file does not follow the format of [`MailTemplate::parse`].
    #[error("line {line}: {reason}")]
    Format {
        /// 1-based line in the file.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The template file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A stray or unclosed brace.
    #[error("{part}, line {line}: {reason}")]
    Syntax {
        /// Subject or body.
        part: TemplatePart,
        /// 1-based line within that part.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A placeholder that is not one of the known ones.
    #[error(
        "{part}, line {line}: unknown placeholder {placeholder} (known: {KNOWN_PLACEHOLDERS})"
    )]
    UnknownPlaceholder {
        /// The placeholder as written, braces included.
        placeholder: String,
        /// Subject or body.
        part: TemplatePart,
        /// 1-based line within that part.
        line: usize,
    },
    /// The body has no `{code}`.
    #[error("the body has no {{code}} placeholder, so voters would not get their code")]
    MissingCode,
    /// The subject has `{code}`.
    #[error("{{code}} must not be in the subject (mail servers log subjects); put it in the body")]
    CodeInSubject,
    /// The subject is empty or more than one line.
    #[error("bad subject: {reason}")]
    Subject {
        /// What is wrong.
        reason: &'static str,
    },
    /// A placeholder is used but its value is absent or blank.
    #[error("the template uses {placeholder} but no value for it was given")]
    MissingValue {
        /// The placeholder, braces included.
        placeholder: &'static str,
    },
    /// A value cannot be used where the template puts it.
    #[error("the value for {placeholder} cannot be used: {reason}")]
    BadValue {
        /// The placeholder, braces included.
        placeholder: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}

// ---------------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------------

/// Sends one message to every recipient, in order, calling `on_delivery` after each (to
/// advance a progress bar and write the report row as it happens).
///
/// Before anything is sent, everything that can be checked is: the settings and URL, the
/// sender, the template against `context`, every recipient (address, name, code, unique voter
/// id), and finally a connection to the server (TLS and authentication included); any problem
/// is an error and nothing is sent. With no recipients, no connection is made.
///
/// A message that cannot be delivered is not an error: it is a [`Delivery`] with status
/// [`DeliveryStatus::Failed`]. Transient failures (4xx replies, connection errors, timeouts)
/// are retried up to `settings.attempts` times with exponential backoff; permanent ones (5xx
/// replies, an address the server cannot take) are not. If the server becomes unreachable for
/// [`MAX_CONSECUTIVE_UNREACHABLE`] voters in a row, the run stops with
/// [`MailError::ConnectionLost`].
pub fn send_all(
    settings: &MailSettings,
    template: &MailTemplate,
    context: &MailContext,
    recipients: &[Recipient<'_>],
    mut on_delivery: impl FnMut(&Delivery),
) -> Result<DeliverySummary, MailError> {
    run(settings, template, context, recipients, &mut |d| {
        on_delivery(d);
        Ok(())
    })
}

/// [`send_all`] with a fallible callback: when `on_delivery` fails (say, the report file cannot
/// be written), the run stops at once with [`MailError::Report`], so that no voter is mailed
/// without a record of it.
pub fn try_send_all(
    settings: &MailSettings,
    template: &MailTemplate,
    context: &MailContext,
    recipients: &[Recipient<'_>],
    mut on_delivery: impl FnMut(&Delivery) -> io::Result<()>,
) -> Result<DeliverySummary, MailError> {
    run(settings, template, context, recipients, &mut on_delivery)
}

/// Shuts the pooled connections down (QUIT) however the run ends.
struct ShutdownOnDrop<'a>(&'a SmtpTransport);

impl Drop for ShutdownOnDrop<'_> {
    fn drop(&mut self) {
        self.0.shutdown();
    }
}

fn run(
    settings: &MailSettings,
    template: &MailTemplate,
    context: &MailContext,
    recipients: &[Recipient<'_>],
    on_delivery: &mut dyn FnMut(&Delivery) -> io::Result<()>,
) -> Result<DeliverySummary, MailError> {
    template.check(context)?;
    let prepared = prepare(settings)?;
    let mailboxes = check_recipients(template, recipients)?;
    let mut summary = DeliverySummary::default();
    if recipients.is_empty() {
        return Ok(summary);
    }

    let _shutdown = ShutdownOnDrop(&prepared.transport);
    connect_first(&prepared)?;

    let mut unreachable_in_a_row = 0;
    for (index, (recipient, to)) in recipients.iter().zip(mailboxes).enumerate() {
        let message = build_message(
            template,
            context,
            recipient,
            &prepared.from,
            to,
            &prepared.message_id_domain,
        )?;

        let mut secrets = prepared.secrets.clone();
        secrets.push(recipient.code.to_owned());
        let outcome = deliver(&prepared, &message, &secrets);
        if outcome.status == DeliveryStatus::Sent {
            summary.sent += 1;
        } else {
            summary.failed += 1;
        }
        let delivery = Delivery {
            voter_id: recipient.voter_id.to_owned(),
            email: recipient.email.to_owned(),
            status: outcome.status,
            attempts: outcome.attempts,
            detail: outcome.detail,
        };
        on_delivery(&delivery).map_err(MailError::Report)?;

        if outcome.unreachable {
            unreachable_in_a_row += 1;
            if unreachable_in_a_row >= MAX_CONSECUTIVE_UNREACHABLE && index + 1 < recipients.len() {
                return Err(MailError::ConnectionLost {
                    server: prepared.endpoint.display(),
                    processed: index + 1,
                    total: recipients.len(),
                    reason: delivery.detail,
                });
            }
        } else {
            unreachable_in_a_row = 0;
        }
    }
    Ok(summary)
}

/// One voter's message, as it is sent.
fn build_message(
    template: &MailTemplate,
    context: &MailContext,
    recipient: &Recipient<'_>,
    from: &Mailbox,
    to: Mailbox,
    message_id_domain: &str,
) -> Result<Message, MailError> {
    let rendered = template.render(context, recipient)?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(rendered.subject)
        .message_id(Some(message_id(message_id_domain)))
        .header(ContentType::TEXT_PLAIN)
        .body(rendered.body)
        .map_err(|e| MailError::Recipient {
            voter_id: recipient.voter_id.to_owned(),
            reason: format!("cannot build the message: {e}"),
        })
}

/// Writes every recipient's message, exactly as [`send_all`] would send it, as an RFC 5322
/// file (`NNNNNN.eml`, numbered from 1 in recipient order) into `outbox`, which must exist, for
/// a mail system that takes files, or for a demonstration without an SMTP server. Each file is
/// created new (never replacing one) with mode 0600 on Unix, since it holds a code; a delivery
/// is reported as sent once its file is written and synced.
pub fn write_outbox(
    from: &str,
    template: &MailTemplate,
    context: &MailContext,
    recipients: &[Recipient<'_>],
    outbox: &Path,
    mut on_delivery: impl FnMut(&Delivery) -> io::Result<()>,
) -> Result<DeliverySummary, MailError> {
    template.check(context)?;
    let from = parse_sender(from)?;
    let domain = message_id_domain(&from);
    let mailboxes = check_recipients(template, recipients)?;
    let mut summary = DeliverySummary::default();
    for (index, (recipient, to)) in recipients.iter().zip(mailboxes).enumerate() {
        let message = build_message(template, context, recipient, &from, to, &domain)?;
        let path = outbox.join(format!("{:06}.eml", index + 1));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&path).and_then(|mut file| {
            file.write_all(&message.formatted())?;
            file.sync_all()
        });
        let (status, detail) = match written {
            Ok(()) => (
                DeliveryStatus::Sent,
                format!("written to {}", path.display()),
            ),
            Err(e) => (
                DeliveryStatus::Failed,
                format!("could not write {}: {e}", path.display()),
            ),
        };
        match status {
            DeliveryStatus::Sent => summary.sent += 1,
            DeliveryStatus::Failed => summary.failed += 1,
        }
        on_delivery(&Delivery {
            voter_id: recipient.voter_id.to_owned(),
            email: recipient.email.to_owned(),
            status,
            attempts: 1,
            detail,
        })
        .map_err(MailError::Report)?;
    }
    Ok(summary)
}

/// Validates every recipient and builds its `To:` mailbox.
fn check_recipients(
    template: &MailTemplate,
    recipients: &[Recipient<'_>],
) -> Result<Vec<Mailbox>, MailError> {
    let needs_name = template.uses_name();
    let mut seen = HashSet::with_capacity(recipients.len());
    let mut out = Vec::with_capacity(recipients.len());
    for r in recipients {
        // The reason may quote the address or name; should a code have landed there (swapped
        // columns), it is scrubbed.
        let err = |reason: String| MailError::Recipient {
            voter_id: r.voter_id.to_owned(),
            reason: scrub(&reason, &[r.code.to_owned()]),
        };
        if r.voter_id.trim().is_empty() || has_control(r.voter_id) {
            return Err(err(
                "the voter id is empty or contains a control character".into()
            ));
        }
        if !seen.insert(r.voter_id) {
            return Err(err("this voter id appears more than once".into()));
        }
        if has_control(r.email) {
            return Err(err(format!(
                "the e-mail address {:?} contains a line break or another control character",
                r.email
            )));
        }
        if !r.email.contains('@') {
            return Err(err(format!("the e-mail address {:?} has no '@'", r.email)));
        }
        let address: Address = r
            .email
            .trim()
            .parse()
            .map_err(|e| err(format!("invalid e-mail address {:?}: {e}", r.email)))?;
        let name = r.name.map(str::trim).filter(|n| !n.is_empty());
        if let Some(n) = name {
            if has_control(n) {
                return Err(err(format!(
                    "the name {n:?} contains a line break or another control character"
                )));
            }
        } else if needs_name {
            return Err(err(
                "the template uses {name} but this voter has no name".into()
            ));
        }
        if r.code.trim().is_empty() {
            return Err(err("the credential code is empty".into()));
        }
        if has_control(r.code) {
            return Err(err(
                "the credential code contains a control character".into()
            ));
        }
        out.push(Mailbox::new(name.map(str::to_owned), address));
    }
    Ok(out)
}

/// Opens the first connection (TLS and AUTH included) so that a server that cannot be used at
/// all is an error before any voter is tried. Transient failures are retried like messages.
fn connect_first(p: &Prepared) -> Result<(), MailError> {
    let mut delay = p.retry_delay;
    let mut attempt = 1;
    loop {
        let reason = match p.transport.test_connection() {
            Ok(true) => return Ok(()),
            Ok(false) => "the server did not answer NOOP".to_owned(),
            Err(e) => {
                // A certificate that is not trusted now will not be trusted in a second.
                let permanent = classify(&e) == Failure::Permanent || is_tls_failure(&e);
                let reason = describe_connect_error(&e, p.endpoint.tls);
                if permanent || attempt >= p.attempts {
                    return Err(MailError::Connect {
                        server: p.endpoint.display(),
                        reason: scrub(&reason, &p.secrets),
                    });
                }
                reason
            }
        };
        if attempt >= p.attempts {
            return Err(MailError::Connect {
                server: p.endpoint.display(),
                reason: scrub(&reason, &p.secrets),
            });
        }
        std::thread::sleep(delay);
        delay = next_delay(delay);
        attempt += 1;
    }
}

fn describe_connect_error(e: &lettre::transport::smtp::Error, tls: TlsMode) -> String {
    let text = e.to_string();
    if tls == TlsMode::StartTls && text.contains("STARTTLS") {
        return "the server does not offer STARTTLS and TLS is required (use smtps:// if it \
                speaks implicit TLS; plaintext is allowed only to a loopback relay, with ?tls=none)"
            .to_owned();
    }
    if is_tls_failure(e) {
        if text.to_ascii_lowercase().contains("certificate") {
            return format!(
                "TLS failed: {text} (is the server certificate valid for this host name, and its \
                 issuer trusted? A private CA or a self-signed certificate goes in extra_root_pem)"
            );
        }
        if tls == TlsMode::Implicit {
            return format!(
                "TLS failed: {text} (does this port speak implicit TLS? STARTTLS servers, usually \
                 on port 587, take smtp:// instead)"
            );
        }
        return format!("TLS failed: {text}");
    }
    if let Some(code) = e.status() {
        let reply = reply_text(e);
        if code.to_string().starts_with("53") {
            return format!("authentication refused: {code} {reply}");
        }
        return format!("{code} {reply}");
    }
    text
}

/// Whether the error is a failed TLS handshake. lettre reports rustls handshake failures
/// (untrusted or mismatched certificate, no common protocol) as *network* errors wrapping an
/// `io::Error` of kind `InvalidData`, so `is_tls()` alone misses them.
fn is_tls_failure(e: &lettre::transport::smtp::Error) -> bool {
    use std::error::Error as _;
    if e.is_tls() {
        return true;
    }
    let mut source = e.source();
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<io::Error>() {
            if io.kind() == io::ErrorKind::InvalidData {
                return true;
            }
        }
        source = err.source();
    }
    false
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    /// A 5xx reply, or a problem retrying cannot fix.
    Permanent,
    /// A 4xx reply.
    Transient,
    /// No reply at all: refused, reset, timed out, TLS or protocol failure.
    Unreachable,
}

fn classify(e: &lettre::transport::smtp::Error) -> Failure {
    if e.is_permanent() {
        Failure::Permanent
    } else if e.is_transient() {
        Failure::Transient
    } else if e.is_client() || e.is_transport_shutdown() {
        // Client errors: no common auth mechanism, non-ASCII address without SMTPUTF8,
        // STARTTLS not offered: trying again cannot help.
        Failure::Permanent
    } else {
        Failure::Unreachable
    }
}

/// The reply text of an SMTP error (lettre keeps it as the error's source).
fn reply_text(e: &lettre::transport::smtp::Error) -> String {
    use std::error::Error as _;
    e.source().map(|s| s.to_string()).unwrap_or_default()
}

struct Outcome {
    status: DeliveryStatus,
    attempts: u32,
    detail: String,
    /// Every attempt failed without an SMTP reply.
    unreachable: bool,
}

fn deliver(p: &Prepared, message: &Message, secrets: &[String]) -> Outcome {
    let mut delay = p.retry_delay;
    let mut attempt = 1;
    let mut every_attempt_unreachable = true;
    loop {
        match p.transport.send(message) {
            Ok(response) => {
                let lines: Vec<&str> = response.message().collect();
                return Outcome {
                    status: DeliveryStatus::Sent,
                    attempts: attempt,
                    detail: scrub(&format!("{} {}", response.code(), lines.join(" ")), secrets),
                    unreachable: false,
                };
            }
            Err(e) => {
                let class = classify(&e);
                if class != Failure::Unreachable {
                    every_attempt_unreachable = false;
                }
                let detail = match e.status() {
                    Some(code) => format!("{code} {}", reply_text(&e)),
                    None => e.to_string(),
                };
                if class == Failure::Permanent || attempt >= p.attempts {
                    return Outcome {
                        status: DeliveryStatus::Failed,
                        attempts: attempt,
                        detail: scrub(&detail, secrets),
                        unreachable: every_attempt_unreachable,
                    };
                }
            }
        }
        std::thread::sleep(delay);
        delay = next_delay(delay);
        attempt += 1;
    }
}

fn next_delay(delay: Duration) -> Duration {
    delay.saturating_mul(2).min(MAX_RETRY_DELAY)
}

/// One line of at most [`MAX_DETAIL_CHARS`], control characters made spaces, secrets removed.
fn scrub(text: &str, secrets: &[String]) -> String {
    let mut s: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    for secret in secrets.iter().filter(|x| !x.is_empty()) {
        s = s.replace(secret.as_str(), REDACTED);
    }
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > MAX_DETAIL_CHARS {
        let mut cut: String = s.chars().take(MAX_DETAIL_CHARS).collect();
        cut.push('…');
        cut
    } else {
        s
    }
}

/// A fresh Message-ID: time, a process-wide counter and per-process random bits.
fn message_id(domain: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(n);
    hasher.write_u128(nanos);
    format!("<{nanos:x}.{n:x}.{:016x}@{domain}>", hasher.finish())
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

/// Writes [`REPORT_HEADER`] and a CRLF.
pub fn write_report_header(out: &mut impl Write) -> io::Result<()> {
    out.write_all(REPORT_HEADER.as_bytes())?;
    out.write_all(b"\r\n")
}

/// Writes one report row, `voter_id,email,status,attempts,detail`, CRLF-terminated, with
/// RFC 4180 quoting (a field with a comma, quote, CR, LF or edge space is quoted, quotes
/// doubled).
pub fn write_report_row(out: &mut impl Write, delivery: &Delivery) -> io::Result<()> {
    let attempts = delivery.attempts.to_string();
    let fields = [
        delivery.voter_id.as_str(),
        delivery.email.as_str(),
        delivery.status.as_str(),
        attempts.as_str(),
        delivery.detail.as_str(),
    ];
    let mut line = String::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        push_csv_field(&mut line, field);
    }
    line.push_str("\r\n");
    out.write_all(line.as_bytes())
}

fn push_csv_field(line: &mut String, field: &str) {
    let needs_quotes =
        field.contains([',', '"', '\r', '\n']) || field.starts_with(' ') || field.ends_with(' ');
    if needs_quotes {
        line.push('"');
        line.push_str(&field.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(field);
    }
}

/// Writes the delivery report as CSV: the header on creation, then one row per
/// [`write`](Self::write), flushed at once so that a stopped run loses nothing.
#[derive(Debug)]
pub struct ReportWriter<W: Write> {
    out: W,
}

impl<W: Write> ReportWriter<W> {
    /// Writes the header to `out` (and flushes).
    pub fn new(mut out: W) -> io::Result<Self> {
        write_report_header(&mut out)?;
        out.flush()?;
        Ok(ReportWriter { out })
    }

    /// Continues a report that already has its header (e.g. when resuming a run).
    pub fn append(out: W) -> Self {
        ReportWriter { out }
    }

    /// Writes one row and flushes.
    pub fn write(&mut self, delivery: &Delivery) -> io::Result<()> {
        write_report_row(&mut self.out, delivery)?;
        self.out.flush()
    }

    /// The underlying writer (e.g. to `sync_all` a file).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Returns the underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests;
