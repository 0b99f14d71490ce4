//! The word and condition tables the generator draws from: the files in `data/` beside this
//! one, compiled in with `include_str!` and parsed once, on first use.
//!
//! The tables borrow from the compiled-in text, so parsing copies no strings, and every entry
//! keeps its place: the generator picks by position, so the order of the lines is part of the
//! data a seed gives.

use std::ops::RangeInclusive;
use std::sync::LazyLock;

/// A clinical picture a patient presents with, and the phrases its notes are written from
/// (`data/conditions.txt`, which describes each field).
#[derive(Debug)]
pub(super) struct Condition {
    /// In running text: "Review of low mood."
    pub name: &'static str,
    /// A follow-up's chief complaint.
    pub review_complaint: &'static str,
    pub weight: u32,
    pub ages: RangeInclusive<u32>,
    /// Psychiatric conditions get a mental state examination, others a physical one.
    pub psychiatric: bool,
    pub complaints: Vec<&'static str>,
    /// "{d}" is replaced by how long the illness has lasted.
    pub history: Vec<&'static str>,
    pub exam: Vec<&'static str>,
    /// First visits.
    pub impressions: Vec<&'static str>,
    /// Follow-ups, which may also reuse an impression.
    pub review_impressions: Vec<&'static str>,
    /// ICD-10 code and description.
    pub diagnoses: Vec<(&'static str, &'static str)>,
    pub medications: Vec<&'static str>,
    pub plans: Vec<&'static str>,
    pub symptoms: Vec<&'static str>,
}

/// Phrases for the patients of some ages only.
#[derive(Debug)]
pub(super) struct AgeBand {
    pub ages: RangeInclusive<u32>,
    pub phrases: Vec<&'static str>,
}

/// Every table, as the files hold them.
#[derive(Debug)]
pub(super) struct Tables {
    pub conditions: Vec<Condition>,
    pub female_names: Vec<&'static str>,
    pub male_names: Vec<&'static str>,
    pub neutral_names: Vec<&'static str>,
    pub surnames: Vec<&'static str>,
    pub email_domains: Vec<&'static str>,
    pub streets: Vec<&'static str>,
    pub towns: Vec<&'static str>,
    pub specialties: Vec<&'static str>,
    /// A substance and the reactions it causes.
    pub allergens: Vec<(&'static str, Vec<&'static str>)>,
    pub alerts: Vec<&'static str>,
    pub symptom_notes: Vec<&'static str>,
    /// Home, school or work.
    pub social: Vec<AgeBand>,
    /// Smoking, alcohol and drugs.
    pub substances: Vec<AgeBand>,
    pub progress: Vec<&'static str>,
    pub adherence: Vec<&'static str>,
    pub risk: Vec<&'static str>,
    pub general_plans: Vec<&'static str>,
    pub follow_ups: Vec<&'static str>,
    pub cancel_reasons: Vec<&'static str>,
    pub edit_recommendations: Vec<&'static str>,
    pub addenda: Vec<&'static str>,
}

impl Tables {
    /// The social history phrases for a patient of this age.
    pub fn social(&self, age: u32) -> Option<&[&'static str]> {
        band_for(&self.social, age)
    }

    /// The smoking, alcohol and drug phrases for a patient of this age; `None` for the young
    /// children nobody asks.
    pub fn substances(&self, age: u32) -> Option<&[&'static str]> {
        band_for(&self.substances, age)
    }
}

fn band_for(bands: &[AgeBand], age: u32) -> Option<&[&'static str]> {
    bands
        .iter()
        .find(|band| band.ages.contains(&age))
        .map(|band| band.phrases.as_slice())
}

/// The tables, parsed on first use.
pub(super) fn tables() -> &'static Tables {
    &TABLES
}

