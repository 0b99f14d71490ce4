//! A QR code drawn in text (Unicode half blocks, two rows of modules a line), so an
//! `otpauth://` URI can be scanned from a phone off a terminal, over SSH too. Shared by the
//! CLI and the workstation, which both show an enrolment's secret.

use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;

/// The lines of `data`'s QR code with its quiet zone. With `light_on_dark`, the code's light
/// modules are the drawn blocks, as a terminal with a dark background needs to show it the
/// right way round; without, the dark modules are (for a light background, or a view that
/// sets its own dark-on-light colours). Empty when `data` is too long for a QR code.
pub fn lines(data: &str, light_on_dark: bool) -> Vec<String> {
    let Ok(code) = QrCode::new(data.as_bytes()) else {
        return Vec::new();
    };
    let mut renderer = code.render::<Dense1x2>();
    renderer.quiet_zone(true);
    if light_on_dark {
        renderer
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark);
    }
    renderer.build().lines().map(str::to_string).collect()
}

/// [`lines`] joined with newlines.
pub fn text(data: &str, light_on_dark: bool) -> String {
    lines(data, light_on_dark).join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uri_draws_as_square_rows_of_half_blocks() {
        let drawn = lines(
            "otpauth://totp/Synapse:anna%40example.org?secret=JBSWY3DPEHPK3PXP&issuer=Synapse",
            false,
        );
        assert!(drawn.len() > 10);
        let width = drawn[0].chars().count();
        assert!(drawn.iter().all(|l| l.chars().count() == width));
        // Two modules a line: about half as many lines as columns.
        assert!(drawn.len() * 2 >= width && drawn.len() * 2 <= width + 2);
        assert!(
            drawn
                .iter()
                .any(|l| l.contains('▀') || l.contains('▄') || l.contains('█'))
        );
    }
}
