//! What the load generators read about the server under test from `/proc` (Linux only): CPU time
//! (`/proc/PID/stat` utime+stime, and the finer per-thread `schedstat` run time) and resident
//! memory (`VmRSS` in `/proc/PID/status`).

use std::fs;
use std::io;

/// Clock ticks per second of `/proc/PID/stat` times: `USER_HZ`, fixed at 100 on Linux for every
/// architecture this runs on (`getconf CLK_TCK`).
pub const USER_HZ: u64 = 100;

/// A reading of a process's CPU time.
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuTime {
    /// utime + stime, in nanoseconds (10 ms resolution: `USER_HZ` ticks).
    pub stat_ns: u64,
    /// Sum of the run time of its live threads from `/proc/PID/task/*/schedstat`, in
    /// nanoseconds: finer, but misses threads that exited in between.
    pub sched_ns: u64,
}

impl CpuTime {
    /// Read the CPU time `pid` has used so far (`pid` 0: this process).
    pub fn read(pid: u32) -> io::Result<CpuTime> {
        let dir = if pid == 0 {
            String::from("/proc/self")
        } else {
            format!("/proc/{pid}")
        };
        let stat = fs::read_to_string(format!("{dir}/stat"))?;
        // fields after the command name, which is in parentheses and may contain spaces
        let rest = &stat[stat
            .rfind(')')
            .ok_or_else(|| io::Error::other("bad stat"))?
            + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name
        let ticks: u64 = fields
            .get(11..13)
            .ok_or_else(|| io::Error::other("short stat"))?
            .iter()
            .map(|f| f.parse::<u64>().unwrap_or(0))
            .sum();
        let mut sched_ns = 0;
        if let Ok(tasks) = fs::read_dir(format!("{dir}/task")) {
            for task in tasks.flatten() {
                if let Ok(s) = fs::read_to_string(task.path().join("schedstat")) {
                    sched_ns += s
                        .split_whitespace()
                        .next()
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(0);
                }
            }
        }
        Ok(CpuTime {
            stat_ns: ticks * (1_000_000_000 / USER_HZ),
            sched_ns,
        })
    }

    /// Time used between `earlier` and `self`.
    pub fn since(self, earlier: CpuTime) -> CpuTime {
        CpuTime {
            stat_ns: self.stat_ns.saturating_sub(earlier.stat_ns),
            sched_ns: self.sched_ns.saturating_sub(earlier.sched_ns),
        }
    }
}

/// `VmRSS` of `pid`, in KiB.
pub fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| io::Error::other("no VmRSS"))
}