// The files are part of the binary, and `every_file_parses_and_has_what_the_generator_needs`
// parses them, so a build whose tests pass cannot fail here: the tables are constants kept in
// files, and a broken one is a defect of the build, reported with its file and line.
static TABLES: LazyLock<Tables> = LazyLock::new(|| match Tables::parse() {
    Ok(tables) => tables,
    Err(error) => panic!("the synthetic data compiled into this build is invalid: {error}"),
});

/// A line of a data file that does not say what the generator needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("data/{file}, line {line}: {problem}")]
pub(super) struct DataError {
    file: &'static str,
    line: usize,
    problem: String,
}

fn error(file: &'static str, line: usize, problem: impl Into<String>) -> DataError {
    DataError {
        file,
        line,
        problem: problem.into(),
    }
}

/// A compiled-in data file: its name (for errors) and its text.
#[derive(Clone, Copy)]
struct DataFile {
    name: &'static str,
    text: &'static str,
}

macro_rules! data_file {
    ($name:literal) => {
        DataFile {
            name: $name,
            text: include_str!(concat!("data/", $name)),
        }
    };
}

impl Tables {
    fn parse() -> Result<Tables, DataError> {
        let generic_reviews = list(data_file!("generic_reviews.txt"))?;
        Ok(Tables {
            conditions: conditions(data_file!("conditions.txt"), &generic_reviews)?,
            female_names: list(data_file!("female_names.txt"))?,
            male_names: list(data_file!("male_names.txt"))?,
            neutral_names: list(data_file!("neutral_names.txt"))?,
            surnames: list(data_file!("surnames.txt"))?,
            email_domains: list(data_file!("email_domains.txt"))?,
            streets: list(data_file!("streets.txt"))?,
            towns: list(data_file!("towns.txt"))?,
            specialties: list(data_file!("specialties.txt"))?,
            allergens: allergens(data_file!("allergens.tsv"))?,
            alerts: list(data_file!("alerts.txt"))?,
            symptom_notes: list(data_file!("symptom_notes.txt"))?,
            social: age_bands(data_file!("social.tsv"))?,
            substances: age_bands(data_file!("substances.tsv"))?,
            progress: list(data_file!("progress.txt"))?,
            adherence: list(data_file!("adherence.txt"))?,
            risk: list(data_file!("risk.txt"))?,
            general_plans: list(data_file!("general_plans.txt"))?,
            follow_ups: list(data_file!("follow_ups.txt"))?,
            cancel_reasons: list(data_file!("cancel_reasons.txt"))?,
            edit_recommendations: list(data_file!("edit_recommendations.txt"))?,
            addenda: list(data_file!("addenda.txt"))?,
        })
    }
}

/// The lines of a file with their numbers, a checkout's carriage returns removed, comment
/// lines (`#`) skipped. Blank lines are kept: they end a block of `conditions.txt`.
fn lines(file: DataFile) -> impl Iterator<Item = (usize, &'static str)> {
    file.text
        .split('\n')
        .enumerate()
        .map(|(index, line)| (index + 1, line.strip_suffix('\r').unwrap_or(line)))
        .filter(|(_, line)| !line.starts_with('#'))
}

/// A value as written, refused with a reason when it is empty or has spaces around it, since
/// those change the generated text without anyone seeing why.
fn value(file: DataFile, line: usize, text: &'static str) -> Result<&'static str, DataError> {
    if text.is_empty() {
        return Err(error(
            file.name,
            line,
            "an empty entry; write the text or remove the line",
        ));
    }
    if text.trim() != text {
        return Err(error(
            file.name,
            line,
            format!("{text:?} has spaces or tabs at its start or end; remove them"),
        ));
    }
    Ok(text)
}

/// A file of one entry a line.
fn list(file: DataFile) -> Result<Vec<&'static str>, DataError> {
    let mut entries = Vec::new();
    for (line, text) in lines(file) {
        if !text.is_empty() {
            entries.push(value(file, line, text)?);
        }
    }
    if entries.is_empty() {
        return Err(error(
            file.name,
            1,
            "the file has no entries; add at least one",
        ));
    }
    Ok(entries)
}

