//! The manifest's titles and labels in other languages (MANIFEST-3c, spec/crypto.md §7.3):
//! what a booth shows a voter who reads another language, bound into the manifest hash like
//! every other word on the ballot, so that no server can show one language's voters another
//! ballot.
//!
//! Each language is complete: the election's title, its contact when it has one, and every
//! contest's title and every option's label, keyed by the manifest's ids. Nothing else (ids,
//! rules, order) is translated.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{check_text, contact_problem, put_str, Manifest, ManifestError};

/// Most languages a manifest may carry.
pub const MAX_LANGUAGES: usize = 32;

/// One language's words for the ballot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Translation {
    /// The election's title.
    pub title: String,
    /// The contact, exactly when the manifest has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// Every contest, by id.
    pub contests: BTreeMap<String, ContestTranslation>,
}

/// One contest's words in a language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContestTranslation {
    /// The contest's title (its question).
    pub title: String,
    /// Every option's label, by id.
    pub selections: BTreeMap<String, String>,
}

/// Whether `tag` is a language tag this manifest accepts: a BCP 47 language subtag of 2 or 3
/// lowercase letters, optionally `-` and a region of 2 uppercase letters (`fr`, `ar`, `pt-BR`).
pub fn is_language_tag(tag: &str) -> bool {
    let (language, region) = match tag.split_once('-') {
        Some((l, r)) => (l, Some(r)),
        None => (tag, None),
    };
    (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_lowercase())
        && region.is_none_or(|r| r.len() == 2 && r.bytes().all(|b| b.is_ascii_uppercase()))
}

impl Manifest {
    /// The title, contest titles and labels in `language` (a key of `translations`), or the
    /// manifest's own words when it has no such translation.
    pub fn translated(&self, language: &str) -> Manifest {
        let Some(t) = self.translations.get(language) else {
            return self.clone();
        };
        let mut out = self.clone();
        out.title.clone_from(&t.title);
        if t.contact.is_some() {
            out.contact.clone_from(&t.contact);
        }
        for contest in &mut out.contests {
            if let Some(ct) = t.contests.get(&contest.id) {
                contest.title.clone_from(&ct.title);
                for selection in &mut contest.selections {
                    if let Some(label) = ct.selections.get(&selection.id) {
                        selection.label.clone_from(label);
                    }
                }
            }
        }
        out
    }

    /// MANIFEST-3c: every translation is for a valid language tag and complete.
    pub(super) fn check_translations(&self) -> Result<(), ManifestError> {
        if self.translations.len() > MAX_LANGUAGES {
            return Err(invalid(
                "",
                format!(
                    "at most {MAX_LANGUAGES} languages, not {}",
                    self.translations.len()
                ),
            ));
        }
        for (language, t) in &self.translations {
            if !is_language_tag(language) {
                return Err(invalid(
                    language,
                    "not a language tag such as `fr`, `ar` or `pt-BR`".to_owned(),
                ));
            }
            check_text(&format!("{language}: title"), &t.title)?;
            match (&self.contact, &t.contact) {
                (Some(_), Some(contact)) => {
                    check_text(&format!("{language}: contact"), contact)?;
                    if let Some(why) = contact_problem(contact) {
                        return Err(invalid(language, format!("the contact: {why}")));
                    }
                }
                (Some(_), None) => {
                    return Err(invalid(
                        language,
                        "the contact is not translated".to_owned(),
                    ))
                }
                (None, Some(_)) => {
                    return Err(invalid(
                        language,
                        "translates a contact the manifest does not have".to_owned(),
                    ))
                }
                (None, None) => {}
            }
            for contest in &self.contests {
                let ct = t.contests.get(&contest.id).ok_or_else(|| {
                    invalid(
                        language,
                        format!("contest `{}` is not translated", contest.id),
                    )
                })?;
                check_text(&format!("{language}: {}", contest.id), &ct.title)?;
                if ct.selections.len() != contest.selections.len() {
                    return Err(invalid(
                        language,
                        format!(
                            "contest `{}`: {} options translated, the contest has {}",
                            contest.id,
                            ct.selections.len(),
                            contest.selections.len()
                        ),
                    ));
                }
                for selection in &contest.selections {
                    let label = ct.selections.get(&selection.id).ok_or_else(|| {
                        invalid(
                            language,
                            format!("option `{}/{}` is not translated", contest.id, selection.id),
                        )
                    })?;
                    check_text(
                        &format!("{language}: {}/{}", contest.id, selection.id),
                        label,
                    )?;
                }
            }
            // Every contest is translated (above), so more entries are contests it does not have.
            if t.contests.len() != self.contests.len() {
                return Err(invalid(
                    language,
                    "translates a contest the manifest does not have".to_owned(),
                ));
            }
        }
        Ok(())
    }

    /// The translations trailer of [`Manifest::canonical_bytes`]: `str("translations") ‖
    /// u32(#languages) ‖` per language in tag order `str(tag) ‖ str(title) ‖ [str(contact)] ‖`
    /// per contest in ballot order `str(title) ‖` per option in ballot order `str(label)`. The
    /// contact is there exactly when the manifest has one; the counts are the manifest's.
    pub(super) fn put_translations(&self, out: &mut Vec<u8>) {
        if self.translations.is_empty() {
            return;
        }
        put_str(out, TRANSLATIONS_TRAILER_TAG);
        out.extend_from_slice(&(self.translations.len() as u32).to_be_bytes());
        for (language, t) in &self.translations {
            put_str(out, language);
            put_str(out, &t.title);
            if let Some(contact) = &t.contact {
                put_str(out, contact);
            }
            for contest in &self.contests {
                // Validated complete; a manifest built by hand and not validated encodes its
                // gaps as empty strings rather than panicking.
                let ct = t.contests.get(&contest.id);
                put_str(out, ct.map_or("", |c| c.title.as_str()));
                for selection in &contest.selections {
                    let label = ct.and_then(|c| c.selections.get(&selection.id));
                    put_str(out, label.map_or("", String::as_str));
                }
            }
        }
    }
}

