//! The generator's behaviour on the notes doctors write, and on notes nobody should write.

use super::medication::medication;
use super::*;
use crate::model::report::{Diagnosis, Medication};
use crate::model::validate;

fn med(line: &str) -> Medication {
    medication(line)
}

fn m(
    drug: &str,
    dosage: Option<&str>,
    frequency: Option<&str>,
    duration: Option<&str>,
    instructions: Option<&str>,
) -> Medication {
    Medication {
        drug: drug.into(),
        dosage: dosage.map(Into::into),
        route: None,
        frequency: frequency.map(Into::into),
        duration: duration.map(Into::into),
        instructions: instructions.map(Into::into),
    }
}

const FULL: &str = "\
Presenting complaint: low mood for 3 months
Poor sleep, early waking.

MSE: Kempt, good rapport.
  Mood low, affect reactive.
Impression: Moderate depressive episode, no active risk.
Dx: F32.1 Moderate depressive episode; Z91.5 - Personal history of self-harm
Rx:
- Sertraline 50 mg once daily for 4 weeks - take with food
- Zopiclone 3.75mg nocte prn
Plan:
1. CBT referral
2) Sleep hygiene advice
   given in writing
* Bloods: TFTs, FBC
Follow-up: 4 weeks, sooner if worse
";

#[test]
fn files_every_section() {
    let report = generate(FULL, Some("Low mood")).unwrap();
    let c = &report.content;
    assert_eq!(
        c.history.as_deref(),
        Some("low mood for 3 months\nPoor sleep, early waking.")
    );
    assert_eq!(
        c.mental_status.as_deref(),
        Some("Kempt, good rapport.\nMood low, affect reactive.")
    );
    assert_eq!(
        c.assessment.as_deref(),
        Some("Moderate depressive episode, no active risk.")
    );
    assert_eq!(
        c.diagnoses,
        vec![
            Diagnosis {
                code: Some("F32.1".into()),
                description: "Moderate depressive episode".into()
            },
            Diagnosis {
                code: Some("Z91.5".into()),
                description: "Personal history of self-harm".into()
            },
        ]
    );
    assert_eq!(
        c.medication_plan,
        vec![
            m(
                "Sertraline",
                Some("50 mg"),
                Some("once daily"),
                Some("4 weeks"),
                Some("take with food")
            ),
            m("Zopiclone", Some("3.75mg"), Some("nocte prn"), None, None),
        ]
    );
    assert_eq!(
        c.recommendations,
        vec![
            "CBT referral",
            "Sleep hygiene advice given in writing",
            "Bloods: TFTs, FBC"
        ]
    );
    assert_eq!(c.follow_up.as_deref(), Some("4 weeks, sooner if worse"));
    assert_eq!(report.confidence, 1.0);
    assert!(validate::report_content(c.clone()).is_ok());
}

#[test]
fn headings_are_case_insensitive_and_tolerant() {
    let notes = "HISTORY: a\nmental  status: b\n## Assessment: c\n**Diagnoses:** J45 Asthma\n\
                 MEDICATION:x\nrecommendations: y\nFollow up: z\nfollow-up: again\nDiagnosis:\nJ45";
    let c = generate(notes, None).unwrap().content;
    assert_eq!(c.history.as_deref(), Some("a"));
    assert_eq!(c.mental_status.as_deref(), Some("b"));
    assert_eq!(c.assessment.as_deref(), Some("c"));
    assert_eq!(c.diagnoses[0].code.as_deref(), Some("J45"));
    assert_eq!(c.diagnoses[0].description, "Asthma");
    assert_eq!(c.diagnoses[1].code.as_deref(), Some("J45"));
    assert_eq!(c.diagnoses[1].description, "J45");
    assert_eq!(c.medication_plan[0].drug, "x");
    assert_eq!(c.recommendations, vec!["y"]);
    assert_eq!(c.follow_up.as_deref(), Some("z\n\nagain"));
}

#[test]
fn free_text_is_history() {
    let report = generate("  Seen with her mother.\nSays: \"I can't sleep\".  ", None).unwrap();
    assert_eq!(
        report.content.history.as_deref(),
        Some("Seen with her mother.\nSays: \"I can't sleep\".")
    );
    assert_eq!(report.confidence, 0.15);
    assert_eq!(report.content.assessment, None);
}

#[test]
fn chief_complaint_is_not_made_into_an_assessment() {
    let c = generate("History: cough", Some("Cough")).unwrap().content;
    assert_eq!(c.assessment, None);
    assert_eq!(c.history.as_deref(), Some("cough"));
}

