//! The layout every format renders: the patient banner (repeated on every page of a PDF),
//! and sections of blocks. A section about an unsigned report is marked draft, so the PDF
//! prints "DRAFT — NOT SIGNED" across its pages and the Markdown says so at its top.

/// Who the document is about: the two identifiers and the allergy state, printed on every
/// page, as on every screen of the workstation about one patient.
#[derive(Debug, Clone, PartialEq)]
pub struct Banner {
    pub full_name: String,
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
    pub mrn: String,
    /// One line: "Allergies: Penicillin (rash, severe)", "No known allergies" or "Allergies
    /// not recorded".
    pub allergies: String,
}

/// One piece of content, in reading order.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// The document's title.
    Title(String),
    /// A section heading.
    Heading(String),
    /// A smaller heading inside a section.
    Subheading(String),
    /// `label: value` on one line.
    Field(String, String),
    /// Free text; `\n` starts a new line.
    Paragraph(String),
    /// A bulleted item.
    Bullet(String),
    /// Something the reader must not miss (a draft, a failure).
    Notice(String),
}

/// A run of blocks; in a PDF each section starts on a new page.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// The section is an unsigned report: "DRAFT — NOT SIGNED" across its pages.
    pub draft: bool,
    pub blocks: Vec<Block>,
}

/// What is exported, laid out.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The document's title in the PDF's metadata (no patient data).
    pub title: String,
    pub banner: Banner,
    pub sections: Vec<Section>,
    /// The line at the foot of every page: when and by what it was exported.
    pub footer: String,
}

/// The words printed across an unsigned report.
pub const DRAFT_MARK: &str = "DRAFT — NOT SIGNED";