/// The tag of the translations trailer (after the contact trailer).
pub const TRANSLATIONS_TRAILER_TAG: &str = "translations";

fn invalid(language: &str, reason: String) -> ManifestError {
    ManifestError::InvalidTranslation {
        language: language.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// The referendum of crypto.md §7.3, with a French translation.
    const REFERENDUM_FR: &str = r#"{"title": "Referendum", "contests": [{"id": "q1",
        "title": "Adopt the proposal?", "style": {"type": "plurality"}, "selections": [
        {"id": "yes", "label": "Yes"}, {"id": "no", "label": "No"}]}],
        "translations": {"fr": {"title": "Référendum", "contests": {"q1": {
        "title": "Adopter la proposition ?", "selections": {"yes": "Oui", "no": "Non"}}}}}}"#;

    #[test]
    fn the_worked_value_of_the_spec() {
        let m = Manifest::from_json(REFERENDUM_FR).unwrap();
        let bytes = m.canonical_bytes();
        assert_eq!(bytes.len(), 197);
        let plain = Manifest {
            translations: BTreeMap::new(),
            ..m.clone()
        };
        assert_eq!(&bytes[..113], &plain.canonical_bytes()[..]);
        assert_eq!(
            hex::encode(&bytes[113..]),
            "0000000c7472616e736c6174696f6e73000000010000000266720000000c52c3a966c3a972656e64756d0000001841646f70746572206c612070726f706f736974696f6e203f000000034f7569000000034e6f6e"
        );
        let hash = hex::encode(m.hash().0);
        assert_eq!(
            hash,
            "e8ae8531b290b963a6933cb74eee0da831f1ffb04db61f6045273569d0dd9128"
        );
        let spec = include_str!("../../../spec/crypto.md");
        assert!(spec.contains(&hash), "spec/crypto.md §7.3 shows {hash}");
        // JSON round trip, and the words in French.
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(Manifest::from_json(&json).unwrap(), m);
        let fr = m.translated("fr");
        assert_eq!(fr.title, "Référendum");
        assert_eq!(fr.contests[0].selections[1].label, "Non");
        assert_eq!(fr.contests[0].selections[1].id, "no");
        assert_eq!(m.translated("de"), m);
    }

    fn refused(edit: impl Fn(&mut serde_json::Value), why: &str) {
        let mut v: serde_json::Value = serde_json::from_str(REFERENDUM_FR).unwrap();
        edit(&mut v);
        let got = Manifest::from_json(&v.to_string());
        assert!(
            matches!(&got, Err(ManifestError::InvalidTranslation { reason, .. }) if reason.contains(why)),
            "{why}: {got:?}"
        );
    }

    #[test]
    fn incomplete_or_extra_translations_are_refused() {
        refused(
            |v| v["translations"]["fr"]["contests"] = serde_json::json!({}),
            "contest `q1` is not translated",
        );
        refused(
            |v| {
                v["translations"]["fr"]["contests"]["q2"] =
                    v["translations"]["fr"]["contests"]["q1"].clone()
            },
            "does not have",
        );
        refused(
            |v| {
                let sel = &mut v["translations"]["fr"]["contests"]["q1"]["selections"];
                sel.as_object_mut().unwrap().remove("no");
            },
            "1 options translated, the contest has 2",
        );
        refused(
            |v| {
                let sel = &mut v["translations"]["fr"]["contests"]["q1"]["selections"];
                let obj = sel.as_object_mut().unwrap();
                obj.remove("no");
                obj.insert("non".into(), "Non".into());
            },
            "option `q1/no` is not translated",
        );
        refused(
            |v| v["translations"]["fr"]["contact"] = "Mairie".into(),
            "contact the manifest does not have",
        );
        refused(
            |v| v["contact"] = "Town hall".into(),
            "the contact is not translated",
        );
        for tag in ["FR", "f", "fren", "fr-fr", "fr-FRA", "fr_FR", ""] {
            refused(
                |v| {
                    let t = v["translations"]["fr"].clone();
                    v["translations"] = serde_json::json!({ tag: t });
                },
                "not a language tag",
            );
        }
        assert!(is_language_tag("pt-BR") && is_language_tag("ar") && is_language_tag("fil"));
        // Unknown fields are refused.
        let mut v: serde_json::Value = serde_json::from_str(REFERENDUM_FR).unwrap();
        v["translations"]["fr"]["dir"] = "ltr".into();
        assert!(matches!(
            Manifest::from_json(&v.to_string()),
            Err(ManifestError::Json(_))
        ));
    }

    #[test]
    fn every_word_is_bound() {
        let m = Manifest::from_json(REFERENDUM_FR).unwrap();
        let mut other = m.clone();
        if let Some(t) = other.translations.get_mut("fr") {
            if let Some(c) = t.contests.get_mut("q1") {
                c.selections.insert("no".into(), "Oui".into());
            }
        }
        assert_ne!(m.hash(), other.hash());
        let mut renamed = m.clone();
        if let Some(t) = renamed.translations.remove("fr") {
            renamed.translations.insert("fr-CA".into(), t);
        }
        assert_ne!(m.hash(), renamed.hash());
    }
}
