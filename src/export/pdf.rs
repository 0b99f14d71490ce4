//! A `Document` as an A4 PDF for printing, written with krilla: DejaVu Sans (vendored in
//! assets/fonts, which covers Latin and Vietnamese) embedded as subsets; the patient banner
//! (name, date of birth, MRN, allergies) at the top of EVERY page, so a loose page still says
//! whose it is; "Page n of N" and the export line at the foot; "DRAFT — NOT SIGNED" printed
//! across every page of an unsigned report. Text wraps at word boundaries (a word wider than
//! the line is cut) and flows onto further pages, the banner repeated on each.
//!
//! Layout runs in two passes: lines are placed on pages first, so the page count is known
//! when the pages are drawn.

use krilla::Document as PdfDocument;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Transform};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};

use super::ExportError;
use super::document::{Banner, Block, DRAFT_MARK, Document};

const REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// A4 in points.
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN_X: f32 = 56.0;
const TEXT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN_X;
const BANNER_TOP: f32 = 36.0;
/// The body's last baseline: above the footer's rule.
const BODY_BOTTOM: f32 = PAGE_HEIGHT - 64.0;
const FOOTER_RULE: f32 = PAGE_HEIGHT - 48.0;
const FOOTER_BASELINE: f32 = PAGE_HEIGHT - 34.0;
/// At most this many lines of allergies in the banner; the rest is cut with "…".
const BANNER_ALLERGY_LINES: usize = 3;

const BODY_SIZE: f32 = 10.0;
const BULLET_INDENT: f32 = 14.0;

/// One of the two faces, with the metrics to measure text in it.
struct Face {
    font: Font,
    metrics: ttf_parser::Face<'static>,
}

impl Face {
    fn load(data: &'static [u8]) -> Result<Face, ExportError> {
        let font = Font::new(data.into(), 0)
            .ok_or_else(|| ExportError("the embedded font does not load".into()))?;
        let metrics = ttf_parser::Face::parse(data, 0)
            .map_err(|e| ExportError(format!("the embedded font does not parse: {e}")))?;
        Ok(Face { font, metrics })
    }

    /// How wide `text` is at `size` points: the sum of the glyphs' advances (kerning only
    /// narrows it, so a line measured to fit does fit).
    fn width(&self, text: &str, size: f32) -> f32 {
        let per_unit = size / f32::from(self.metrics.units_per_em());
        text.chars()
            .map(|c| {
                self.metrics
                    .glyph_index(c)
                    .and_then(|g| self.metrics.glyph_hor_advance(g))
                    .map_or(0.0, f32::from)
            })
            .sum::<f32>()
            * per_unit
    }
}

struct Fonts {
    regular: Face,
    bold: Face,
}

impl Fonts {
    fn face(&self, bold: bool) -> &Face {
        if bold { &self.bold } else { &self.regular }
    }
}

/// `text` cut into lines no wider than `width`, at spaces where it can be; its own line
/// breaks kept, blank lines kept as empty lines.
fn wrap(face: &Face, text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if face.width(&candidate, size) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A word wider than the line (a long URL, a run of characters) is cut.
            for c in word.chars() {
                line.push(c);
                if face.width(&line, size) > width {
                    line.pop();
                    lines.push(std::mem::take(&mut line));
                    line.push(c);
                }
            }
        }
        lines.push(line);
    }
    lines
}

