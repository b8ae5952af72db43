//! Unit tests of the judging: thresholds, intervals, verdicts, tail percentiles, the decision steps.

use super::*;

#[test]
fn thresholds_parse_as_percentages_or_fractions() {
    assert_eq!(CompareOptions::parse_threshold("10%").unwrap(), 0.10);
    assert_eq!(CompareOptions::parse_threshold(" 2.5 % ").unwrap(), 0.025);
    assert_eq!(CompareOptions::parse_threshold("0.2").unwrap(), 0.2);
    assert_eq!(CompareOptions::parse_threshold("0").unwrap(), 0.0);
    for bad in ["", "%", "-5%", "ten", "NaN", "inf", "1e999"] {
        assert!(CompareOptions::parse_threshold(bad).is_err(), "{bad:?}");
    }
    assert_eq!(CompareOptions::default().threshold, 0.10);
    assert_eq!(threshold_text(0.1), "10%");
    assert_eq!(threshold_text(0.025), "2.5%");
}

#[test]
fn wilson_interval_is_sane_at_the_edges() {
    let side = |requests, failures| Side {
        requests,
        failures,
        duration_s: 1.0,
        histogram: "",
        summary: Summary::default(),
    };
    let zero = error_rate(&side(2000, 0));
    assert_eq!((zero.value, zero.lo), (0.0, 0.0));
    // z² / (n + z²) for no failures.
    assert!((zero.hi - Z * Z / (2000.0 + Z * Z)).abs() < 1e-12, "{zero:?}");
    let all = error_rate(&side(100, 100));
    assert_eq!((all.value, all.hi), (1.0, 1.0));
    assert!(all.lo > 0.9 && all.lo < 1.0, "{all:?}");
    let half = error_rate(&side(10_000, 5_000));
    assert!((half.lo - (0.5 - Z * 0.005)).abs() < 1e-4 && (half.hi - (0.5 + Z * 0.005)).abs() < 1e-4);
    // More failures than requests (several errors on one request) stays a proportion.
    assert_eq!(error_rate(&side(50, 80)).value, 1.0);
}

#[test]
fn verdicts_combine_worst_first() {
    use Verdict::*;
    assert_eq!(Verdict::combine([Same, Better, Worse]), Worse);
    assert_eq!(Verdict::combine([Same, Better, Same]), Better);
    assert_eq!(Verdict::combine([Same, Same]), Same);
    assert_eq!(Verdict::combine([]), Same);
}

#[test]
fn tail_percentiles_need_values_beyond_them() {
    let e = |value: f64, n: u64| Some(Estimate { value, lo: value, hi: value, n });
    // 30 values: enough for p50, not for p99 (needs 500) — however large the change.
    assert_eq!(judge("p50", e(6.0, 30), e(60.0, 30), 0.1).verdict, Verdict::Worse);
    let m = judge("p99", e(6.7, 30), e(9.5, 30), 0.1);
    assert_eq!(
        (m.verdict, m.note.as_str()),
        (Verdict::Same, "too few samples for p99 (30 and 30, need 500)")
    );
    assert_eq!(judge("p95", e(6.0, 100), e(60.0, 100), 0.1).verdict, Verdict::Worse);
    assert_eq!(judge("p95", e(6.0, 99), e(60.0, 100), 0.1).verdict, Verdict::Same);
}

#[test]
fn judge_steps() {
    let e = |value: f64, lo: f64, hi: f64, n: u64| Some(Estimate { value, lo, hi, n });
    let m = judge("p99", e(10.0, 9.0, 11.0, 10), e(50.0, 49.0, 51.0, 500), 0.1);
    assert_eq!((m.verdict, m.note.as_str()), (Verdict::Same, "too few samples (10 and 500, need 20)"));
    let m = judge("p50", e(10.0, 9.0, 11.0, 100), e(10.5, 10.4, 10.6, 100), 0.1);
    assert_eq!((m.verdict, m.note.as_str()), (Verdict::Same, "within the 10% threshold"));
    let m = judge("p50", e(10.0, 9.0, 13.0, 100), e(12.0, 11.0, 14.0, 100), 0.1);
    assert_eq!(m.verdict, Verdict::Same);
    assert!(m.note.starts_with("within noise"), "{}", m.note);
    let m = judge("p50", e(10.0, 9.0, 11.0, 100), e(12.0, 11.5, 14.0, 100), 0.1);
    assert_eq!(m.verdict, Verdict::Worse);
    assert!((m.change - 0.2).abs() < 1e-12);
    let m = judge("rps", e(10.0, 9.0, 11.0, 100), e(12.0, 11.5, 14.0, 100), 0.1);
    assert_eq!(m.verdict, Verdict::Better);
    let m = judge("error rate", e(0.0, 0.0, 0.01, 100), e(0.2, 0.1, 0.3, 100), 0.1);
    assert_eq!((m.verdict, m.change), (Verdict::Worse, 0.2));
    let m = judge("rps", None, e(12.0, 11.5, 14.0, 100), 0.1);
    assert_eq!(m.verdict, Verdict::Same);
    assert!(m.note.starts_with("too few samples"));
}
