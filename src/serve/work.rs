//! Work on rule text sent by the workbench (and `/v1/check`): compiling
//! it, deciding a call with it, comparing it with the served version over
//! the whole history. Unlike a live decision (microseconds), such work may
//! take a core for seconds, and anyone who can reach the routes can ask
//! for a lot of it at once. So it is kept from the live calls:
//!
//! - it runs on threads of its own, at a lower CPU priority, never on the
//!   threads that answer requests: live decisions win the CPU;
//! - as many jobs run at once as there are cores, the others wait their
//!   turn, and at most [`WAITING`] wait: past that, a 503 at once;
//! - a job gets [`Work::deadline`], 90% of `--request-timeout` (so its
//!   refusal reaches the client before the connection's own clock closes
//!   it), turn included; long work (a diff over the history) checks
//!   [`Budget::spent`] and gives up;
//! - a job whose request is dropped (its connection ended, the service
//!   stops) is given up the same way, and holds its turn until it has
//!   stopped. A client that merely went away is not seen before the
//!   answer is written (it may have closed only its sending side, see
//!   `server`), so its job runs to its deadline at most.

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use tokio::sync::Semaphore;

use super::problem::Problem;

/// Jobs waiting for a turn, at most.
const WAITING: usize = 64;

/// The turns: one per core.
fn turns() -> &'static Arc<Semaphore> {
    static TURNS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    TURNS.get_or_init(|| {
        Arc::new(Semaphore::new(
            std::thread::available_parallelism().map_or(2, |cores| cores.get()),
        ))
    })
}

static WAITING_NOW: AtomicUsize = AtomicUsize::new(0);

/// What a running job may spend: until its deadline, and while its client
/// waits for it.
pub struct Budget {
    what: &'static str,
    allowed: Duration,
    deadline: Instant,
    abandoned: Arc<AtomicBool>,
}

impl Budget {
    /// Whether the job should give up now.
    pub fn spent(&self) -> bool {
        self.abandoned.load(Ordering::Relaxed) || Instant::now() >= self.deadline
    }

    /// The refusal of a job that gave up.
    pub fn too_long(&self) -> Problem {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "callassign::too_long",
            format!(
                "{} did not finish within {} s",
                self.what,
                seconds(self.allowed)
            ),
        )
        .help("for a history this large or rules this long, run `callassign diff` on the command line, or give `serve` a longer `--request-timeout`")
    }

    /// The refusal of a job whose reading of the history stopped: given
    /// up in time ([`Budget::too_long`]), or the history failed.
    pub fn history_failed(&self, error: impl std::fmt::Display) -> Problem {
        if self.spent() {
            self.too_long()
        } else {
            Problem::internal(format!("cannot read the history: {error}"))
        }
    }
}

/// One request's work.
pub struct Work {
    /// What the job does, for messages: `the diff`, `the plan`.
    what: &'static str,
    allowed: Duration,
    deadline: Instant,
}

impl Work {
    /// Work for a request whose body has just been read, under
    /// `--request-timeout`.
    pub fn new(what: &'static str, request_timeout: Duration) -> Work {
        let allowed = request_timeout.mul_f64(0.9);
        Work {
            what,
            allowed,
            deadline: Instant::now() + allowed,
        }
    }

