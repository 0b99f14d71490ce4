//! The workstation: the ratatui terminal UI a doctor lives in all day. One `State`, typed
//! `Action`s, `update` as the only place state changes, effects run off the UI path by the
//! `Runner`, rendering a pure function of the state, redrawn only when it changed, inside
//! synchronized-output frames so SSH sessions do not flicker.

pub mod action;
pub mod components;
pub mod effect;
pub mod input;
pub mod keymap;
pub mod layout;
pub mod live;
pub mod roles;
pub mod screens;
pub mod settings;
pub mod state;
pub mod terminal;
pub mod theme;
pub mod ui;
pub mod update;

use std::time::{Duration, Instant};

use crossterm::event::{Event, EventStream};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::client::{ApiClient, SessionEvent};
use crate::credentials::{SavedLogin, SignOut, SignOutCause, TokenStore};
use action::{Action, Response};
use effect::{Effect, Runner};
use state::{SessionInfo, Settings, State};

/// How often the clock ticks (inactivity lock, elapsed time, toasts).
const TICK: Duration = Duration::from_millis(250);

/// Everything the workstation starts with.
pub struct Launch {
    pub client: ApiClient,
    pub token_store: TokenStore,
    /// The key the session is remembered under (the server URL, or the embedded database).
    pub session_key: String,
    pub settings: Settings,
    pub demo_accounts: Vec<String>,
}

/// Saves each rotated refresh token and forgets ended sessions, as they happen.
fn keep_session(client: &ApiClient, store: TokenStore, key: String) {
    let mut events = client.session_events();
    tokio::spawn(async move {
        while events.changed().await.is_ok() {
            let event = events.borrow_and_update().clone();
            let outcome = match event {
                SessionEvent::Renewed {
                    email,
                    refresh_token,
                } => {
                    store
                        .save(
                            &key,
                            &SavedLogin {
                                email,
                                refresh_token,
                            },
                        )
                        .await
                }
                SessionEvent::Ended => store.forget(&key).await,
                SessionEvent::None => Ok(()),
            };
            if let Err(error) = outcome {
                tracing::warn!(error = %error, "could not update the remembered session");
            }
        }
    });
}

pub async fn run(launch: Launch) -> anyhow::Result<()> {
    let Launch {
        client,
        token_store,
        session_key,
        settings,
        demo_accounts,
    } = launch;
    let saved = token_store.load(&session_key).await.ok().flatten();
    // Nothing to resume because the last run ended the session itself: the login screen says so.
    let signed_out = match saved {
        Some(_) => None,
        None => token_store.last_sign_out(&session_key).await.ok().flatten(),
    };
    keep_session(&client, token_store.clone(), session_key.clone());

    let session = SessionInfo {
        user: None,
        server: client.server_url().to_string(),
        token_store: token_store.status(),
        remembered: token_store.remembers(),
        expires_at: None,
        demo_accounts,
        second_factor: false,
    };
    let mut state = State::new(session, settings);
    let (actions, mut incoming) = mpsc::unbounded_channel::<Action>();
    let runner = Runner::new(client.clone(), actions.clone());

    if let Some(signed_out) = signed_out {
        state.login.email = input::Field::with(&signed_out.email);
        state.login.focus = screens::login::LoginFocus::Password;
        state.login.error = Some(signed_out.headline());
    }
    // A remembered session skips the login screen.
    if let Some(saved) = saved {
        state.login.email = input::Field::with(&saved.email);
        state.login.busy = true;
        let client = client.clone();
        let actions = actions.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let resumed = client.resume(&saved.refresh_token).await;
            let response = Box::new(effect::signed_in(&client, resumed, Response::Resumed));
            let _ = actions.send(Action::Response {
                request: 0,
                latency_ms: started.elapsed().as_millis() as u64,
                response,
            });
        });
    }

    let mut guard = terminal::TerminalGuard::enter(state.settings.mouse)?;
    let size = guard.terminal.size()?;
    state.width = size.width;
    state.height = size.height;
    let mut events = EventStream::new();
    let started = Instant::now();
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    // Why the loop ended on its own, when the terminal went away or the process was told to stop.
    let mut ended_by: Option<SignOutCause> = None;

    loop {
        if state.dirty {
            state.session.expires_at = client.access_expires_at();
            state.wall_now = chrono::Utc::now();
            let _ = crossterm::execute!(std::io::stdout(), BeginSynchronizedUpdate);
            guard.terminal.draw(|frame| ui::draw(frame, &state))?;
            let _ = crossterm::execute!(std::io::stdout(), EndSynchronizedUpdate);
            state.dirty = false;
        }
        #[cfg(unix)]
        let signal = async {
            tokio::select! {
                _ = terminate.recv() => SignOutCause::Terminated,
                _ = hangup.recv() => SignOutCause::Hangup,
            }
        };
        #[cfg(not(unix))]
        let signal = std::future::pending::<SignOutCause>();
        let action = tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => Action::Key(key),
                Some(Ok(Event::Paste(text))) => Action::Paste(text),
                Some(Ok(Event::Mouse(mouse))) => Action::Mouse(mouse),
                Some(Ok(Event::Resize(w, h))) => Action::Resize(w, h),
                Some(Ok(_)) => continue,
                // The terminal is gone: leave as if signalled.
                Some(Err(_)) | None => { ended_by = Some(SignOutCause::TerminalLost); Action::Terminate }
            },
            Some(action) = incoming.recv() => action,
            _ = ticker.tick() => Action::Tick(started.elapsed().as_millis() as u64),
            cause = signal => { ended_by = Some(cause); Action::Terminate }
        };
        for effect in update::update(&mut state, action) {
            if effect != Effect::Quit {
                runner.run(effect);
            }
        }
        if state.quit {
            break;
        }
    }
    if let Some(cause) = ended_by {
        // Notes typed since the last save go first, if the server answers in time: the doctor
        // whose link dropped finds them in the consultation.
        if let Some((id, notes)) = screens::consultation::pending_notes(&state) {
            let _ =
                tokio::time::timeout(Duration::from_secs(2), client.update_notes(id, &notes)).await;
        }
        // A lost SSH link or a shutdown logs out: the session must not outlive the terminal.
        sign_out(&client, &token_store, &session_key, cause).await;
    }
    drop(guard);
    Ok(())
}

/// Ends the session because the terminal went away or the process was told to stop: logs out
/// at the server, removes the saved session and records why, so `synapse whoami` (and the next
/// start) can say what happened. Bounded: the process is on its way out.
async fn sign_out(client: &ApiClient, store: &TokenStore, key: &str, cause: SignOutCause) {
    let user = client.user();
    let confirmed = matches!(
        tokio::time::timeout(Duration::from_secs(2), client.logout()).await,
        Ok(Ok(_))
    );
    // Nobody was logged in: there is no session to end, and a saved one stays for the next start.
    let Some(user) = user else { return };
    let record = SignOut {
        at: chrono::Utc::now(),
        cause,
        email: user.email,
        server_confirmed: confirmed,
    };
    let kept = async {
        store.forget(key).await?;
        store.record_sign_out(key, &record).await
    };
    match tokio::time::timeout(Duration::from_secs(2), kept).await {
        Ok(Ok(())) => tracing::info!(?cause, "signed out: the terminal went away"),
        Ok(Err(error)) => {
            tracing::warn!(error = %format!("{error:#}"), "could not record the sign-out")
        }
        Err(_) => tracing::warn!("the keyring did not answer while recording the sign-out"),
    }
}
