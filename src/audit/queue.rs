//! The bounded queue between decisions and the writer thread. A decision only moves its record
//! into the queue; the writer builds entries and writes them in batches. When the queue is full
//! the app's choice applies: drop the record and count it, or block until there is room.
//!
//! The writer is not woken for each record (a wake-up is a system call, costlier than the
//! decision): it drains the queue, then sleeps for `IDLE` at most. A full queue and a flush wake
//! it at once.
use super::entry::{EntryBuilder, Record};
use crate::eval::CheckOutput;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Where entries go. Called on the writer thread only, with the entries of one batch in order,
/// each one line of JSON (without its newline).
pub trait Sink: Send {
    /// Takes a batch; on failure says how many entries were lost and why.
    fn write(&mut self, entries: Vec<Vec<u8>>) -> Result<(), SinkError>;
    /// Pushes buffered entries out (to the OS for a file); called after every batch.
    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}

/// Entries a sink lost, and why.
#[derive(Debug)]
pub struct SinkError {
    pub lost: u64,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFull {
    /// Drop the record and count it (`AuditStats::dropped`): decisions never wait for the log.
    Drop,
    /// Wait for room: no entry is lost, decisions slow down to the sink's pace.
    Block,
}

impl std::str::FromStr for OnFull {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "drop" => Ok(OnFull::Drop),
            "block" => Ok(OnFull::Block),
            other => Err(format!("on_full must be \"drop\" or \"block\", not {other:?}")),
        }
    }
}

/// What is decided before a record is queued (cheap tests on what the decision already has).
#[derive(Debug, Clone)]
pub struct Settings {
    pub capacity: usize,
    pub on_full: OnFull,
    /// The fraction of decisions logged (1.0: all); token failures are always logged.
    pub sample_rate: f64,
    /// Cerbos's `decisionLogFilters.checkResources.ignoreAllowAll`: log only checks with a denial.
    pub ignore_allow_all: bool,
    /// Cerbos's `decisionLogFilters.planResources.ignoreAll`.
    pub plan_ignore_all: bool,
    /// Cerbos's `decisionLogFilters.planResources.ignoreAlwaysAllow`.
    pub plan_ignore_always_allow: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { capacity: 10_000, on_full: OnFull::Drop, sample_rate: 1.0, ignore_allow_all: false, plan_ignore_all: false, plan_ignore_always_allow: false }
    }
}

/// Counters since the log started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditStats {
    /// Records accepted into the queue.
    pub queued: u64,
    /// Records the writer has finished (written, or left out by a filter, or failed).
    pub processed: u64,
    /// Records dropped because the queue was full (`OnFull::Drop`).
    pub dropped: u64,
    /// Entries a sink failed to take.
    pub failed: u64,
}

#[derive(Default)]
struct Shared {
    queued: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    processed: Mutex<u64>,
    progress: Condvar,
    policy_version: RwLock<Option<Arc<str>>>,
}

/// Reports a sink failure (the bindings log it); called on the writer thread.
pub type ErrorReporter = Box<dyn Fn(&str) + Send>;

/// A record and the version of the policy set that decided it.
type Queued = (Record, Option<Arc<str>>);

pub struct AuditLog {
    tx: SyncSender<Queued>,
    /// The writer thread, to wake when the queue is full or flushed.
    writer: std::thread::Thread,
    shared: Arc<Shared>,
    settings: Settings,
    /// Sampling threshold over a u64 (u64::MAX: log everything) and the generator's state.
    sample_below: u64,
    rng: AtomicU64,
}

/// Entries per batch the writer hands to the sink at most.
const BATCH: usize = 256;

/// How long the writer sleeps when the queue is empty: the longest an entry waits to be written.
const IDLE: Duration = Duration::from_millis(10);