#[test]
fn empty_notes_fail_with_a_reason() {
    assert_eq!(generate("", None), Err(GenerationError::NoNotes));
    assert_eq!(generate(" \n\t \r\n", None), Err(GenerationError::NoNotes));
    assert_eq!(generate("\u{0}\u{7}", None), Err(GenerationError::NoNotes));
    assert_eq!(
        generate("History:\nPlan:\n - \nDx: ;", None),
        Err(GenerationError::NoContent)
    );
    assert!(GenerationError::NoNotes.to_string().ends_with('.'));
    assert!(GenerationError::NoContent.to_string().contains("by hand"));
}

#[test]
fn colons_that_are_not_headings_stay_in_the_text() {
    let c = generate("10:30 arrived\nNote: anxious\nBP: 120/80", None)
        .unwrap()
        .content;
    assert_eq!(
        c.history.as_deref(),
        Some("10:30 arrived\nNote: anxious\nBP: 120/80")
    );
}

#[test]
fn parses_medication_lines() {
    let cases = [
        (
            "Sertraline 50 mg once daily for 4 weeks - take with food",
            m(
                "Sertraline",
                Some("50 mg"),
                Some("once daily"),
                Some("4 weeks"),
                Some("take with food"),
            ),
        ),
        (
            "Metformin 500mg b.d. with meals",
            m(
                "Metformin",
                Some("500mg"),
                Some("b.d."),
                None,
                Some("with meals"),
            ),
        ),
        (
            "Salbutamol 100 micrograms 2 puffs as needed",
            m(
                "Salbutamol",
                Some("100 micrograms 2 puffs"),
                Some("as needed"),
                None,
                None,
            ),
        ),
        (
            "Amoxicillin 500 mg three times a day x 7 days",
            m(
                "Amoxicillin",
                Some("500 mg"),
                Some("three times a day"),
                Some("7 days"),
                None,
            ),
        ),
        (
            "Paracetamol 1 g every 6 hours, max 4 g in 24 hours",
            m(
                "Paracetamol",
                Some("1 g"),
                Some("every 6 hours"),
                None,
                Some("max 4 g in 24 hours"),
            ),
        ),
        (
            "Vitamin D 1000 units daily ongoing",
            m(
                "Vitamin D",
                Some("1000 units"),
                Some("daily"),
                Some("ongoing"),
                None,
            ),
        ),
        (
            "Naproxen 500 mg BD for 2/52; stop if indigestion",
            m(
                "Naproxen",
                Some("500 mg"),
                Some("BD"),
                Some("2/52"),
                Some("stop if indigestion"),
            ),
        ),
        (
            "Continue current medication",
            m("Continue current medication", None, None, None, None),
        ),
        (
            "Lithium 400 mg at night until review, check levels",
            m(
                "Lithium",
                Some("400 mg"),
                Some("at night"),
                Some("until review"),
                Some("check levels"),
            ),
        ),
        (
            "Metformin 500 mg twice daily, increase to 1 g after 2 weeks",
            m(
                "Metformin",
                Some("500 mg"),
                Some("twice daily"),
                None,
                Some("increase to 1 g after 2 weeks"),
            ),
        ),
        ("5-FU cream", m("5-FU cream", None, None, None, None)),
        (
            "Propranolol 10mg tds prn for anxiety",
            m(
                "Propranolol",
                Some("10mg"),
                Some("tds prn"),
                None,
                Some("for anxiety"),
            ),
        ),
        (
            "Methylphenidate 18 mg in the morning q4h",
            m(
                "Methylphenidate",
                Some("18 mg"),
                Some("in the morning q4h"),
                None,
                None,
            ),
        ),
    ];
    for (line, expected) in cases {
        assert_eq!(med(line), expected, "{line}");
    }
}

#[test]
fn diagnoses_take_codes_from_either_end() {
    let c = generate(
        "Diagnoses:\n- f41.1: GAD\nMigraine (G43.9)\nVitamin B12 deficiency\nB12 deficiency\nT2DM\nF32",
        None,
    )
    .unwrap()
    .content;
    let got: Vec<_> = c
        .diagnoses
        .iter()
        .map(|d| (d.code.as_deref(), d.description.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (Some("F41.1"), "GAD"),
            (Some("G43.9"), "Migraine"),
            (None, "Vitamin B12 deficiency"),
            (None, "B12 deficiency"),
            (None, "T2DM"),
            (Some("F32"), "F32"),
        ]
    );
}

