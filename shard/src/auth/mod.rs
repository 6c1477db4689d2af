//! Authorization as every protocol driver asks for it: the static checks
//! of the engine's [`Authenticator`](arcly_engine::Authenticator) (tokens,
//! signed URLs) with the request's time filled in, then the operator's
//! HTTP hooks.
//!
//! - `on_publish` / `on_play` decide: the event is POSTed as JSON
//!   ([`event`]), a 2xx answer allows, any other status refuses. A hook
//!   that cannot be asked (down, slow past its timeout, answering
//!   garbage) refuses too, unless [`Hooks::fail_open`] is set.
//! - `on_publish_done` / `on_play_done` are notifications posted when an
//!   allowed session ends ([`done`]); their answer changes nothing.
//!
//! Every call runs on the asking shard's own io_uring ([`client`]), so a
//! slow hook holds up the session that asked and nothing else. HLS asks on
//! every playlist request, so a shard remembers an allowing answer for an
//! HLS player's (app, stream, query) for [`HLS_VERDICT_TTL`].

mod client;
mod done;
mod event;
mod url;

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use arcly_engine::{AuthError, AuthRequest, StreamKey};

pub(crate) use self::done::DoneHook;
use self::event::{HookAction, HookEvent};
pub use self::url::{HookUrl, HookUrlError};
use crate::ShardCtx;

/// Default [`Hooks::timeout`].
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a shard reuses an HLS player's allowing `on_play` answer.
pub const HLS_VERDICT_TTL: Duration = Duration::from_secs(30);

/// Most remembered HLS answers per shard; past it they are all forgotten.
const HLS_VERDICTS_MAX: usize = 4096;

/// The hooks of one app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hooks {
    /// Asked before a publish; a 2xx answer allows.
    pub on_publish: Option<HookUrl>,
    /// Asked before a play; a 2xx answer allows.
    pub on_play: Option<HookUrl>,
    /// Told when an allowed publisher stops.
    pub on_publish_done: Option<HookUrl>,
    /// Told when an allowed player stops (RTMP and HTTP-FLV; HLS has no
    /// session to end).
    pub on_play_done: Option<HookUrl>,
    /// How long one call may take, connection included.
    pub timeout: Duration,
    /// Whether a hook that cannot be asked allows (`true`) or refuses
    /// (`false`, the default).
    pub fail_open: bool,
}

impl Default for Hooks {
    fn default() -> Self {
        Hooks {
            on_publish: None,
            on_play: None,
            on_publish_done: None,
            on_play_done: None,
            timeout: DEFAULT_HOOK_TIMEOUT,
            fail_open: false,
        }
    }
}

impl Hooks {
    fn url(&self, action: HookAction) -> Option<&HookUrl> {
        match action {
            HookAction::Publish => self.on_publish.as_ref(),
            HookAction::Play => self.on_play.as_ref(),
            HookAction::PublishDone => self.on_publish_done.as_ref(),
            HookAction::PlayDone => self.on_play_done.as_ref(),
        }
    }
}

/// The hooks of every app: apps with their own [`Hooks`], and the rest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HookConfig {
    /// For apps not in `apps`.
    pub default: Hooks,
    /// Per app, complete (the loader merges any override with the
    /// default).
    pub apps: HashMap<String, Hooks>,
}

impl HookConfig {
    /// The hooks `app` uses.
    pub fn for_app(&self, app: &str) -> &Hooks {
        self.apps.get(app).unwrap_or(&self.default)
    }
}

impl ShardCtx {
    /// May this client publish? The runtime's authenticator, then the
    /// app's `on_publish` hook.
    pub async fn authorize_publish(&self, request: &AuthRequest<'_>) -> Result<(), AuthError> {
        let request = request.at(unix_now());
        self.config().authenticator.authorize_publish(&request)?;
        self.ask_hook(HookAction::Publish, &request).await
    }

    /// May this client play? The runtime's authenticator, then the app's
    /// `on_play` hook.
    pub async fn authorize_play(&self, request: &AuthRequest<'_>) -> Result<(), AuthError> {
        let request = request.at(unix_now());
        self.config().authenticator.authorize_play(&request)?;
        self.ask_hook(HookAction::Play, &request).await
    }