/// A run of text at an offset from the line's left edge.
#[derive(Debug, Clone)]
struct Span {
    x: f32,
    text: String,
    bold: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tone {
    Normal,
    Muted,
    Alert,
}

/// One line of the body: its spans, size, height and space above.
#[derive(Debug, Clone)]
struct Line {
    spans: Vec<Span>,
    size: f32,
    height: f32,
    space_before: f32,
    tone: Tone,
    /// A heading: kept on the page of the lines after it.
    keep_with_next: bool,
}

impl Line {
    fn text(text: String, bold: bool, size: f32) -> Line {
        Line {
            spans: vec![Span { x: 0.0, text, bold }],
            size,
            height: size * 1.4,
            space_before: 0.0,
            tone: Tone::Normal,
            keep_with_next: false,
        }
    }
}

/// The lines of one block.
fn block_lines(fonts: &Fonts, block: &Block) -> Vec<Line> {
    let plain = |text: &str, bold: bool, size: f32, space: f32, tone: Tone, keep: bool| {
        wrap(fonts.face(bold), text, size, TEXT_WIDTH)
            .into_iter()
            .enumerate()
            .map(|(i, t)| Line {
                space_before: if i == 0 { space } else { 0.0 },
                tone,
                keep_with_next: keep,
                ..Line::text(t, bold, size)
            })
            .collect::<Vec<_>>()
    };
    match block {
        Block::Title(text) => plain(text, true, 15.0, 4.0, Tone::Normal, true),
        Block::Heading(text) => plain(text, true, 12.0, 10.0, Tone::Normal, true),
        Block::Subheading(text) => plain(text, true, 10.5, 6.0, Tone::Muted, true),
        Block::Paragraph(text) => plain(text, false, BODY_SIZE, 2.0, Tone::Normal, false),
        Block::Notice(text) => plain(text, true, BODY_SIZE, 4.0, Tone::Alert, false),
        Block::Field(label, value) => {
            let label = format!("{label}: ");
            let offset = fonts.bold.width(&label, BODY_SIZE);
            let mut lines: Vec<Line> = wrap(&fonts.regular, value, BODY_SIZE, TEXT_WIDTH - offset)
                .into_iter()
                .map(|t| Line {
                    spans: vec![Span {
                        x: offset,
                        text: t,
                        bold: false,
                    }],
                    ..Line::text(String::new(), false, BODY_SIZE)
                })
                .collect();
            if let Some(first) = lines.first_mut() {
                first.spans.insert(
                    0,
                    Span {
                        x: 0.0,
                        text: label,
                        bold: true,
                    },
                );
            }
            lines
        }
        Block::Bullet(text) => {
            let mut lines: Vec<Line> =
                wrap(&fonts.regular, text, BODY_SIZE, TEXT_WIDTH - BULLET_INDENT)
                    .into_iter()
                    .map(|t| Line {
                        spans: vec![Span {
                            x: BULLET_INDENT,
                            text: t,
                            bold: false,
                        }],
                        ..Line::text(String::new(), false, BODY_SIZE)
                    })
                    .collect();
            if let Some(first) = lines.first_mut() {
                first.space_before = 1.0;
                first.spans.insert(
                    0,
                    Span {
                        x: 3.0,
                        text: "•".into(),
                        bold: false,
                    },
                );
            }
            lines
        }
    }
}

/// The banner's lines, and where the body starts below it.
struct BannerLayout {
    name: String,
    identifiers: String,
    allergies: Vec<String>,
    body_top: f32,
}

fn banner_layout(fonts: &Fonts, banner: &Banner) -> BannerLayout {
    let mut allergies = wrap(&fonts.bold, &banner.allergies, 9.0, TEXT_WIDTH);
    if allergies.len() > BANNER_ALLERGY_LINES {
        allergies.truncate(BANNER_ALLERGY_LINES);
        if let Some(last) = allergies.last_mut() {
            last.push_str(" …");
        }
    }
    let name = wrap(&fonts.bold, &banner.full_name, 13.0, TEXT_WIDTH - 140.0)
        .into_iter()
        .next()
        .unwrap_or_default();
    let rule = BANNER_TOP + 14.0 + 14.0 + 12.0 * allergies.len() as f32;
    BannerLayout {
        name,
        identifiers: format!("Born {} · {}", banner.date_of_birth, banner.mrn),
        allergies,
        body_top: rule + 8.0,
    }
}

/// A page's lines with their baselines.
struct PageLines {
    draft: bool,
    lines: Vec<(f32, Line)>,
}

/// Places the lines of every section on pages below `top`; each section starts a page.
fn paginate(fonts: &Fonts, document: &Document, top: f32) -> Vec<PageLines> {
    let mut pages: Vec<PageLines> = Vec::new();
    for section in &document.sections {
        let lines: Vec<Line> = section
            .blocks
            .iter()
            .flat_map(|b| block_lines(fonts, b))
            .collect();
        pages.push(PageLines {
            draft: section.draft,
            lines: Vec::new(),
        });
        let mut y = top;
        for (i, line) in lines.iter().enumerate() {
            let mut needed = line.space_before + line.height;
            if line.keep_with_next {
                // A heading with at least two lines of what follows, or none at the foot.
                needed += lines
                    .iter()
                    .skip(i + 1)
                    .take(2)
                    .map(|l| l.space_before + l.height)
                    .sum::<f32>();
            }
            let at_top = y == top;
            if !at_top && y + needed > BODY_BOTTOM {
                pages.push(PageLines {
                    draft: section.draft,
                    lines: Vec::new(),
                });
                y = top;
            }
            if y != top {
                y += line.space_before;
            }
            y += line.height;
            if let Some(page) = pages.last_mut() {
                page.lines.push((y - line.height * 0.28, line.clone()));
            }
        }
    }
    if pages.is_empty() {
        pages.push(PageLines {
            draft: false,
            lines: Vec::new(),
        });
    }
    pages
}

fn fill(r: u8, g: u8, b: u8, opacity: f32) -> Fill {
    Fill {
        paint: rgb::Color::new(r, g, b).into(),
        opacity: NormalizedF32::new(opacity).unwrap_or(NormalizedF32::ONE),
        rule: Default::default(),
    }
}

const INK: (u8, u8, u8) = (20, 20, 20);
const MUTED: (u8, u8, u8) = (90, 90, 90);
const ALERT: (u8, u8, u8) = (170, 20, 20);

fn set_ink(surface: &mut Surface, (r, g, b): (u8, u8, u8)) {
    surface.set_fill(Some(fill(r, g, b, 1.0)));
}

fn text(surface: &mut Surface, face: &Face, x: f32, y: f32, size: f32, text: &str) {
    if text.is_empty() {
        return;
    }
    surface.draw_text(
        Point::from_xy(x, y),
        face.font.clone(),
        size,
        text,
        false,
        TextDirection::Auto,
    );
}

fn rule(surface: &mut Surface, y: f32) {
    let mut path = PathBuilder::new();
    path.move_to(MARGIN_X, y);
    path.line_to(PAGE_WIDTH - MARGIN_X, y);
    if let Some(path) = path.finish() {
        surface.set_fill(None);
        surface.set_stroke(Some(Stroke {
            paint: rgb::Color::new(120, 120, 120).into(),
            width: 0.6,
            ..Default::default()
        }));
        surface.draw_path(&path);
        surface.set_stroke(None);
    }
}

fn draw_banner(surface: &mut Surface, fonts: &Fonts, banner: &BannerLayout) {
    set_ink(surface, INK);
    let mut y = BANNER_TOP + 14.0;
    text(surface, &fonts.bold, MARGIN_X, y, 13.0, &banner.name);
    y += 14.0;
    text(
        surface,
        &fonts.regular,
        MARGIN_X,
        y,
        9.5,
        &banner.identifiers,
    );
    set_ink(surface, ALERT);
    for line in &banner.allergies {
        y += 12.0;
        text(surface, &fonts.bold, MARGIN_X, y, 9.0, line);
    }
    rule(surface, y + 6.0);
}

fn draw_footer(surface: &mut Surface, fonts: &Fonts, footer: &str, number: usize, count: usize) {
    rule(surface, FOOTER_RULE);
    set_ink(surface, MUTED);
    text(
        surface,
        &fonts.regular,
        MARGIN_X,
        FOOTER_BASELINE,
        8.5,
        footer,
    );
    let page = format!("Page {number} of {count}");
    let width = fonts.regular.width(&page, 8.5);
    text(
        surface,
        &fonts.regular,
        PAGE_WIDTH - MARGIN_X - width,
        FOOTER_BASELINE,
        8.5,
        &page,
    );
}

/// "DRAFT — NOT SIGNED" corner to corner, pale, over the page; and level in the banner's
/// corner, where it stays readable however faint the printer (and text extraction, which
/// drops diagonal text, finds it).
fn draw_draft_mark(surface: &mut Surface, fonts: &Fonts) {
    set_ink(surface, ALERT);
    let corner = fonts.bold.width(DRAFT_MARK, 11.0);
    text(
        surface,
        &fonts.bold,
        PAGE_WIDTH - MARGIN_X - corner,
        BANNER_TOP + 14.0,
        11.0,
        DRAFT_MARK,
    );
    let size = 50.0;
    let width = fonts.bold.width(DRAFT_MARK, size);
    let (cx, cy) = (PAGE_WIDTH / 2.0, PAGE_HEIGHT / 2.0);
    let angle = -(PAGE_HEIGHT / PAGE_WIDTH).atan().to_degrees();
    surface.push_transform(&Transform::from_rotate_at(angle, cx, cy));
    surface.set_fill(Some(fill(200, 30, 30, 0.22)));
    text(
        surface,
        &fonts.bold,
        cx - width / 2.0,
        cy + size * 0.35,
        size,
        DRAFT_MARK,
    );
    surface.pop();
}

fn draw_line(surface: &mut Surface, fonts: &Fonts, y: f32, line: &Line) {
    set_ink(
        surface,
        match line.tone {
            Tone::Normal => INK,
            Tone::Muted => MUTED,
            Tone::Alert => ALERT,
        },
    );
    for span in &line.spans {
        text(
            surface,
            fonts.face(span.bold),
            MARGIN_X + span.x,
            y,
            line.size,
            &span.text,
        );
    }
}

pub fn render(document: &Document) -> Result<Vec<u8>, ExportError> {
    let fonts = Fonts {
        regular: Face::load(REGULAR_TTF)?,
        bold: Face::load(BOLD_TTF)?,
    };
    let banner = banner_layout(&fonts, &document.banner);
    let pages = paginate(&fonts, document, banner.body_top);
    let count = pages.len();
    let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
        .ok_or_else(|| ExportError("the page size is not valid".into()))?;
    let mut pdf = PdfDocument::new();
    pdf.set_metadata(
        krilla::metadata::Metadata::new()
            .title(document.title.clone())
            .creator("Synapse".into()),
    );
    for (i, page_lines) in pages.iter().enumerate() {
        let mut page = pdf.start_page_with(settings.clone());
        let mut surface = page.surface();
        draw_banner(&mut surface, &fonts, &banner);
        for (y, line) in &page_lines.lines {
            draw_line(&mut surface, &fonts, *y, line);
        }
        draw_footer(&mut surface, &fonts, &document.footer, i + 1, count);
        if page_lines.draft {
            draw_draft_mark(&mut surface, &fonts);
        }
        surface.finish();
        page.finish();
    }
    pdf.finish().map_err(|e| ExportError(format!("{e:?}")))
}