#[test]
fn bullets_are_stripped_but_numbers_kept() {
    let c = generate(
        "Plan:\n• leaflet\n-  walk daily\n1.5 litres fluid\n10) bloods\n- \n2.",
        None,
    )
    .unwrap()
    .content;
    assert_eq!(
        c.recommendations,
        vec!["leaflet", "walk daily", "1.5 litres fluid", "bloods"]
    );
}

#[test]
fn confidence_is_the_weighted_share_of_sections() {
    let r = generate("Assessment: a\nDx: F32 x\nPlan: p", None).unwrap();
    assert_eq!(r.confidence, 0.55);
    assert_eq!(
        generate("Assessment: a\nDx: F32 x\nPlan: p", None).unwrap(),
        r
    );
}

#[test]
fn control_characters_never_reach_the_report() {
    let c = generate("History: a\u{1b}[31mb\r\nPlan:\rx\u{85}y", None)
        .unwrap()
        .content;
    assert_eq!(c.history.as_deref(), Some("a [31mb"));
    assert_eq!(c.recommendations, vec!["x y"]);
    assert!(validate::report_content(c).is_ok());
}

#[test]
fn never_panics_on_odd_input() {
    let long_line = "x".repeat(100_000);
    let long_words = "Sertraline 50 mg for ".repeat(5_000);
    let many_lines = "Rx: 1 mg\n- \n".repeat(10_000);
    let emoji = "💊".repeat(30_000);
    let mut inputs: Vec<String> = vec![
        long_line,
        long_words.clone(),
        format!("Rx: {long_words}"),
        format!("Dx: {}", "F32.1;".repeat(20_000)),
        many_lines,
        emoji.clone(),
        format!("{emoji}:"),
        format!("Plan:{emoji}"),
        "é:".repeat(50_000),
        ":".repeat(100_000),
        "\u{0}\u{1}\u{2}\u{7f}\u{9f}\u{200b}\u{feff}".repeat(1_000),
        "Rx:\n-\n*\n•\n1.\n1)\n999999.\n; ;\n - ; - \nfor\nx\n×\nuntil\nevery\n½".into(),
        "Dx:\nF\nF3\nF32.\nF32.12345\nF32.1é\n(\n()\n(F32)\n x (F32.1)".into(),
        "Medications: 50 mg\n  continued\nRx: for 2 weeks\nx 7 days\nq\nqh\nq4h\n4x\n-hourly"
            .into(),
        "Plan:\n  - a\n    b\n\n    c\n".into(),
        "\r\r\r\n\n\r".into(),
        "ＨＩＳＴＯＲＹ： full-width\nİstanbul: x\nß: y".into(),
        "History\u{301}: combining\n\u{202e}Plan: rtl".into(),
    ];
    // Every heading, alone and followed by odd text.
    for head in [
        "History:",
        "HPI:",
        "MSE:",
        "Examination:",
        "Impression:",
        "Dx:",
        "Rx:",
        "Plan:",
        "Follow-up:",
    ] {
        inputs.push(head.into());
        inputs.push(format!("{head} - ; • 1. {}", "\u{1}".repeat(3)));
    }
    for input in &inputs {
        for cut in [0, 1, 2, 3, 7, 100] {
            // Cut at every character boundary near the start too.
            let end = input
                .char_indices()
                .nth(cut)
                .map_or(input.len(), |(at, _)| at);
            for text in [input.as_str(), &input[..end]] {
                if let Ok(r) = generate(text, Some("x")) {
                    assert!((0.0..=1.0).contains(&r.confidence));
                    let c = &r.content;
                    for text in [&c.history, &c.mental_status, &c.assessment, &c.follow_up]
                        .into_iter()
                        .flatten()
                    {
                        assert!(!text.is_empty() && text.trim() == text);
                    }
                    assert!(c.diagnoses.iter().all(|d| !d.description.is_empty()));
                    assert!(c.medication_plan.iter().all(|m| !m.drug.is_empty()));
                    assert!(c.recommendations.iter().all(|r| !r.is_empty()));
                    assert!(
                        c.medication_plan
                            .iter()
                            .flat_map(|m| [&m.dosage, &m.frequency, &m.duration, &m.instructions])
                            .flatten()
                            .all(|t| !t.is_empty())
                    );
                }
            }
        }
    }
}

#[test]
fn handles_notes_far_above_the_size_limit() {
    let notes = FULL.repeat(500); // ~250 KB, beyond the 100,000-character limit
    let report = generate(&notes, None).unwrap();
    assert_eq!(report.content.medication_plan.len(), 1000);
    assert_eq!(report.content.diagnoses.len(), 1000);
    assert_eq!(report.confidence, 1.0);
}
