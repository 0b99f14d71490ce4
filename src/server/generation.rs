//! The report generation worker: stopped consultations queue their report here, and a
//! background task turns the notes into sections with `reportgen`, off the async executor.
//! Reports still queued in the database (after a restart) are picked up at start.

use std::sync::Arc;

use tokio::sync::mpsc;
use uuid::Uuid;

use crate::reportgen;
use crate::store::Store;

#[derive(Clone)]
pub struct GenerationQueue {
    sender: mpsc::UnboundedSender<Uuid>,
}

impl GenerationQueue {
    /// Starts the worker on the current runtime.
    pub fn start(store: Arc<dyn Store>) -> GenerationQueue {
        let (sender, mut receiver) = mpsc::unbounded_channel::<Uuid>();
        tokio::spawn(async move {
            match store.queued_reports().await {
                Ok(waiting) => {
                    for id in waiting {
                        generate(store.as_ref(), id).await;
                    }
                }
                Err(error) => tracing::error!(error = %error, "could not read the report queue"),
            }
            while let Some(id) = receiver.recv().await {
                generate(store.as_ref(), id).await;
            }
        });
        GenerationQueue { sender }
    }

    pub fn enqueue(&self, report_id: Uuid) {
        // The worker lives as long as the runtime; if it is gone, the report stays queued in
        // the database and is picked up at the next start.
        let _ = self.sender.send(report_id);
    }
}

async fn generate(store: &dyn Store, report_id: Uuid) {
    let job = match store.claim_generation(report_id).await {
        Ok(Some(job)) => job,
        Ok(None) => return,
        Err(error) => {
            tracing::error!(%report_id, error = %error, "could not claim a report for generation");
            return;
        }
    };
    let outcome = tokio::task::spawn_blocking(move || {
        reportgen::generate(&job.notes, job.chief_complaint.as_deref())
    })
    .await;
    crate::telemetry::report_generation(matches!(outcome, Ok(Ok(_))));
    let finished = match &outcome {
        Ok(Ok(generated)) => {
            store
                .finish_generation(
                    report_id,
                    Ok((&generated.content, generated.confidence, reportgen::GENERATOR)),
                )
                .await
        }
        Ok(Err(reason)) => {
            store
                .finish_generation(report_id, Err(&reason.to_string()))
                .await
        }
        Err(_) => {
            store
                .finish_generation(
                    report_id,
                    Err("The report generator stopped unexpectedly. Write the report by hand, or ask your administrator."),
                )
                .await
        }
    };
    if let Err(error) = finished {
        tracing::error!(%report_id, error = %error, "could not save a generated report");
    }
}
