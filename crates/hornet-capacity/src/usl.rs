//! The Universal Scalability Law fitted to a search's steps (after Neil Gunther; Baron Schwartz's
//! *Practical Scalability Analysis with the USL*):
//!
//! `X(N) = λN / (1 + σ(N − 1) + κN(N − 1))`
//!
//! where `N` is the concurrency (users in the closed model; in the open model the mean number of
//! requests in flight, by Little's law `N = X · R`), `X` the throughput, `λ` the throughput of one
//! unit of concurrency alone, `σ` the contention (serialised share of the work: throughput
//! levels off at `λ/σ`) and `κ` the coherency cost (crosstalk: past the peak, more load gives
//! *less* throughput). With `κ > 0` the peak is at `N = √((1 − σ)/κ)`.
//!
//! The fit is least squares on the linear form `N/X = a + bN + cN²` (then `λ = 1/(a + b + c)`,
//! `κ = cλ`, `σ = bλ + κ`), each point weighted by `(X²/N)²` so that residuals count as errors in
//! throughput rather than in `N/X`. The reduced models (`κ = 0`, `σ = 0`, both, and the flat
//! ceiling `σ = 1`) are fitted too, each with `σ` clamped to [0, 1] and `κ` to ≥ 0, and the one
//! that explains `X` best is kept. `R²` is that of the fitted `X(N)` against the measured
//! throughputs.

use serde::Serialize;

/// Fewest distinct concurrency levels a fit needs (three parameters, and one to spare).
pub const MIN_POINTS: usize = 4;

/// A fitted Universal Scalability Law.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct UslFit {
    /// Throughput of one unit of concurrency alone (per second).
    pub lambda: f64,
    /// Contention, 0 to 1.
    pub sigma: f64,
    /// Coherency (crosstalk).
    pub kappa: f64,
    /// The concurrency of peak throughput (`None` when `κ = 0`: no retrograde region).
    pub peak_concurrency: Option<f64>,
    /// The peak throughput: `X` at the peak, or the ceiling `λ/σ` when `κ = 0` and `σ > 0`
    /// (`None` when neither applies: throughput grows linearly in the tested range).
    pub peak_throughput: Option<f64>,
    /// Coefficient of determination of the fitted `X(N)` over the points.
    pub r_squared: f64,
    /// Points fitted.
    pub points: usize,
}

impl UslFit {
    /// The throughput the law gives at concurrency `n`.
    pub fn throughput(&self, n: f64) -> f64 {
        usl(self.lambda, self.sigma, self.kappa, n)
    }
}

fn usl(lambda: f64, sigma: f64, kappa: f64, n: f64) -> f64 {
    lambda * n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0))
}

/// Solves the weighted least-squares problem `y ≈ Σ β_j f_j(x)` for the given basis; `None` when
/// it is singular.
fn least_squares<const K: usize>(rows: &[([f64; K], f64, f64)]) -> Option<[f64; K]> {
    // Normal equations A β = v, with A = Σ w f fᵀ and v = Σ w f y.
    let mut a = [[0.0; K]; K];
    let mut v = [0.0; K];
    for (f, y, w) in rows {
        for i in 0..K {
            v[i] += w * f[i] * y;
            for j in 0..K {
                a[i][j] += w * f[i] * f[j];
            }
        }
    }
    // Gaussian elimination with partial pivoting.
    for col in 0..K {
        let pivot = (col..K).max_by(|&p, &q| a[p][col].abs().total_cmp(&a[q][col].abs()))?;
        let scale = a.iter().map(|r| r[col].abs()).fold(0.0, f64::max);
        if a[pivot][col].abs() <= scale * 1e-12 || a[pivot][col] == 0.0 {
            return None;
        }
        a.swap(col, pivot);
        v.swap(col, pivot);
        let (top, below) = a.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for (offset, row) in below.iter_mut().enumerate() {
            let m = row[col] / pivot_row[col];
            for (x, p) in row.iter_mut().zip(pivot_row.iter()).skip(col) {
                *x -= m * p;
            }
            v[col + 1 + offset] -= m * v[col];
        }
    }
    let mut beta = [0.0; K];
    for r in (0..K).rev() {
        let s: f64 = (r + 1..K).map(|c| a[r][c] * beta[c]).sum();
        beta[r] = (v[r] - s) / a[r][r];
    }
    beta.iter().all(|b| b.is_finite()).then_some(beta)
}