/// `allergens.tsv`: a substance and its reactions, separated by tabs.
fn allergens(file: DataFile) -> Result<Vec<(&'static str, Vec<&'static str>)>, DataError> {
    let mut allergens = Vec::new();
    for (line, text) in lines(file) {
        if text.is_empty() {
            continue;
        }
        let mut fields = text.split('\t');
        let substance = value(file, line, fields.next().unwrap_or_default())?;
        let reactions = fields
            .map(|reaction| value(file, line, reaction))
            .collect::<Result<Vec<_>, _>>()?;
        if reactions.is_empty() {
            return Err(error(
                file.name,
                line,
                format!("{substance} has no reaction; add one after a tab"),
            ));
        }
        allergens.push((substance, reactions));
    }
    if allergens.is_empty() {
        return Err(error(
            file.name,
            1,
            "the file has no entries; add at least one",
        ));
    }
    Ok(allergens)
}

/// Ages as the files write them: `10-120`, or `65+` for 65 and over.
fn ages(file: DataFile, line: usize, text: &str) -> Result<RangeInclusive<u32>, DataError> {
    let bad = || {
        error(
            file.name,
            line,
            format!("{text:?} is not an age range; write it as 12-17, or 65+ for 65 and over"),
        )
    };
    let number = |n: &str| n.parse::<u32>().map_err(|_| bad());
    let range = match text.strip_suffix('+') {
        Some(from) => number(from)?..=u32::MAX,
        None => {
            let (from, to) = text.split_once('-').ok_or_else(bad)?;
            number(from)?..=number(to)?
        }
    };
    if range.is_empty() {
        return Err(bad());
    }
    Ok(range)
}

/// `social.tsv`, `substances.tsv`: ages, a tab, a phrase. Lines for the same ages form one band,
/// in the order they stand.
fn age_bands(file: DataFile) -> Result<Vec<AgeBand>, DataError> {
    let mut bands: Vec<AgeBand> = Vec::new();
    for (line, text) in lines(file) {
        if text.is_empty() {
            continue;
        }
        let Some((range, phrase)) = text.split_once('\t') else {
            return Err(error(
                file.name,
                line,
                "no tab; write the ages, a tab, then the phrase",
            ));
        };
        let range = ages(file, line, range)?;
        let phrase = value(file, line, phrase)?;
        match bands.iter_mut().find(|band| band.ages == range) {
            Some(band) => band.phrases.push(phrase),
            None => {
                if bands.iter().any(|band| overlap(&band.ages, &range)) {
                    return Err(error(
                        file.name,
                        line,
                        "these ages overlap another line's; give each age one range",
                    ));
                }
                bands.push(AgeBand {
                    ages: range,
                    phrases: vec![phrase],
                });
            }
        }
    }
    Ok(bands)
}

fn overlap(a: &RangeInclusive<u32>, b: &RangeInclusive<u32>) -> bool {
    a.start() <= b.end() && b.start() <= a.end()
}

/// A condition as its block is read: scalars may be missing until the block ends.
#[derive(Default)]
struct ConditionBlock {
    first_line: usize,
    name: Option<&'static str>,
    review_complaint: Option<&'static str>,
    weight: Option<u32>,
    ages: Option<RangeInclusive<u32>>,
    psychiatric: Option<bool>,
    complaints: Vec<&'static str>,
    history: Vec<&'static str>,
    exam: Vec<&'static str>,
    impressions: Vec<&'static str>,
    review_impressions: Vec<&'static str>,
    diagnoses: Vec<(&'static str, &'static str)>,
    medications: Vec<&'static str>,
    plans: Vec<&'static str>,
    symptoms: Vec<&'static str>,
}

