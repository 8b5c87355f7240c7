//! A PostgreSQL server of a test's own, started from the machine's binaries (through
//! `runuser -u postgres` when running as root): the one every test of a process shares when
//! `DATABASE_URL` is not set, and one for a test that stops and starts its database.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A PostgreSQL server of its own, in a temporary folder, on a free port. Never
/// `DATABASE_URL`'s: a test may stop it without breaking every other test. Stopped and removed
/// when dropped, and by a watchdog when the test process ends first.
pub struct DedicatedPostgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_root: bool,
}

impl DedicatedPostgres {
    pub fn start() -> DedicatedPostgres {
        DedicatedPostgres::try_start().unwrap_or_else(|error| {
            panic!(
                "this test needs PostgreSQL's server binaries (Debian/Ubuntu: apt-get install \
                 postgresql): {error}"
            )
        })
    }

    pub(crate) fn try_start() -> Result<DedicatedPostgres, String> {
        let bin = postgres_bin_dir()?;
        let dir = std::env::temp_dir().join(format!(
            "scaffold-test-pg-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let as_root = current_uid() == Some(0);
        if as_root {
            run(Command::new("chown").args(["postgres:postgres"]).arg(&dir))?;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("finding a free port: {e}"))?
            .port();
        let postgres = DedicatedPostgres {
            bin,
            dir,
            port,
            as_root,
        };
        let initdb = format!(
            "{} -D {}/data -A trust -U postgres -E UTF8 --no-sync >/dev/null",
            postgres.bin.join("initdb").display(),
            postgres.dir.display()
        );
        run(&mut shell(as_root, &initdb))?;
        let watchdog = format!(
            "while [ -d /proc/{pid} ]; do sleep 1; done; {pg_ctl} -D {dir}/data stop -m immediate; \
             rm -rf {dir}",
            pid = std::process::id(),
            pg_ctl = postgres.bin.join("pg_ctl").display(),
            dir = postgres.dir.display(),
        );
        shell(as_root, &watchdog)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting the watchdog: {e}"))?;
        postgres.pg_ctl(&postgres.start_args())?;
        Ok(postgres)
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server the way an orchestrator does (`pg_ctl stop -m fast`): open
    /// connections are terminated, the files stay.
    pub fn stop(&self) {
        self.pg_ctl("stop -m fast")
            .unwrap_or_else(|error| panic!("{error}"));
    }

    /// Starts the stopped server again on the same port and files.
    pub fn resume(&self) {
        self.pg_ctl(&self.start_args())
            .unwrap_or_else(|error| panic!("{error}"));
    }

    /// Durability off, which tests do not need. Connections for every test of a process at
    /// once, when it is the server they share.
    fn start_args(&self) -> String {
        format!(
            "start -w -l {dir}/log -o '-p {port} -k {dir} -c listen_addresses=127.0.0.1 \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
             -c max_connections=200'",
            dir = self.dir.display(),
            port = self.port,
        )
    }

    fn pg_ctl(&self, args: &str) -> Result<(), String> {
        let script = format!(
            "{} -D {}/data {args} >/dev/null",
            self.bin.join("pg_ctl").display(),
            self.dir.display()
        );
        run(&mut shell(self.as_root, &script)).map_err(|error| {
            let log = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
            format!("pg_ctl {args}: {error}\n{log}")
        })
    }
}

impl Drop for DedicatedPostgres {
    fn drop(&mut self) {
        let script = format!(
            "{} -D {dir}/data stop -m immediate >/dev/null 2>&1; rm -rf {dir}",
            self.bin.join("pg_ctl").display(),
            dir = self.dir.display()
        );
        let _ = shell(self.as_root, &script).status();
    }
}

fn shell(as_root: bool, script: &str) -> Command {
    if as_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--", "sh", "-c", script]);
        command
    } else {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("running {command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` (Debian's layout), else the one on PATH.
fn postgres_bin_dir() -> Result<PathBuf, String> {
    let mut candidates: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    candidates.sort();
    if let Some((_, bin)) = candidates.pop() {
        return Ok(bin);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .find(|dir| dir.join("initdb").exists() && dir.join("postgres").exists())
        .ok_or_else(|| "found no initdb and postgres binaries".to_owned())
}

fn current_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