/// Fits the law to `(concurrency, throughput)` points; `None` with fewer than [`MIN_POINTS`]
/// distinct concurrencies (points with a concurrency or throughput that is not positive are left
/// out) or when no feasible fit exists.
pub fn fit(points: &[(f64, f64)]) -> Option<UslFit> {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|&(n, x)| n.is_finite() && x.is_finite() && n > 0.0 && x > 0.0)
        .collect();
    let mut levels: Vec<f64> = pts.iter().map(|p| p.0).collect();
    levels.sort_by(f64::total_cmp);
    levels.dedup_by(|a, b| (*a - *b).abs() <= 1e-9 * b.abs().max(1.0));
    if levels.len() < MIN_POINTS {
        return None;
    }
    let weight = |n: f64, x: f64| (x * x / n).powi(2);
    let mut candidates = Vec::new();
    // Full model: N/X = a + bN + cN².
    let full: Vec<_> = pts.iter().map(|&(n, x)| ([1.0, n, n * n], n / x, weight(n, x))).collect();
    if let Some([a, b, c]) = least_squares(&full) {
        let lambda = 1.0 / (a + b + c);
        let kappa = c * lambda;
        candidates.push((lambda, b * lambda + kappa, kappa));
    }
    // κ = 0: N/X = a + bN, λ = 1/(a + b), σ = bλ.
    let no_kappa: Vec<_> = pts.iter().map(|&(n, x)| ([1.0, n], n / x, weight(n, x))).collect();
    if let Some([a, b]) = least_squares(&no_kappa) {
        let lambda = 1.0 / (a + b);
        candidates.push((lambda, b * lambda, 0.0));
    }
    // σ = 0: N/X = (1 + κN(N − 1))/λ = p + q(N² − N), λ = 1/p, κ = q/p.
    let no_sigma: Vec<_> = pts.iter().map(|&(n, x)| ([1.0, n * n - n], n / x, weight(n, x))).collect();
    if let Some([p, q]) = least_squares(&no_sigma) {
        candidates.push((1.0 / p, 0.0, q / p));
    }
    // σ = κ = 0: X = λN, least squares in X directly.
    let (sxy, sxx) = pts.iter().fold((0.0, 0.0), |(sxy, sxx), &(n, x)| (sxy + n * x, sxx + n * n));
    if sxx > 0.0 {
        candidates.push((sxy / sxx, 0.0, 0.0));
    }
    let mean = pts.iter().map(|p| p.1).sum::<f64>() / pts.len() as f64;
    // σ = 1, κ = 0: a flat ceiling at λ (what noise around a plateau often fits best).
    candidates.push((mean, 1.0, 0.0));
    let total: f64 = pts.iter().map(|p| (p.1 - mean).powi(2)).sum();
    let (lambda, sigma, kappa, r_squared) = candidates
        .into_iter()
        // Noise can put σ a little past its bounds: clamp, and let R² judge the clamped law.
        .map(|(l, s, k)| (l, s.clamp(0.0, 1.0), k.max(0.0)))
        .filter(|&(l, _, k)| l.is_finite() && l > 0.0 && k.is_finite())
        .map(|(l, s, k)| {
            let residual: f64 = pts.iter().map(|&(n, x)| (x - usl(l, s, k, n)).powi(2)).sum();
            let r2 = if total > 0.0 {
                1.0 - residual / total
            } else if residual == 0.0 {
                1.0
            } else {
                0.0
            };
            (l, s, k, r2)
        })
        .max_by(|a, b| a.3.total_cmp(&b.3))?;
    let peak_concurrency = (kappa > 0.0).then(|| ((1.0 - sigma) / kappa).sqrt());
    let peak_throughput = match peak_concurrency {
        Some(n) => Some(usl(lambda, sigma, kappa, n)),
        None if sigma > 0.0 => Some(lambda / sigma),
        None => None,
    };
    Some(UslFit { lambda, sigma, kappa, peak_concurrency, peak_throughput, r_squared, points: pts.len() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance * b.abs().max(1e-9)
    }

    #[test]
    fn exact_points_give_back_the_law() {
        let (lambda, sigma, kappa) = (95.0, 0.04, 0.0008);
        let points: Vec<_> = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 48.0, 64.0]
            .iter()
            .map(|&n| (n, usl(lambda, sigma, kappa, n)))
            .collect();
        let f = fit(&points).unwrap();
        assert!(
            close(f.lambda, lambda, 1e-6) && close(f.sigma, sigma, 1e-6) && close(f.kappa, kappa, 1e-6),
            "{f:?}"
        );
        assert!(f.r_squared > 0.999_999, "{f:?}");
        let peak = ((1.0 - sigma) / kappa).sqrt();
        assert!(close(f.peak_concurrency.unwrap(), peak, 1e-6));
        assert!(close(f.peak_throughput.unwrap(), usl(lambda, sigma, kappa, peak), 1e-6));
    }

    /// Contention only: throughput levels off at λ/σ and there is no peak concurrency.
    #[test]
    fn contention_only_has_a_ceiling_and_no_peak() {
        let points: Vec<_> =
            (1..=10).map(|n| (n as f64 * 3.0, usl(50.0, 0.1, 0.0, n as f64 * 3.0))).collect();
        let f = fit(&points).unwrap();
        assert!(close(f.sigma, 0.1, 1e-6) && f.kappa.abs() < 1e-9, "{f:?}");
        assert_eq!(f.peak_concurrency, None);
        assert!(close(f.peak_throughput.unwrap(), 500.0, 1e-6), "{f:?}");
    }

    /// A plateau with noise (a closed-model search past the workers' count) fits a ceiling at its
    /// level, not a law with a negative R².
    #[test]
    fn a_noisy_plateau_fits_a_ceiling() {
        let points = [
            (4.0, 185.7),
            (6.0, 189.3),
            (9.0, 185.3),
            (14.0, 188.0),
            (21.0, 188.0),
            (18.0, 187.3),
            (16.0, 188.0),
        ];
        let f = fit(&points).unwrap();
        assert!(f.r_squared >= 0.0, "{f:?}");
        assert!((f.throughput(12.0) - 187.0).abs() < 3.0, "{f:?}");
    }

    /// Noisy measurements still land near the truth, and R² says the fit is good but not perfect.
    #[test]
    fn noisy_points_fit_near_the_truth() {
        let (lambda, sigma, kappa) = (200.0, 0.02, 0.0005);
        let points: Vec<_> = (1..=12)
            .map(|i| {
                let n = i as f64 * 5.0;
                // ±2% deterministic wiggle.
                let wiggle = if i % 2 == 0 { 1.02 } else { 0.98 };
                (n, usl(lambda, sigma, kappa, n) * wiggle)
            })
            .collect();
        let f = fit(&points).unwrap();
        assert!(close(f.lambda, lambda, 0.1) && f.kappa > 0.0, "{f:?}");
        assert!(close(f.peak_concurrency.unwrap(), ((1.0 - sigma) / kappa).sqrt(), 0.15), "{f:?}");
        assert!(f.r_squared > 0.95 && f.r_squared < 1.0, "{f:?}");
    }

    /// A retrograde fit would need a negative contention: the reduced model is kept instead.
    #[test]
    fn parameters_are_never_negative() {
        // Superlinear at first (σ < 0 unconstrained), then falling.
        let points = [(1.0, 10.0), (2.0, 25.0), (4.0, 50.0), (8.0, 60.0), (16.0, 40.0)];
        let f = fit(&points).unwrap();
        assert!(f.sigma >= 0.0 && f.kappa >= 0.0 && f.lambda > 0.0, "{f:?}");
    }

    #[test]
    fn too_few_levels_give_no_fit() {
        assert_eq!(fit(&[(1.0, 10.0), (2.0, 19.0), (2.0, 19.5), (3.0, 27.0)]), None);
        assert_eq!(fit(&[(1.0, 10.0), (2.0, 0.0), (3.0, 27.0), (4.0, f64::NAN), (5.0, 40.0)]), None);
    }
}
