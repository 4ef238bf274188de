//! Runs one command from a small re-executed copy of the bench binary, so that its peak RSS
//! is its own (see [`run`]), and kills it at a time cap.

use super::measure::Sample;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Set on a re-run of this bench binary that only launches one command (see [`run`]): the
/// value is the time cap in milliseconds, the arguments are the command line.
const LAUNCHER_ENV: &str = "RIPCORD_BENCH_LAUNCHER_CAP_MS";

/// Runs `cmd` once (program, arguments, environment and directory; never its stdio) and
/// measures it.
///
/// The run is launched from a fresh copy of this bench binary, not from this process: on
/// Linux a child's peak RSS starts from the memory of the process that spawned it (the
/// address space it runs in until exec), and this one holds servers and multi-megabyte
/// listings. The launcher is a few megabytes, so the figure is ripcord's own.
pub(crate) fn run(cmd: &Command, cap: Duration) -> Sample {
    let mut launcher = Command::new(std::env::current_exe().expect("bench binary path"));
    for (key, value) in cmd.get_envs() {
        match value {
            Some(v) => launcher.env(key, v),
            None => launcher.env_remove(key),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        launcher.current_dir(dir);
    }
    launcher
        .env(LAUNCHER_ENV, cap.as_millis().to_string())
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    let out = launcher.output().expect("run the launcher");
    assert!(out.status.success(), "launcher failed: {}", out.status);
    parse_sample(&String::from_utf8_lossy(&out.stdout))
}

/// In a launcher (see [`run`]): runs the command line given as arguments, prints its
/// [`Sample`] on stdout and exits. Elsewhere: returns at once. Call first thing in `main`.
pub(crate) fn serve_as_launcher() {
    let Some(cap) = std::env::var_os(LAUNCHER_ENV) else {
        return;
    };
    let cap_ms: u64 = cap
        .to_str()
        .and_then(|c| c.parse().ok())
        .expect("launcher cap in milliseconds");
    let mut args = std::env::args_os().skip(1);
    let mut cmd = Command::new(args.next().expect("launcher needs a program"));
    cmd.args(args)
        .env_remove(LAUNCHER_ENV)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let s = spawn_and_wait(&mut cmd, Duration::from_millis(cap_ms));
    // One line: wall time (ns), peak RSS (bytes), exit code (-1: a signal), timed out.
    println!(
        "{} {} {} {}",
        s.wall.as_nanos(),
        s.peak_rss,
        s.code.unwrap_or(-1),
        s.timed_out
    );
    std::process::exit(0);
}

/// Reads the line [`serve_as_launcher`] prints.
fn parse_sample(line: &str) -> Sample {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let [wall, rss, code, timed_out] = fields[..] else {
        panic!("launcher printed {line:?}");
    };
    let number = |f: &str| -> i128 {
        f.parse()
            .unwrap_or_else(|_| panic!("launcher printed {line:?}"))
    };
    Sample {
        wall: Duration::from_nanos(u64::try_from(number(wall)).expect("wall time fits u64")),
        peak_rss: u64::try_from(number(rss)).expect("peak RSS is positive"),
        code: i32::try_from(number(code)).ok().filter(|c| *c >= 0),
        timed_out: timed_out == "true",
    }
}

/// Runs `cmd` to completion, killing it once it has run for `cap`.
///
/// The peak RSS comes from wait4(2): std's `wait` reaps the child without its rusage. The
/// exit is first awaited without reaping (waitid with WNOWAIT) so the watchdog can never
/// signal a recycled pid: until wait4 reaps it, the pid stays ours.
fn spawn_and_wait(cmd: &mut Command, cap: Duration) -> Sample {
    let started = Instant::now();
    #[expect(
        clippy::zombie_processes,
        reason = "reaped with wait4 to read its peak RSS"
    )]
    let child = cmd.spawn().expect("spawn ripcord");
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
    let (exited, exited_rx) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        let timed_out = exited_rx.recv_timeout(cap) == Err(mpsc::RecvTimeoutError::Timeout);
        if timed_out {
            // SAFETY: kill(2) with a plain pid and signal; the pid is our unreaped child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        timed_out
    });
    wait_exited(pid);
    let wall = started.elapsed();
    // Fails only when the watchdog already gave up waiting, which it reports itself.
    let _ = exited.send(());
    let killed = watchdog.join().expect("watchdog thread");
    let (code, peak_rss) = reap(pid);
    Sample {
        wall,
        peak_rss,
        code,
        timed_out: killed && code.is_none(),
    }
}

/// Blocks until `pid` has exited, leaving it unreaped.
fn wait_exited(pid: libc::pid_t) {
    // SAFETY: an all-zero siginfo_t is a valid value to be filled in by waitid.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let id = libc::id_t::try_from(pid).expect("pid is positive");
    // SAFETY: pid is our own child, not yet reaped; the pointer is to a live local.
    let rc = unsafe { libc::waitid(libc::P_PID, id, &mut info, libc::WEXITED | libc::WNOWAIT) };
    assert_eq!(rc, 0, "waitid: {}", std::io::Error::last_os_error());
}

/// Reaps `pid` and returns its exit code (`None` if a signal ended it) and its own peak RSS
/// in bytes.
fn reap(pid: libc::pid_t) -> (Option<i32>, u64) {
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value to be filled in by wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, exited and not yet reaped; the pointers are to live locals.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4: {}", std::io::Error::last_os_error());
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    // Linux reports ru_maxrss in KiB.
    let peak_kib = u64::try_from(usage.ru_maxrss).expect("ru_maxrss is positive");
    (code, peak_kib * 1024)
}
