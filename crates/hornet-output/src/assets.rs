//! The files embedded in the HTML report and served by the web UI: the vendored uPlot 1.6.32
//! (MIT) and the report's own stylesheet and script. Each of them is inlined into a `<script>` or
//! `<style>` element, so none may contain text that would close it early.

/// uPlot 1.6.32, minified (MIT, see `assets/uPlot.LICENSE`).
pub const UPLOT_JS: &str = include_str!("../assets/uPlot.iife.min.js");
/// uPlot's stylesheet.
pub const UPLOT_CSS: &str = include_str!("../assets/uPlot.min.css");
/// uPlot's license, repeated in the page next to the library.
pub const UPLOT_LICENSE: &str = include_str!("../assets/uPlot.LICENSE");
/// The report's own stylesheet.
pub const REPORT_CSS: &str = include_str!("../assets/report.css");
/// The report's own script: draws the charts, sorts the tables, runs the self-check.
pub(crate) const REPORT_JS: &str = include_str!("../assets/report.js");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored_and_own_assets_cannot_close_their_elements() {
        for (name, text) in [
            ("uPlot js", UPLOT_JS),
            ("uPlot css", UPLOT_CSS),
            ("report js", REPORT_JS),
            ("report css", REPORT_CSS),
        ] {
            let lower = text.to_ascii_lowercase();
            assert!(
                !lower.contains("</script") && !lower.contains("</style") && !lower.contains("<!--"),
                "{name}"
            );
        }
        assert!(UPLOT_JS.starts_with("/*! https://github.com/leeoniya/uPlot (v1.6.32) */"));
        assert!(UPLOT_LICENSE.contains("MIT"));
    }
}