/// `conditions.txt`: blocks of `key: value` lines, separated by blank lines.
fn conditions(
    file: DataFile,
    generic_reviews: &[&'static str],
) -> Result<Vec<Condition>, DataError> {
    let mut conditions = Vec::new();
    let mut block: Option<ConditionBlock> = None;
    for (line, text) in lines(file) {
        if text.is_empty() {
            if let Some(done) = block.take() {
                conditions.push(done.finish(file, generic_reviews)?);
            }
            continue;
        }
        let current = block.get_or_insert_with(|| ConditionBlock {
            first_line: line,
            ..ConditionBlock::default()
        });
        let Some((key, text)) = text.split_once(": ") else {
            return Err(error(
                file.name,
                line,
                "no \": \"; write a key, a colon and a space, then the value",
            ));
        };
        current.set(file, line, key, value(file, line, text)?)?;
    }
    if let Some(done) = block.take() {
        conditions.push(done.finish(file, generic_reviews)?);
    }
    if conditions.is_empty() {
        return Err(error(
            file.name,
            1,
            "the file has no conditions; add at least one",
        ));
    }
    Ok(conditions)
}

impl ConditionBlock {
    fn set(
        &mut self,
        file: DataFile,
        line: usize,
        key: &str,
        text: &'static str,
    ) -> Result<(), DataError> {
        let once = |slot_is_set: bool| {
            if slot_is_set {
                Err(error(
                    file.name,
                    line,
                    format!("a second \"{key}\" in one condition; keep one"),
                ))
            } else {
                Ok(())
            }
        };
        match key {
            "name" => {
                once(self.name.is_some())?;
                self.name = Some(text);
            }
            "review complaint" => {
                once(self.review_complaint.is_some())?;
                self.review_complaint = Some(text);
            }
            "weight" => {
                once(self.weight.is_some())?;
                let weight = text.parse::<u32>().ok().filter(|w| *w > 0).ok_or_else(|| {
                    error(
                        file.name,
                        line,
                        format!("weight {text:?} is not a whole number above 0"),
                    )
                })?;
                self.weight = Some(weight);
            }
            "ages" => {
                once(self.ages.is_some())?;
                self.ages = Some(ages(file, line, text)?);
            }
            "psychiatric" => {
                once(self.psychiatric.is_some())?;
                self.psychiatric = Some(match text {
                    "yes" => true,
                    "no" => false,
                    _ => {
                        return Err(error(
                            file.name,
                            line,
                            format!("psychiatric {text:?}: write yes or no"),
                        ));
                    }
                });
            }
            "complaint" => self.complaints.push(text),
            "history" => self.history.push(text),
            "exam" => self.exam.push(text),
            "impression" => self.impressions.push(text),
            "review impression" => self.review_impressions.push(text),
            "diagnosis" => {
                let Some((code, description)) = text.split_once(' ') else {
                    return Err(error(
                        file.name,
                        line,
                        "a diagnosis needs its code, a space, then its description",
                    ));
                };
                self.diagnoses.push((code, value(file, line, description)?));
            }
            "medication" => self.medications.push(text),
            "plan" => self.plans.push(text),
            "symptom" => self.symptoms.push(text),
            _ => {
                return Err(error(
                    file.name,
                    line,
                    format!("unknown key \"{key}\"; the head of the file lists the keys"),
                ));
            }
        }
        Ok(())
    }

    fn finish(
        self,
        file: DataFile,
        generic_reviews: &[&'static str],
    ) -> Result<Condition, DataError> {
        let line = self.first_line;
        let missing = |key: &str| {
            error(
                file.name,
                line,
                format!("the condition starting here has no \"{key}\"; add one"),
            )
        };
        let required = |entries: Vec<&'static str>, key: &str| {
            if entries.is_empty() {
                Err(missing(key))
            } else {
                Ok(entries)
            }
        };
        if self.diagnoses.is_empty() {
            return Err(missing("diagnosis"));
        }
        Ok(Condition {
            name: self.name.ok_or_else(|| missing("name"))?,
            review_complaint: self
                .review_complaint
                .ok_or_else(|| missing("review complaint"))?,
            weight: self.weight.ok_or_else(|| missing("weight"))?,
            ages: self.ages.ok_or_else(|| missing("ages"))?,
            psychiatric: self.psychiatric.ok_or_else(|| missing("psychiatric"))?,
            complaints: required(self.complaints, "complaint")?,
            history: required(self.history, "history")?,
            exam: required(self.exam, "exam")?,
            impressions: required(self.impressions, "impression")?,
            review_impressions: if self.review_impressions.is_empty() {
                generic_reviews.to_vec()
            } else {
                self.review_impressions
            },
            diagnoses: self.diagnoses,
            medications: required(self.medications, "medication")?,
            plans: required(self.plans, "plan")?,
            symptoms: required(self.symptoms, "symptom")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reportgen;

    #[test]
    fn every_file_parses_and_has_what_the_generator_needs() {
        let t = Tables::parse().unwrap();
        for c in &t.conditions {
            assert!(!c.complaints.is_empty() && !c.history.is_empty() && !c.exam.is_empty());
            assert!(!c.impressions.is_empty() && !c.review_impressions.is_empty());
            assert!(!c.diagnoses.is_empty() && !c.medications.is_empty());
            assert!(!c.plans.is_empty() && !c.symptoms.is_empty());
            assert!(c.weight > 0 && !c.ages.is_empty());
            // Every history has a place for the illness's duration.
            assert!(c.history.iter().all(|h| h.contains("{d}")), "{}", c.name);
            // The report generator reads every code back as it was written.
            for (code, _) in &c.diagnoses {
                let parsed = reportgen::generate(&format!("Dx: {code} x"), None).unwrap();
                assert_eq!(parsed.content.diagnoses[0].code.as_deref(), Some(*code));
            }
        }
        // Every age from birth to 120 has a condition, a social history, and the substance
        // questions from 14.
        for age in 0..=120 {
            assert!(t.conditions.iter().any(|c| c.ages.contains(&age)), "{age}");
            assert!(t.social(age).is_some_and(|s| !s.is_empty()), "{age}");
            assert_eq!(t.substances(age).is_some(), age >= 14, "{age}");
        }
        assert!(t.social(200).is_some() && t.substances(200).is_some());
        assert!(t.female_names.len() + t.male_names.len() >= 120 && t.surnames.len() >= 100);
        // No email can reach anyone: every domain is reserved for examples (RFC 2606).
        for domain in &t.email_domains {
            assert!(
                ["example.com", "example.org", "example.net"]
                    .iter()
                    .any(|reserved| domain == reserved || domain.ends_with(&format!(".{reserved}"))),
                "{domain}"
            );
        }
        for list in [
            &t.neutral_names,
            &t.streets,
            &t.towns,
            &t.specialties,
            &t.alerts,
            &t.symptom_notes,
            &t.progress,
            &t.adherence,
            &t.risk,
            &t.general_plans,
            &t.follow_ups,
            &t.cancel_reasons,
            &t.edit_recommendations,
            &t.addenda,
        ] {
            assert!(!list.is_empty());
        }
        assert!(
            t.allergens
                .iter()
                .all(|(_, reactions)| !reactions.is_empty())
        );
    }

    #[test]
    fn the_tables_are_parsed_once() {
        assert!(std::ptr::eq(tables(), tables()));
    }

    fn file(text: &'static str) -> DataFile {
        DataFile {
            name: "test.txt",
            text,
        }
    }

    const CONDITION: &str = "name: n\nreview complaint: r\nweight: 2\nages: 1-9\npsychiatric: no\n\
        complaint: c\nhistory: h {d}\nexam: e\nimpression: i\ndiagnosis: A00 d\n\
        medication: m\nplan: p\nsymptom: s\n";

    #[test]
    fn lists_keep_their_order_and_skip_comments_and_blank_lines() {
        let entries = list(file("# about\nb\r\n\na\n# more\nc\n")).unwrap();
        assert_eq!(entries, vec!["b", "a", "c"]);
    }

    #[test]
    fn a_bad_line_is_named_with_its_file_and_line() {
        let err = list(file("# about\nok\n trailing space \n")).unwrap_err();
        assert_eq!(err.line, 3);
        assert!(
            err.to_string().starts_with("data/test.txt, line 3: "),
            "{err}"
        );
        assert_eq!(list(file("# only a comment\n\n")).unwrap_err().line, 1);
        let err = allergens(file("Latex\tHives\nDust\n")).unwrap_err();
        assert_eq!((err.line, err.problem.contains("no reaction")), (2, true));
        let err = age_bands(file("0-11\ta\n5-20\tb\n")).unwrap_err();
        assert_eq!((err.line, err.problem.contains("overlap")), (2, true));
        let err = age_bands(file("0-11 a\n")).unwrap_err();
        assert!(err.problem.contains("tab"));
        for bad in ["9-1", "x", "1-", "+", "-3"] {
            assert!(ages(file(""), 1, bad).is_err(), "{bad}");
        }
        assert_eq!(ages(file(""), 1, "65+").unwrap(), 65..=u32::MAX);
    }

    #[test]
    fn conditions_are_blocks_of_keys() {
        let text: &'static str = CONDITION;
        let parsed = conditions(file(text), &["generic"]).unwrap();
        assert_eq!(parsed.len(), 1);
        let c = &parsed[0];
        assert_eq!((c.name, c.weight, c.ages.clone()), ("n", 2, 1..=9));
        assert!(!c.psychiatric);
        assert_eq!(c.diagnoses, vec![("A00", "d")]);
        // Without review impressions of its own, a condition takes the generic ones.
        assert_eq!(c.review_impressions, vec!["generic"]);

        let two: &'static str = "name: a\nreview complaint: r\nweight: 1\nages: 0+\n\
            psychiatric: yes\ncomplaint: c\nhistory: h\nexam: e\nimpression: i\n\
            review impression: own\ndiagnosis: B00 d\nmedication: m\nplan: p\nsymptom: s\n\n\n\
            # a comment between blocks\nname: b\nreview complaint: r\nweight: 1\nages: 0-1\n\
            psychiatric: no\ncomplaint: c\nhistory: h\nexam: e\nimpression: i\n\
            diagnosis: C00 d\nmedication: m\nplan: p\nsymptom: s";
        let parsed = conditions(file(two), &["generic"]).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].review_impressions, vec!["own"]);
        assert_eq!(parsed[1].name, "b");
    }

    #[test]
    fn a_bad_condition_says_what_to_fix() {
        let cases: [(&'static str, usize, &str); 6] = [
            ("name: n\nweight: heavy\n", 2, "whole number"),
            ("name: n\nname: m\n", 2, "second \"name\""),
            ("name: n\ncolour: red\n", 2, "unknown key \"colour\""),
            ("name: n\npsychiatric: maybe\n", 2, "yes or no"),
            ("\n\nname: n\nweight: 1\n", 3, "no \"diagnosis\""),
            ("name n\n", 1, "\": \""),
        ];
        for (text, line, problem) in cases {
            let err = conditions(file(text), &["generic"]).unwrap_err();
            assert_eq!(err.line, line, "{text}");
            assert!(err.problem.contains(problem), "{text}: {err}");
        }
        // Each required field, left out, is named.
        for key in ["review complaint", "ages", "complaint", "symptom"] {
            let text: String = CONDITION
                .lines()
                .filter(|line| !line.starts_with(&format!("{key}:")))
                .map(|line| format!("{line}\n"))
                .collect();
            let err = conditions(file(text.leak()), &["generic"]).unwrap_err();
            assert!(err.problem.contains(&format!("\"{key}\"")), "{key}: {err}");
        }
    }
}
