//! A full disk under a local lake: a real tmpfs of a few hundred kilobytes more than the lake
//! already holds. The build fails with exit 5 naming the lack of space, nothing half-written is
//! visible, and the previously published marts are intact.
//!
//! Mounting needs root or an unprivileged user namespace (`unshare -rm`); the test says so and
//! fails when neither is available rather than pretend.

use std::path::Path;
use std::process::Command;

use super::harness::*;
use crate::util::*;

struct Mount(std::path::PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn kib_used(dir: &Path) -> u64 {
    let out = Command::new("du").args(["-sk"]).arg(dir).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn mount_tmpfs(at: &Path, kib: u64) -> Mount {
    std::fs::create_dir_all(at).unwrap();
    let status = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
        .arg(at)
        .status()
        .expect("running mount");
    assert!(
        status.success(),
        "cannot mount a tmpfs at {} (this test needs root, as in CI's container)",
        at.display()
    );
    Mount(at.to_path_buf())
}

#[test]
fn a_full_disk_exits_5_and_leaves_the_published_marts_intact() {
    let org = Org::start(Org::secret_config());
    let tmp = tempfile::tempdir().unwrap();
    let (dir, _, before) = org.reference(tmp.path());
    let roomy = tmp.path().join("reference");

    // The same lake on a disk with ~300 KiB to spare: less than one build needs.
    let used = kib_used(&roomy);
    let mnt = tmp.path().join("small-disk");
    let _mount = mount_tmpfs(&mnt, used + 300);
    let lake = mnt.join("lake");
    let copied = Command::new("cp")
        .arg("-a")
        .arg(&roomy)
        .arg(&lake)
        .status()
        .unwrap();
    assert!(copied.success());
    let pointer = std::fs::read(lake.join("marts/_current.json")).unwrap();

    let out = flowlake()
        .current_dir(&dir)
        .args(["build", "--lake", lake.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(code(&out), 5, "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.to_lowercase().contains("no space"), "{err}");
    assert_eq!(
        std::fs::read(lake.join("marts/_current.json")).unwrap(),
        pointer,
        "pointer moved"
    );
    check_integrity(&lake);
    assert_eq!(published_marts(&lake), before);
    assert!(
        !lake.join("locks/lake.json").exists(),
        "the lock outlived the failed build"
    );
}
