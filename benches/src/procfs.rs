//! Reading CPU time and memory from `/proc`: a process's user + system time
//! (`/proc/PID/stat`), its resident set (`/proc/PID/status`), and how busy
//! each CPU was (`/proc/stat`).

use std::time::Duration;

use anyhow::Context;

/// Which process: `self` or a pid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pid {
    /// This process.
    Myself,
    /// Another process.
    Of(u32),
}

impl Pid {
    fn dir(self) -> String {
        match self {
            Pid::Myself => "/proc/self".to_owned(),
            Pid::Of(pid) => format!("/proc/{pid}"),
        }
    }
}

/// User + system CPU time a process has used so far.
pub(crate) fn cpu_time(pid: Pid) -> anyhow::Result<Duration> {
    let path = format!("{}/stat", pid.dir());
    let text = std::fs::read_to_string(&path).with_context(|| format!("read {path}"))?;
    let ticks = parse_stat_ticks(&text).with_context(|| format!("parse {path}"))?;
    Ok(ticks_to_duration(ticks))
}

/// Resident set size of a process, KiB.
pub(crate) fn rss_kib(pid: Pid) -> anyhow::Result<u64> {
    let path = format!("{}/status", pid.dir());
    let text = std::fs::read_to_string(&path).with_context(|| format!("read {path}"))?;
    parse_vm_rss(&text).with_context(|| format!("no VmRSS in {path}"))
}

/// Busy and total time of each CPU since boot, by CPU number.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CpuTimes {
    /// `(cpu, busy ticks, total ticks)`; busy is everything but idle and
    /// iowait (so it includes interrupts and softirqs, where much of
    /// loopback TCP runs).
    pub(crate) cpus: Vec<(usize, u64, u64)>,
}

impl CpuTimes {
    /// Reads `/proc/stat`.
    pub(crate) fn read() -> anyhow::Result<CpuTimes> {
        let text = std::fs::read_to_string("/proc/stat").context("read /proc/stat")?;
        Ok(parse_proc_stat(&text))
    }

    /// Share of the time between `earlier` and `self` that `cpus` were
    /// busy, 0..=1 (averaged over them); `None` if none of them is known.
    pub(crate) fn busy_since(&self, earlier: &CpuTimes, cpus: &[usize]) -> Option<f64> {
        let (mut busy, mut total) = (0u64, 0u64);
        for &(cpu, b, t) in &self.cpus {
            if !cpus.contains(&cpu) {
                continue;
            }
            if let Some(&(_, b0, t0)) = earlier.cpus.iter().find(|c| c.0 == cpu) {
                busy += b.saturating_sub(b0);
                total += t.saturating_sub(t0);
            }
        }
        (total > 0).then(|| busy as f64 / total as f64)
    }
}

/// utime + stime (fields 14 and 15) of a `/proc/PID/stat` line. The
/// command name (field 2) is in parentheses and may hold spaces or
/// parentheses itself, so the fields are counted after the last `)`.
fn parse_stat_ticks(text: &str) -> Option<u64> {
    let after = &text[text.rfind(')')? + 1..];
    // After the name: field 3 (state) is index 0, so field N is N - 3.
    let mut fields = after.split_ascii_whitespace();
    let utime: u64 = fields.nth(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

fn parse_vm_rss(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_ascii_whitespace().nth(1)?.parse().ok()
}

fn parse_proc_stat(text: &str) -> CpuTimes {
    let cpus = text
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_ascii_whitespace();
            let cpu: usize = fields.next()?.strip_prefix("cpu")?.parse().ok()?;
            let values: Vec<u64> = fields.filter_map(|f| f.parse().ok()).collect();
            // user nice system idle iowait irq softirq steal [guest guest_nice],
            // where guest time is already counted in user.
            let total: u64 = values.iter().take(8).sum();
            let idle = values.get(3).copied().unwrap_or(0) + values.get(4).copied().unwrap_or(0);
            Some((cpu, total - idle, total))
        })
        .collect();
    CpuTimes { cpus }
}

/// The unit of `/proc` CPU times: `USER_HZ`, which the kernel fixes at 100
/// on every architecture Linux runs arcly on, whatever its internal `HZ`.
const USER_HZ: u64 = 100;

fn ticks_to_duration(ticks: u64) -> Duration {
    Duration::from_micros(ticks * 1_000_000 / USER_HZ)
}

/// The soft limit on open files of this process (`/proc/self/limits`).
pub(crate) fn open_files_limit() -> anyhow::Result<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").context("read /proc/self/limits")?;
    parse_open_files(&text).context("no 'Max open files' in /proc/self/limits")
}

fn parse_open_files(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line["Max open files".len()..]
        .split_ascii_whitespace()
        .next()?;
    Some(if soft == "unlimited" {
        u64::MAX
    } else {
        soft.parse().ok()?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utime_and_stime_past_a_tricky_command_name() {
        let line = "4242 (nginx: wor) ker)) S 1 4241 4241 0 -1 4194624 1234 0 0 0 \
                    713 288 0 0 20 0 1 0 12345 123456789 2000 18446744073709551615";
        assert_eq!(parse_stat_ticks(line), Some(713 + 288));
        assert_eq!(parse_stat_ticks("4242 (x) S 1"), None);
    }

    #[test]
    fn reads_vm_rss() {
        let status = "Name:\tarcly\nVmPeak:\t  200000 kB\nVmRSS:\t   12345 kB\nThreads:\t3\n";
        assert_eq!(parse_vm_rss(status), Some(12345));
        assert_eq!(parse_vm_rss("Name:\tzombie\n"), None);
    }

    #[test]
    fn cpu_busy_share_counts_softirq_and_skips_idle() {
        let before = parse_proc_stat(
            "cpu  10 0 10 100 0 0 0 0 0 0\ncpu0 5 0 5 50 0 0 0 0 0 0\ncpu1 5 0 5 50 0 0 0 0 0 0\n",
        );
        let after = parse_proc_stat(
            "cpu  99 0 99 999 0 0 0 0 0 0\ncpu0 35 0 15 90 10 0 10 0 0 0\ncpu1 5 0 5 150 0 0 0 0 0 0\nintr 1 2\n",
        );
        // cpu0: busy +50 (30 user, 10 system, 10 softirq), idle +40, iowait +10.
        let busy0 = after.busy_since(&before, &[0]).unwrap();
        assert!((busy0 - 50.0 / 100.0).abs() < 1e-9, "{busy0}");
        assert_eq!(after.busy_since(&before, &[1]), Some(0.0));
        assert_eq!(after.busy_since(&before, &[7]), None);
    }

    #[test]
    fn reads_the_open_files_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max cpu time              unlimited            unlimited            seconds   \n\
                      Max open files            20000                20000                files     \n";
        assert_eq!(parse_open_files(limits), Some(20_000));
        assert_eq!(
            parse_open_files(
                "Max open files            unlimited            unlimited            files"
            ),
            Some(u64::MAX)
        );
        assert_eq!(parse_open_files("Max processes 5 5"), None);
    }

    #[test]
    fn reads_this_process() {
        assert!(rss_kib(Pid::Myself).unwrap() > 0);
        cpu_time(Pid::Myself).unwrap();
        assert!(!CpuTimes::read().unwrap().cpus.is_empty());
    }
}
