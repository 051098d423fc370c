//! SIGKILL at random points of `flowlake run` (ingest, build, publish), then a re-run.

use std::process::Stdio;
use std::time::{Duration, Instant};

use super::harness::*;

/// A small deterministic generator, so a failing kill point can be replayed (seed printed).
struct Points(u64);

impl Points {
    fn next_fraction(&mut self) -> f64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn killed_at_twenty_points_then_rerun_equals_an_uninterrupted_run() {
    let org = Org::start(Org::secret_config());
    let tmp = tempfile::tempdir().unwrap();
    let (dir, full, want) = org.reference(tmp.path());

    let lake = tmp.path().join("killed");
    let seed = 0x5EED_u64;
    let mut points = Points(seed);
    let mut finished_early = 0;
    for i in 0..20 {
        let at = full.mul_f64(points.next_fraction());
        let mut child = org
            .run_cmd(&dir, lake.to_str().unwrap())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + at;
        while Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if child.try_wait().unwrap().is_some() {
            finished_early += 1;
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // Whatever the point, nothing is half-visible.
        check_integrity(&lake);
        eprintln!(
            "kill {i} (seed {seed:#x}) at {:.2}s of {:.2}s",
            at.as_secs_f64(),
            full.as_secs_f64()
        );
    }
    assert!(
        finished_early < 20,
        "every run finished before its kill point"
    );

    // The re-run takes over the dead run's lock and completes.
    let out = org.run(&dir, lake.to_str().unwrap());
    assert_eq!(code(&out), 0, "{}", describe(&out));
    check_integrity(&lake);
    let got = published_marts(&lake);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (name, rows) in &want {
        assert!(
            got[name] == *rows,
            "{name}: {} rows after the kills, {} in the uninterrupted run",
            got[name].len(),
            rows.len()
        );
    }
    assert!(
        !lake.join("locks/lake.json").exists(),
        "the lock was left behind"
    );
}
