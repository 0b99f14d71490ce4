//! The progress line on stderr while a benchmark runs: phase, a bar, elapsed of total time,
//! requests and errors so far. Drawn only when stderr is a terminal, so logs and pipes stay
//! clean, and erased before the results are printed.

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often the line is redrawn: often enough to look alive, rarely enough to cost nothing.
const REDRAW: Duration = Duration::from_millis(200);
const BAR_WIDTH: usize = 24;

/// Counters the virtual users bump and the line reads.
#[derive(Debug)]
pub struct Progress {
    started: Instant,
    total: Duration,
    phase: Mutex<&'static str>,
    pub requests: AtomicU64,
    pub errors: AtomicU64,
}

impl Progress {
    /// Progress over a run expected to last `total` (both phases).
    pub fn new(total: Duration) -> Progress {
        Progress {
            started: Instant::now(),
            total,
            phase: Mutex::new("starting"),
            requests: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        }
    }

    pub fn set_phase(&self, phase: &'static str) {
        if let Ok(mut slot) = self.phase.lock() {
            *slot = phase;
        }
    }

    /// One answered request.
    pub fn answered(&self, failed: bool) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn line(&self) -> String {
        let elapsed = self.started.elapsed();
        let fraction = if self.total.is_zero() {
            1.0
        } else {
            (elapsed.as_secs_f64() / self.total.as_secs_f64()).min(1.0)
        };
        let filled = (fraction * BAR_WIDTH as f64).round() as usize;
        let phase = self.phase.lock().map(|p| *p).unwrap_or("running");
        format!(
            "{phase:<8} [{}{}] {:>5.1}s / {:.1}s  {} requests  {} errors",
            "#".repeat(filled),
            "-".repeat(BAR_WIDTH - filled),
            elapsed.as_secs_f64(),
            self.total.as_secs_f64(),
            self.requests.load(Ordering::Relaxed),
            self.errors.load(Ordering::Relaxed),
        )
    }
}

/// The redrawing task; [`ProgressLine::finish`] stops it and erases the line.
pub struct ProgressLine {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl ProgressLine {
    /// Starts redrawing `progress` on stderr, or does nothing when stderr is not a terminal.
    pub fn start(progress: std::sync::Arc<Progress>) -> Option<ProgressLine> {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(REDRAW);
            loop {
                tokio::select! {
                    _ = tick.tick() => draw(&progress.line()),
                    _ = stopped.changed() => break,
                }
            }
            // Erase the line so the results start on a clean one.
            draw("");
        });
        Some(ProgressLine { stop, task })
    }

    pub async fn finish(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Replaces the current terminal line with `text` (carriage return, erase line).
fn draw(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "\r\x1b[2K{text}");
    let _ = stderr.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_phase_and_counts() {
        let progress = Progress::new(Duration::from_secs(10));
        progress.set_phase("health");
        progress.answered(false);
        progress.answered(true);
        let line = progress.line();
        assert!(line.starts_with("health "), "{line}");
        assert!(line.contains("/ 10.0s"), "{line}");
        assert!(line.contains("2 requests  1 errors"), "{line}");
    }
}