    /// A guard that tells the app's `on_publish_done` hook when dropped;
    /// `None` when the app has no such hook.
    pub(crate) fn publish_done_hook(
        &self,
        key: &StreamKey,
        query: &str,
        peer: Option<SocketAddr>,
        protocol: &str,
    ) -> Option<DoneHook> {
        self.done_hook(HookAction::PublishDone, key, query, peer, protocol)
    }

    /// A guard that tells the app's `on_play_done` hook when dropped;
    /// `None` when the app has no such hook.
    pub(crate) fn play_done_hook(
        &self,
        key: &StreamKey,
        query: &str,
        peer: Option<SocketAddr>,
        protocol: &str,
    ) -> Option<DoneHook> {
        self.done_hook(HookAction::PlayDone, key, query, peer, protocol)
    }

    fn done_hook(
        &self,
        action: HookAction,
        key: &StreamKey,
        query: &str,
        peer: Option<SocketAddr>,
        protocol: &str,
    ) -> Option<DoneHook> {
        let config = self.config();
        let hooks = config.hooks.for_app(key.app());
        let url = hooks.url(action)?.clone();
        let event = HookEvent {
            action,
            app: key.app().to_owned(),
            stream: key.name().to_owned(),
            query: query.to_owned(),
            peer,
            protocol: protocol.to_owned(),
            shard: self.id(),
        };
        Some(DoneHook::new(self, url, event, hooks.timeout))
    }

    async fn ask_hook(&self, action: HookAction, req: &AuthRequest<'_>) -> Result<(), AuthError> {
        let config = self.config();
        let hooks = config.hooks.for_app(req.app);
        let Some(url) = hooks.url(action) else {
            return Ok(());
        };
        let remembered = (req.protocol == "hls").then(|| VerdictKey::of(req));
        if remembered.as_ref().is_some_and(VerdictKey::is_allowed) {
            return Ok(());
        }
        let event = HookEvent {
            action,
            app: req.app.to_owned(),
            stream: req.stream.to_owned(),
            query: req.query.to_owned(),
            peer: req.peer,
            protocol: req.protocol.to_owned(),
            shard: self.id(),
        };
        let hook = action.name();
        match client::call(self, url, &event.encode_request(url), hooks.timeout).await {
            Ok(status) if (200..300).contains(&status) => {
                if let Some(key) = remembered {
                    key.allow();
                }
                Ok(())
            }
            Ok(status) => Err(AuthError::HookRefused { hook, status }),
            Err(e) => {
                let then = if hooks.fail_open {
                    "allowing (fail_open)"
                } else {
                    "refusing (fail closed; fail_open = true would allow)"
                };
                tracing::warn!(
                    shard = self.id(),
                    peer = req.peer.map(tracing::field::display),
                    protocol = %req.protocol,
                    "hooks: {hook} {}/{} to {url} failed: {e}; {then}",
                    req.app,
                    req.stream,
                );
                if hooks.fail_open {
                    Ok(())
                } else {
                    // The URL stays in the log: the reason may reach the
                    // client.
                    Err(AuthError::HookFailed {
                        hook,
                        reason: e.to_string(),
                    })
                }
            }
        }
    }
}

/// Seconds since the UNIX epoch (0 for a clock set before it).
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

thread_local! {
    /// This shard's allowing HLS `on_play` answers, until when they hold.
    static HLS_VERDICTS: RefCell<HashMap<VerdictKey, Instant>> = RefCell::default();
}

/// What an HLS `on_play` answer was given for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct VerdictKey {
    app: String,
    stream: String,
    query: String,
}

impl VerdictKey {
    fn of(req: &AuthRequest<'_>) -> VerdictKey {
        VerdictKey {
            app: req.app.to_owned(),
            stream: req.stream.to_owned(),
            query: req.query.to_owned(),
        }
    }

    fn is_allowed(&self) -> bool {
        HLS_VERDICTS.with_borrow(|v| v.get(self).is_some_and(|&until| Instant::now() < until))
    }

    fn allow(self) {
        HLS_VERDICTS.with_borrow_mut(|v| {
            if v.len() >= HLS_VERDICTS_MAX {
                let now = Instant::now();
                v.retain(|_, until| *until > now);
                if v.len() >= HLS_VERDICTS_MAX {
                    v.clear();
                }
            }
            v.insert(self, Instant::now() + HLS_VERDICT_TTL);
        });
    }
}
