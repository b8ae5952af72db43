//! Writing the JSON report file.

use std::io;
use std::path::Path;

use hornet_metrics::Report;

use crate::file::write_file;

/// Writes `report` as pretty-printed JSON to `path` with [`write_file`]: atomically for a new path
/// or a regular file (a reader never sees a half-written report, and an existing file is only
/// replaced once the new one is complete), in place for a device, FIFO or symbolic link, to
/// standard output for `-`.
pub fn write_json(report: &Report, path: &Path) -> io::Result<()> {
    let mut json = report.to_json().map_err(io::Error::other)?;
    json.push('\n');
    write_file(path, json.as_bytes())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use std::ffi::OsString;
    use std::fs;

    use hornet_metrics::{Aggregator, Recorder, RunMeta, Timings};

    use super::*;

    fn report() -> Report {
        let mut r = Recorder::new(1, 1);
        r.vu_created(0);
        r.request_sent(0, 10);
        r.response(0, 200, &Timings { total: Duration::from_millis(3), ..Timings::default() }, 99);
        let mut agg = Aggregator::new(vec!["GET /".into()], vec!["s".into()]);
        agg.add_tick(Duration::from_secs(1), vec![r.take_interval()], 1);
        agg.report(RunMeta {
            seed: 1,
            command: "hornet".into(),
            ..RunMeta::for_tests(Duration::from_secs(1))
        })
    }

    #[test]
    fn writes_replaces_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        fs::write(&path, "old").unwrap();
        let report = report();
        write_json(&report, &path).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("}\n"));
        assert_eq!(Report::from_json(&text).unwrap(), report);
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![OsString::from("report.json")]);
    }

    #[test]
    fn missing_directory_is_an_error_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("report.json");
        assert!(write_json(&report(), &path).is_err());
        assert!(fs::read_dir(dir.path()).unwrap().next().is_none());
        assert!(write_json(&report(), Path::new("/")).is_err());
    }
}
