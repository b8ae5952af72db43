//! The open-file limit (`RLIMIT_NOFILE`): raised to the hard limit at start, and a warning before a
//! local run that plans more concurrent connections than it allows.

use hornet_script::plan::{Phase, PhaseKind, Plan};

/// Descriptors hornet keeps for itself beside its connections: standard streams, the runtime's
/// polls and wakers per thread, the report files, payload and processor files.
const OWN_FILES: u64 = 64;

/// Raises the soft limit on open files to the hard limit: each virtual user's connection is a file
/// descriptor, and the usual soft limit of 1,024 would cap a run at about a thousand connections.
pub fn raise_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit read and write one rlimit struct that lives for the call.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// The open-file limit now (soft, hard); `None` when it cannot be read or is unlimited.
fn limit() -> Option<(u64, u64)> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit struct that lives for the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0
        || limit.rlim_cur == libc::RLIM_INFINITY
    {
        return None;
    }
    Some((limit.rlim_cur, limit.rlim_max))
}

/// The most connections `plan` holds at once that can be known before it runs: the closed model's
/// peak users, and the VUs a `maxVusers` cap or a request-rate phase allows, each with its own
/// keep-alive connection; at most the shared pool when `config.http.pool` is set. An open phase
/// without a cap has no planned concurrency (it depends on the server's answers).
pub fn planned_connections(plan: &Plan) -> u64 {
    let users = hornet_schedule::Schedule::users(&plan.phases).peak();
    let capped = plan.phases.iter().filter_map(capped_vusers).max().unwrap_or(0);
    let vusers = users.max(capped);
    match plan.http.pool {
        Some(pool) => vusers.min(pool as u64),
        None => vusers,
    }
}

/// The VUs an open or request-rate phase allows at once, when it says.
fn capped_vusers(phase: &Phase) -> Option<u64> {
    match phase.kind {
        PhaseKind::Users { .. } | PhaseKind::Pause => None,
        _ => phase.max_vusers,
    }
}

/// The warning a local run of `plan` deserves when its planned connections and hornet's own
/// descriptors exceed the open-file limit; `None` when they fit.
pub fn shortage_warning(plan: &Plan) -> Option<String> {
    let (soft, hard) = limit()?;
    let planned = planned_connections(plan);
    let needed = planned.saturating_add(OWN_FILES);
    if needed <= soft {
        return None;
    }
    Some(format!(
        "warning: this run plans up to {planned} connections at once (one per virtual user), but hornet may \
         open only {soft} files (RLIMIT_NOFILE; hard limit {hard}): connections past it wait for one, then \
         fail as too-many-open-files, the generator's error, not the server's. Raise the limit (`ulimit -n \
         {needed}` or more), share connections with `config.http.pool`, or spread the load over workers"
    ))
}
