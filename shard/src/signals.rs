//! SIGINT and SIGTERM: a graceful stop of every shard. SIGHUP: a reload of
//! what can change while running, when the embedder gave a [`Reload`].

use std::thread::JoinHandle;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::{Handle, Signals};

use crate::runtime::{Reload, reconfigure_all, shutdown_all};
use crate::{Runtime, ShardError};

/// The thread that waits for signals, and the handle that stops it.
pub(crate) struct SignalThread {
    /// Closing it ends the thread's wait.
    handle: Handle,
    /// The thread.
    thread: JoinHandle<()>,
}

impl SignalThread {
    /// Stops waiting for signals and joins the thread.
    pub(crate) fn stop(self) {
        self.handle.close();
        // The thread only loops over signals; it cannot have panicked in a
        // way worth reporting.
        let _ = self.thread.join();
    }
}

impl Runtime {
    /// What SIGHUP does: `reload` builds the new configuration (re-reading
    /// the operator's file, say) and every shard takes it, as
    /// [`Runtime::reconfigure`] does; an error leaves the running one in
    /// place. Call before [`Runtime::install_signal_handlers`].
    pub fn on_reload(&mut self, reload: Reload) {
        self.reload = Some(reload);
    }

    /// Makes SIGINT and SIGTERM stop the runtime gracefully: every shard
    /// stops accepting, ends its streams (viewers see the end) and returns,
    /// so [`Runtime::join`] finishes and the process can exit 0. A second
    /// signal repeats the request.
    ///
    /// The signals are read by one small thread (signal-hook's self-pipe,
    /// no work in the handler itself), pinned to shard 0's CPU so it does not
    /// wander onto CPUs left to other work. Calling it again does nothing.
    pub fn install_signal_handlers(&mut self) -> Result<(), ShardError> {
        if self.signals.is_some() {
            return Ok(());
        }
        let mut reload = self.reload.take();
        let wanted: &[i32] = if reload.is_some() {
            &[SIGINT, SIGTERM, SIGHUP]
        } else {
            &[SIGINT, SIGTERM]
        };
        let mut signals =
            Signals::new(wanted).map_err(|e| ShardError::io("install the signal handlers", e))?;
        let handle = signals.handle();
        let injector = self.injector.clone();
        let running = self.config().clone();
        let cpu = self.config().shards[0].cpu;
        let thread = std::thread::Builder::new()
            .name("arcly-signals".into())
            .spawn(move || {
                // Best effort: unpinned is still correct.
                core_affinity::set_for_current(core_affinity::CoreId { id: cpu });
                for signal in signals.forever() {
                    match (signal, reload.as_mut()) {
                        (SIGHUP, Some(reload)) => {
                            let applied = reload().and_then(|config| {
                                reconfigure_all(&injector, &running, config)
                                    .map_err(|e| e.to_string())
                            });
                            match applied {
                                Ok(()) => {
                                    tracing::info!("arcly: reloaded the configuration (SIGHUP)")
                                }
                                Err(e) => tracing::error!(
                                    "arcly: reload failed, the running configuration stays: {e}"
                                ),
                            }
                        }
                        _ => shutdown_all(&injector),
                    }
                }
            })
            .map_err(|e| ShardError::io("spawn the signal thread", e))?;
        self.signals = Some(SignalThread { handle, thread });
        Ok(())
    }
}
