//! `wait` and `startup`: is a server up yet, and how long does it take to get there.

use super::*;

/// One blocking GET on a fresh connection; `Some(status)` when the server answered.
fn probe(addr: SocketAddr, host: &str, path: &str) -> Option<u16> {
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes()).ok()?;
    let mut head = [0u8; 64];
    let mut got = 0;
    while got < 12 {
        match s.read(&mut head[got..]) {
            Ok(0) | Err(_) => return None,
            Ok(n) => got += n,
        }
    }
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

pub(crate) fn wait(args: &Args) -> Res<()> {
    let (addr, host, path) = parse_url(&args.str("url")?)?;
    let timeout = Duration::from_secs_f64(args.num("timeout")?.unwrap_or(60.0));
    let t0 = Instant::now();
    while t0.elapsed() < timeout {
        if probe(addr, &host, &path).is_some() {
            println!("WAIT ms={:.1}", t0.elapsed().as_secs_f64() * 1000.0);
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err(format!("{host}{path} did not answer within {timeout:?}"))
}

pub(crate) fn startup(args: &Args) -> Res<()> {
    let (addr, host, path) = parse_url(&args.str("url")?)?;
    let runs: usize = args.num("runs")?.unwrap_or(10);
    let reset = args.flags.get("reset").cloned();
    let (program, rest) = args.rest.split_first().ok_or("give the command after --")?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        if let Some(dir) = &reset {
            let _ = std::fs::remove_dir_all(dir);
        }
        let t0 = Instant::now();
        let mut child = Command::new(program)
            .args(rest)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting {program}: {e}"))?;
        let mut up = None;
        while t0.elapsed() < Duration::from_secs(30) {
            if probe(addr, &host, &path) == Some(200) {
                up = Some(t0.elapsed());
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("{program} exited early: {status}"));
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let status = child.wait().map_err(|e| e.to_string())?;
        let up = up.ok_or_else(|| format!("{host}{path} gave no 200 within 30 s"))?;
        if status.code().is_some_and(|c| c != 0) {
            eprintln!("startup: note: {program} exited with {status} after SIGTERM");
        }
        times.push(up.as_secs_f64() * 1000.0);
    }
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    println!(
        "STARTUP runs={runs} median_ms={:.1} min_ms={:.1} max_ms={:.1} all_ms={}",
        (sorted[(sorted.len() - 1) / 2] + sorted[sorted.len() / 2]) / 2.0,
        sorted[0],
        sorted[sorted.len() - 1],
        times.iter().map(|t| format!("{t:.1}")).collect::<Vec<_>>().join(",")
    );
    Ok(())
}
