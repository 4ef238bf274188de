//! ripcord against servers that misbehave on purpose, and inputs that are not what they claim
//! (issue "Hardening"). Every test runs the release-shaped binary over real loopback HTTP or
//! real files, and every server fails the test on any method but GET/HEAD.

pub mod server;

mod files;
mod secrets;
mod servers;

use crate::common::Output;
use std::process::Command;
use std::time::{Duration, Instant};

/// One run of the binary with a data-size limit (`RLIMIT_DATA`, heap and private mappings,
/// thread stacks included): a run that would grow past it aborts, so the test fails instead of
/// the machine swapping. The peak RSS figure itself is measured by `cargo bench` (hostile mix).
pub struct Limited {
    pub output: Output,
    pub wall: Duration,
}

/// Generous for ripcord (its worker and rule-loader stacks reserve 320 MiB of it) and far below
/// the gigabytes an unbounded parse reaches.
const DATA_LIMIT_BYTES: u64 = 1024 * 1024 * 1024;

/// Runs the binary with `args` and `env` (credential variables cleared first) under
/// [`DATA_LIMIT_BYTES`].
pub fn run_limited(args: &[&str], env: &[(&str, &str)]) -> Limited {
    use std::os::unix::process::CommandExt as _;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ripcord"));
    for (key, _) in std::env::vars() {
        if key.starts_with("RIPCORD_") {
            cmd.env_remove(key);
        }
    }
    cmd.args(args).envs(env.iter().copied());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: DATA_LIMIT_BYTES,
                rlim_max: DATA_LIMIT_BYTES,
            };
            if libc::setrlimit(libc::RLIMIT_DATA, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let started = Instant::now();
    let out = cmd.output().expect("run ripcord");
    Limited {
        output: Output {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code().unwrap_or(-1),
        },
        wall: started.elapsed(),
    }
}