    /// Runs `job` when a turn comes, on a thread of its own at a lower
    /// priority; its answer, or why there is none.
    pub async fn run<T: Send + 'static>(
        self,
        job: impl FnOnce(&Budget) -> Result<T, Problem> + Send + 'static,
    ) -> Result<T, Problem> {
        let turn = {
            let Some(waiting) = Waiting::enter() else {
                return Err(self.busy(format!(
                    "{WAITING} requests of the workbench are waiting already: {} cannot wait too",
                    self.what
                )));
            };
            let waited =
                tokio::time::timeout_at(self.deadline.into(), Arc::clone(turns()).acquire_owned())
                    .await;
            drop(waiting);
            match waited {
                Ok(Ok(turn)) => turn,
                Ok(Err(_)) => return Err(Problem::internal("the work queue closed")),
                Err(_) => {
                    return Err(self.busy(format!(
                    "{} could not start within {} s: the workbench's other requests took the time",
                    self.what,
                    seconds(self.allowed)
                )))
                }
            }
        };
        let abandoned = Arc::new(AtomicBool::new(false));
        // Dropped with this future: nobody waits for the answer any more.
        let _abandon = Abandon(Arc::clone(&abandoned));
        let budget = Budget {
            what: self.what,
            allowed: self.allowed,
            deadline: self.deadline,
            abandoned,
        };
        let (done, answer) = tokio::sync::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("workbench".into())
            .spawn(move || {
                lower_priority();
                let outcome =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&budget)));
                // The turn is given back once the job has stopped, even
                // when nobody waits for its answer any more.
                drop(turn);
                let _ = done.send(outcome);
            });
        if let Err(error) = spawned {
            return Err(Problem::internal(format!("cannot start the work: {error}")));
        }
        match answer.await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) | Err(_) => Err(Problem::internal("the request could not be answered")),
        }
    }

    fn busy(&self, message: String) -> Problem {
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, "callassign::busy", message)
            .help("try again in a moment; live decisions are not affected")
    }
}

/// Bytes read in small pieces that stop, with an error, once the budget
/// is spent: a long read of the history gives up within a few calls.
pub struct Spending<'a> {
    bytes: &'a [u8],
    budget: &'a Budget,
}

impl<'a> Spending<'a> {
    /// A piece: a few dozen calls of a history.
    const PIECE: usize = 16 * 1024;

    pub fn new(bytes: &'a [u8], budget: &'a Budget) -> Spending<'a> {
        Spending { bytes, budget }
    }
}

impl Read for Spending<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let taken = available.len().min(buf.len());
        buf[..taken].copy_from_slice(&available[..taken]);
        self.consume(taken);
        Ok(taken)
    }
}

impl BufRead for Spending<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.budget.spent() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "out of time"));
        }
        Ok(&self.bytes[..self.bytes.len().min(Self::PIECE)])
    }

    fn consume(&mut self, amount: usize) {
        self.bytes = &self.bytes[amount.min(self.bytes.len())..];
    }
}

fn seconds(duration: Duration) -> String {
    let tenths = (duration.as_secs_f64() * 10.0).round() / 10.0;
    format!("{tenths}")
}

/// One request among those waiting for a turn, counted until it stops
/// waiting, also when its future is dropped while it waits.
struct Waiting;

impl Waiting {
    fn enter() -> Option<Waiting> {
        if WAITING_NOW.fetch_add(1, Ordering::Relaxed) >= WAITING {
            WAITING_NOW.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        Some(Waiting)
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        WAITING_NOW.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Abandon(Arc<AtomicBool>);

impl Drop for Abandon {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Live decisions first: the calling thread yields the CPU to the threads
/// that answer requests whenever both want it.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only changes the nice value of the calling
    // thread (on Linux, PRIO_PROCESS with a thread id names that thread).
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_dropped_while_it_waits_leaves_the_queue() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let before = WAITING_NOW.load(Ordering::Relaxed);
        runtime.block_on(async {
            // Every turn taken: the work below waits, and is dropped.
            let cores = turns().available_permits() as u32;
            let taken = Arc::clone(turns()).acquire_many_owned(cores).await.unwrap();
            let work = Work::new("the test", Duration::from_secs(10));
            let waited = tokio::time::timeout(
                Duration::from_millis(50),
                work.run(|_| Ok::<_, Problem>(())),
            )
            .await;
            assert!(waited.is_err(), "it waited for a turn");
            drop(taken);
        });
        assert_eq!(WAITING_NOW.load(Ordering::Relaxed), before);
    }

    #[test]
    fn seconds_read_as_people_write_them() {
        assert_eq!(seconds(Duration::from_secs(27)), "27");
        assert_eq!(seconds(Duration::from_millis(900)), "0.9");
    }
}
