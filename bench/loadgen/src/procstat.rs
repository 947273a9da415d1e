//! Counters of a process from `/proc/<pid>/stat` (`self` for this one): CPU seconds (user +
//! system, 100 ticks a second), of which system, and minor page faults.

/// (CPU seconds, of which system, minor page faults) of process `pid`.
pub fn proc_counters(pid: &str) -> Option<(f64, f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let f: Vec<&str> = stat[stat.rfind(')')? + 2..].split(' ').collect();
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
    // Fields 10 (minflt), 14 (utime) and 15 (stime) of the line are 7, 11 and 12 after the command.
    Some(((num(11)? + num(12)?) / 100.0, num(12)? / 100.0, num(7)?))
}

/// CPU seconds (user + system) process `pid` has used.
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    proc_counters(pid).map(|c| c.0)
}

/// This process's minor page faults so far.
pub fn minor_faults() -> Option<u64> {
    proc_counters("self").map(|c| c.2 as u64)
}
