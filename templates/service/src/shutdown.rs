//! Graceful shutdown: one signal that every long-lived task can wait on.

use tokio::sync::watch;

/// Cloneable handle that resolves once SIGINT or SIGTERM arrived.
#[derive(Clone)]
pub struct Shutdown(watch::Receiver<bool>);

/// Triggers [`Shutdown`]; dropping it triggers it too.
pub struct Trigger(watch::Sender<bool>);

pub fn channel() -> (Trigger, Shutdown) {
    let (sender, receiver) = watch::channel(false);
    (Trigger(sender), Shutdown(receiver))
}

impl Trigger {
    pub fn fire(&self) {
        self.0.send_replace(true);
    }
}

impl Shutdown {
    /// Whether shutdown has begun.
    pub fn has_begun(&self) -> bool {
        // An error means the trigger is gone, as in `wait`.
        *self.0.borrow() || self.0.has_changed().is_err()
    }

    /// Resolves when shutdown has begun (immediately if it already has).
    pub async fn wait(&mut self) {
        // An error means the trigger is gone, which also means shutting down.
        let _ = self.0.wait_for(|&stopping| stopping).await;
    }
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM (what `docker stop` and Kubernetes send).
pub async fn signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