impl AuditLog {
    /// Starts the writer thread. It ends once the log is dropped and the queue is drained.
    pub fn start(settings: Settings, builder: EntryBuilder, sink: Box<dyn Sink>, on_error: ErrorReporter) -> Result<AuditLog, String> {
        if settings.capacity == 0 {
            return Err("queue_size must be at least 1".into());
        }
        if !(0.0..=1.0).contains(&settings.sample_rate) {
            return Err(format!("sample_rate must be between 0 and 1, not {}", settings.sample_rate));
        }
        let (tx, rx) = sync_channel(settings.capacity);
        let shared = Arc::new(Shared::default());
        let writer_shared = shared.clone();
        let writer = std::thread::Builder::new()
            .name("warden-audit-writer".into())
            .spawn(move || write_loop(rx, builder, sink, on_error, writer_shared))
            .map_err(|e| format!("cannot start the decision-log writer: {e}"))?
            .thread()
            .clone();
        let sample_below = if settings.sample_rate >= 1.0 { u64::MAX } else { (settings.sample_rate * u64::MAX as f64) as u64 };
        let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0x9E37_79B9_7F4A_7C15, |d| d.as_nanos() as u64) | 1;
        Ok(AuditLog { tx, writer, shared, settings, sample_below, rng: AtomicU64::new(seed) })
    }

    pub fn on_full(&self) -> OnFull {
        self.settings.on_full
    }

    /// Whether this decision is sampled in (xorshift; a lost race between threads only repeats a draw).
    fn sampled(&self) -> bool {
        if self.sample_below == u64::MAX {
            return true;
        }
        let mut x = self.rng.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.store(x, Ordering::Relaxed);
        x < self.sample_below
    }

    /// Whether a check with these outputs is logged (filters and sampling, before anything is queued).
    pub fn wants_check(&self, outputs: &[CheckOutput]) -> bool {
        if self.settings.ignore_allow_all && !outputs.iter().any(|o| o.actions.0.iter().any(|(_, e)| e.effect == crate::policy::Effect::Deny)) {
            return false;
        }
        self.sampled()
    }

    /// Whether a plan whose filter is of `filter_kind` (`KIND_ALWAYS_ALLOWED`, ...) is logged.
    pub fn wants_plan(&self, filter_kind: &str) -> bool {
        if self.settings.plan_ignore_all || (self.settings.plan_ignore_always_allow && filter_kind == "KIND_ALWAYS_ALLOWED") {
            return false;
        }
        self.sampled()
    }

    /// Queues a record if there is room; gives it back when the queue is full.
    pub fn try_submit(&self, r: Record) -> Result<(), Box<Record>> {
        let version = self.shared.policy_version.read().unwrap_or_else(|e| e.into_inner()).clone();
        match self.tx.try_send((r, version)) {
            Ok(()) => {
                self.shared.queued.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(TrySendError::Full((r, _))) | Err(TrySendError::Disconnected((r, _))) => Err(Box::new(r)),
        }
    }

    /// Queues a record, applying the full-queue policy. With `OnFull::Block` this may wait:
    /// callers holding a lock the sink needs (Python's GIL) must release it first.
    pub fn submit(&self, r: Record) {
        match self.try_submit(r) {
            Ok(()) => {}
            Err(r) => self.on_full_queue(*r),
        }
    }

    /// What `submit` does once `try_submit` found the queue full.
    pub fn on_full_queue(&self, r: Record) {
        self.writer.unpark();
        match self.settings.on_full {
            OnFull::Drop => {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            }
            OnFull::Block => {
                let version = self.shared.policy_version.read().unwrap_or_else(|e| e.into_inner()).clone();
                if self.tx.send((r, version)).is_ok() {
                    self.shared.queued.fetch_add(1, Ordering::Relaxed);
                } else {
                    self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// Waits until every record queued before the call has reached the sink (and the sink was
    /// flushed). False if `timeout` passed first.
    pub fn flush(&self, timeout: Option<Duration>) -> bool {
        let target = self.shared.queued.load(Ordering::SeqCst);
        self.writer.unpark();
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut done = self.shared.processed.lock().unwrap_or_else(|e| e.into_inner());
        while *done < target {
            match deadline {
                None => done = self.shared.progress.wait(done).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    done = self.shared.progress.wait_timeout(done, d - now).unwrap_or_else(|e| e.into_inner()).0;
                }
            }
        }
        true
    }

    pub fn stats(&self) -> AuditStats {
        AuditStats {
            queued: self.shared.queued.load(Ordering::Relaxed),
            processed: *self.shared.processed.lock().unwrap_or_else(|e| e.into_inner()),
            dropped: self.shared.dropped.load(Ordering::Relaxed),
            failed: self.shared.failed.load(Ordering::Relaxed),
        }
    }

    /// The version of the policy set deciding from now on (a git commit, a bundle digest), which
    /// the entries of those decisions report; set with the set itself (see `Engine`).
    pub fn set_policy_version(&self, version: Option<&str>) {
        *self.shared.policy_version.write().unwrap_or_else(|e| e.into_inner()) = version.map(Arc::from);
    }
}

fn write_loop(rx: Receiver<Queued>, mut builder: EntryBuilder, mut sink: Box<dyn Sink>, on_error: ErrorReporter, shared: Arc<Shared>) {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let mut closed = false;
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    closed = true;
                    break;
                }
            }
        }
        if batch.is_empty() {
            if closed {
                break;
            }
            // Nothing queued: sleep until woken (full queue, flush) or `IDLE` has passed.
            std::thread::park_timeout(IDLE);
            continue;
        }
        let n = batch.len() as u64;
        // A panic while building or writing loses this batch only; the writer goes on.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let entries: Vec<Vec<u8>> = batch.drain(..).filter_map(|(r, version)| builder.build(r, version.as_deref())).collect();
            if entries.is_empty() { Ok(()) } else { sink.write(entries) }.and_then(|()| sink.flush())
        }))
        .unwrap_or_else(|_| Err(SinkError { lost: n, message: "the decision-log writer panicked; a batch was lost".into() }));
        batch.clear();
        if let Err(e) = result {
            shared.failed.fetch_add(e.lost, Ordering::Relaxed);
            on_error(&e.message);
        }
        *shared.processed.lock().unwrap_or_else(|e| e.into_inner()) += n;
        shared.progress.notify_all();
    }
}
