//! `setup-signin` (bench/signin.sh, hot.sh): a pool, an app client and signed-in users, with
//! their tokens written to a file; and `argon2`, the raw argon2id rate that bounds
//! USER_PASSWORD_AUTH.

use super::*;

/// One call that must answer 200; its body as JSON.
async fn call_ok(conn: &mut Conn, target: &Target, action: &str, body: &Value, signed: bool) -> Res<Value> {
    let body = body.to_string();
    let request = if signed { target.request(action, &body)? } else { target.unsigned(action, &body) };
    let (status, text) = conn.exchange(target.addr, &request).await?;
    if status != 200 {
        return Err(format!("{action}: {status} {text}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("{action}: {e}: {text}"))
}

pub(crate) fn setup_signin(args: &Args) -> Res<()> {
    let target = Arc::new(Target::new(&args.str("endpoint")?, &args.str_or("region", "us-east-1"))?);
    let name = args.str_or("name", "bench-signin");
    let users: u64 = args.num("users")?.unwrap_or(64);
    let password = args.str("password")?;
    let out = args.str("tokens-out")?;
    let clients: usize = args.num("clients")?.unwrap_or(8);
    let t0 = Instant::now();
    let (pool, client_id, mut tokens) = runtime()?.block_on(async {
        let mut conn = Conn { stream: None, buf: Vec::new() };
        let mut create = json!({ "PoolName": name });
        if let Some(lambda) = args.flags.get("lambda-config") {
            create["LambdaConfig"] = serde_json::from_str(lambda).map_err(|e| format!("--lambda-config: {e}"))?;
        }
        let v = call_ok(&mut conn, &target, "CreateUserPool", &create, true).await?;
        let pool = v["UserPool"]["Id"].as_str().ok_or("CreateUserPool: no UserPool.Id")?.to_string();
        let v = call_ok(
            &mut conn,
            &target,
            "CreateUserPoolClient",
            &json!({
                "UserPoolId": pool, "ClientName": "bench", "GenerateSecret": false,
                "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            }),
            true,
        )
        .await?;
        let client_id = v["UserPoolClient"]["ClientId"]
            .as_str()
            .ok_or("CreateUserPoolClient: no UserPoolClient.ClientId")?
            .to_string();
        let next = Arc::new(AtomicU64::new(0));
        let mut handles = Vec::new();
        for _ in 0..clients {
            let (target, next, pool, client_id, password) =
                (target.clone(), next.clone(), pool.clone(), client_id.clone(), password.clone());
            handles.push(tokio::spawn(async move {
                let mut conn = Conn { stream: None, buf: Vec::new() };
                let mut got = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= users {
                        return Ok::<_, String>(got);
                    }
                    let user = format!("u{i}");
                    let create = json!({
                        "UserPoolId": pool, "Username": user, "MessageAction": "SUPPRESS",
                        "UserAttributes": [{ "Name": "email", "Value": format!("{user}@example.com") }],
                    });
                    call_ok(&mut conn, &target, "AdminCreateUser", &create, true).await?;
                    let set = json!({ "UserPoolId": pool, "Username": user, "Password": password, "Permanent": true });
                    call_ok(&mut conn, &target, "AdminSetUserPassword", &set, true).await?;
                    let auth = json!({
                        "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id,
                        "AuthParameters": { "USERNAME": user, "PASSWORD": password },
                    });
                    let v = call_ok(&mut conn, &target, "InitiateAuth", &auth, false).await?;
                    let r = &v["AuthenticationResult"];
                    let (Some(access), Some(refresh)) = (r["AccessToken"].as_str(), r["RefreshToken"].as_str()) else {
                        return Err(format!("InitiateAuth {user}: no AccessToken and RefreshToken in {v}"));
                    };
                    got.push((i, format!("{user} {access} {refresh}")));
                }
            }));
        }
        let mut tokens = Vec::new();
        for h in handles {
            tokens.extend(h.await.map_err(|e| format!("a setup task failed: {e}"))??);
        }
        Ok::<_, String>((pool, client_id, tokens))
    })?;
    tokens.sort_by_key(|t| t.0);
    let text: String = tokens.iter().map(|(_, l)| format!("{l}\n")).collect();
    std::fs::write(&out, text).map_err(|e| format!("{out}: {e}"))?;
    println!("SETUP pool={pool} client={client_id} users={} secs={:.2}", tokens.len(), t0.elapsed().as_secs_f64());
    Ok(())
}

/// The raw argon2id rate at Janus's default parameters, on `--threads` threads.
pub(crate) fn argon2_rate(args: &Args) -> Res<()> {
    let threads: usize = args.num("threads")?.unwrap_or(2);
    let duration: f64 = args.num("duration")?.unwrap_or(4.0);
    let warmup_hashes: u64 = args.num("warmup-hashes")?.unwrap_or(16);
    let mode = args.str_or("mode", "verify");
    if mode != "verify" && mode != "hash" {
        return Err(format!("--mode: {mode:?} is neither verify nor hash"));
    }
    let params = HashParams::default();
    let hasher = PasswordHasher::new(params);
    let password = "Bench-Passw0rd!";
    let phc = hasher.hash(password, &janus_crypto::OsRandom).map_err(|e| format!("hash: {e:?}"))?;
    let one = |hasher: &PasswordHasher| -> Res<()> {
        if mode == "verify" {
            if !hasher.verify(password, &phc).map_err(|e| format!("verify: {e:?}"))? {
                return Err("verify: the password did not match".into());
            }
        } else {
            hasher.hash(password, &janus_crypto::OsRandom).map_err(|e| format!("hash: {e:?}"))?;
        }
        Ok(())
    };
    // Warm-up: every thread first does `warmup_hashes` hashes. A fresh process's allocator
    // hands out (and the kernel faults in) new 19 MiB buffers for the first couple of dozen
    // hashes before it settles into reusing them, as a server that has been running has.
    let warm = std::sync::Barrier::new(threads + 1);
    let window: std::sync::OnceLock<(Instant, Instant)> = std::sync::OnceLock::new();
    let go = std::sync::Barrier::new(threads + 1);
    let cpu0 = std::cell::Cell::new(None);
    let faults0 = std::cell::Cell::new(None);
    // Count completions inside [measure_from, deadline]: for a steady stream that is unbiased
    // (the hash in flight at the start counts, the one in flight at the end does not).
    let (done, busy) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (hasher, one, warm, go, window) = (&hasher, &one, &warm, &go, &window);
                scope.spawn(move || {
                    let warmed = (0..warmup_hashes).try_for_each(|_| one(hasher));
                    warm.wait();
                    go.wait();
                    warmed?;
                    let &(measure_from, deadline) = window.get().expect("set before go");
                    let (mut done, mut busy) = (0u64, Duration::ZERO);
                    loop {
                        let began = Instant::now();
                        if began >= deadline {
                            return Ok::<_, String>((done, busy));
                        }
                        one(hasher)?;
                        let end = Instant::now();
                        if end >= measure_from && end <= deadline {
                            done += 1;
                            busy += end - began;
                        }
                    }
                })
            })
            .collect();
        warm.wait();
        let now = Instant::now();
        let _ = window.set((now, now + Duration::from_secs_f64(duration)));
        cpu0.set(cpu_seconds("self"));
        faults0.set(minor_faults());
        go.wait();
        let mut total = (0u64, Duration::ZERO);
        for w in workers {
            let (d, b) = w.join().map_err(|_| "an argon2 thread panicked".to_string())??;
            total = (total.0 + d, total.1 + b);
        }
        Ok::<_, String>(total)
    })?;
    let faults = faults0.get().zip(minor_faults()).map_or("NA".to_string(), |(a, b)| (b - a).to_string());
    let cpu = cpu0.get().zip(cpu_seconds("self")).map(|(a, b)| b - a);
    let rss_mib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or("NA".to_string(), |kib| format!("{:.1}", kib / 1024.0));
    println!(
        "ARGON2 mode={mode} m_kib={} t={} p={} threads={threads} ok={done} secs={duration:.3} hashes_s={:.2} \
         mean_ms={:.2} cpu_s={} minflt={faults} rss_mib={rss_mib}",
        params.m_kib,
        params.t,
        params.p,
        done as f64 / duration,
        if done > 0 { busy.as_secs_f64() * 1000.0 / done as f64 } else { f64::NAN },
        cpu.map_or("NA".to_string(), |c| format!("{c:.2}")),
    );
    Ok(())
}
