//! Connections: accepting them (at most `--max-connections`, a 503 past
//! that), their timeouts, and graceful shutdown.
//!
//! Each connection's bytes pass through [`Timed`], which holds three
//! clocks hyper does not keep apart: an idle keep-alive connection is
//! closed after `--idle-timeout`; once the first byte of a request came,
//! its headers must be in within `--header-timeout` (a client sending
//! them a byte at a time is cut off); and while a request is being
//! answered, `--request-timeout` without a byte moving either way ends
//! it. A single call must also be in whole within `--request-timeout`
//! (the handler answers 408).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{oneshot, Semaphore};
use tokio::time::{Instant, Sleep};
use tower::Service;

use crate::cli::CliError;

use super::app::{self, State};
use super::problem::Problem;
use super::reload::Reloader;
use super::Limits;

/// Refusals past the connection cap being written at once, at most;
/// past that a connection is closed without a word.
const REFUSALS: usize = 256;

/// Serves until SIGTERM or SIGINT, then shuts down gracefully. Returns
/// what stopped it.
pub async fn run(
    listen: SocketAddr,
    state: Arc<State>,
    reloader: Reloader,
) -> Result<String, CliError> {
    let signals = |kind: SignalKind| {
        signal(kind).map_err(|error| CliError::new(format!("cannot watch signals: {error}")))
    };
    let mut terminate = signals(SignalKind::terminate())?;
    let mut interrupt = signals(SignalKind::interrupt())?;
    let mut hangup = signals(SignalKind::hangup())?;

    let listener = TcpListener::bind(listen).await.map_err(|error| {
        let help = match error.kind() {
            io::ErrorKind::AddrInUse => {
                "another program listens there: pick another port with `--listen`"
            }
            io::ErrorKind::PermissionDenied => {
                "ports below 1024 need privileges: pick a higher one"
            }
            _ => "check the address given to `--listen`",
        };
        CliError::new(format!("cannot listen on {listen}: {error}")).help(help)
    })?;
    let address = listener
        .local_addr()
        .map_err(|error| CliError::new(format!("cannot listen on {listen}: {error}")))?;
    let reload = reloader.spawn();
    noteln!("listening on http://{address}");

    let limits = state.limits;
    let router = app::router(Arc::clone(&state));
    let closing = Arc::new(Closing::default());
    let connections = Arc::new(Semaphore::new(limits.max_connections as usize));
    let refusals = Arc::new(Semaphore::new(REFUSALS));

    let why = loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => match Arc::clone(&connections).try_acquire_owned() {
                    Ok(permit) => {
                        let (router, state, closing) = (router.clone(), Arc::clone(&state), Closing::listen(&closing));
                        tokio::spawn(async move {
                            state.metrics.connections.inc();
                            serve_connection(tcp, router, limits, closing).await;
                            state.metrics.connections.dec();
                            drop(permit);
                        });
                    }
                    Err(_) => {
                        state.metrics.connections_refused.inc();
                        if let Ok(permit) = Arc::clone(&refusals).try_acquire_owned() {
                            tokio::spawn(async move {
                                refuse(tcp, limits.max_connections).await;
                                drop(permit);
                            });
                        }
                    }
                },
                Err(error) => {
                    // Out of file descriptors, most likely: wait for some
                    // to be freed rather than spin.
                    tracing::warn!("cannot accept a connection: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = terminate.recv() => break "SIGTERM",
            _ = interrupt.recv() => break "SIGINT",
            _ = hangup.recv() => reload.now(),
        }
    };

    // Stop taking connections, let each finish what it has in hand.
    state.ready.store(false, Ordering::Relaxed);
    drop(listener);
    let open = limits.max_connections as usize - connections.available_permits();
    tracing::info!(
        "{why}: shutting down; {open} open {}, streams get {} s",
        if open == 1 {
            "connection"
        } else {
            "connections"
        },
        limits.shutdown_grace.as_secs_f64()
    );
    closing.close();
    let all_closed = connections.acquire_many(limits.max_connections);
    tokio::pin!(all_closed);
    let grace = tokio::time::sleep(limits.shutdown_grace);
    tokio::pin!(grace);
    let mut forced = false;
    tokio::select! {
        _ = &mut all_closed => {}
        _ = &mut grace => {
            // Streams end at the last whole line; a moment for the ends
            // to reach their clients.
            let _ = state.stop_streams.send(true);
            let _ = tokio::time::timeout(Duration::from_secs(1), &mut all_closed).await;
        }
        _ = terminate.recv() => forced = true,
        _ = interrupt.recv() => forced = true,
    }
    reload.stop();
    Ok(if forced {
        format!("{why}, then a second signal")
    } else {
        why.to_string()
    })
}

/// Answers a connection past the cap with a 503, then closes it.
async fn refuse(mut tcp: TcpStream, max: u32) {
    let body = Problem::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "callassign::too_many_connections",
        format!("the service has {max} connections open, its limit"),
    )
    .help("retry in a moment, or on another replica")
    .body();
    let mut answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        tcp.write_all(&answer).await?;
        tcp.shutdown().await?;
        // Read what the client sent, so that closing does not reset the
        // connection before it reads the answer.
        let mut sink = [0u8; 4096];
        while tcp.read(&mut sink).await? > 0 {}
        Ok::<_, io::Error>(())
    })
    .await;
}

async fn serve_connection(tcp: TcpStream, router: Router, limits: Limits, closing: Listener) {
    let _ = tcp.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Timed::new(tcp, Arc::clone(&activity), limits));
    let service = Tracker { router, activity };
    let mut builder = http1::Builder::new();
    // A client may close its sending side once its request is out (`nc
    // -N`, some proxies): it still waits for the answer, which hyper would
    // otherwise drop on seeing the end of the input. A client that is gone
    // altogether is noticed when writing the answer fails.
    builder
        .keep_alive(true)
        .half_close(true)
        .header_read_timeout(None);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let closed = tokio::select! {
        biased;
        _ = connection.as_mut() => true,
        _ = closing => false,
    };
    if !closed {
        connection.as_mut().graceful_shutdown();
        let _ = connection.await;
    }
}

/// Tells every open connection that the service is shutting down. Each
/// connection waits on a one-shot channel of its own: waiting costs
/// nothing shared each time the connection is polled (a `watch` receiver,
/// shared by all, takes a lock on every poll), and the lock here is taken
/// once when a connection opens, once when it closes, once at shutdown.
#[derive(Default)]
struct Closing {
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    closed: bool,
    /// The open connections' senders, by connection.
    senders: HashMap<u64, oneshot::Sender<()>>,
    next: u64,
}

impl Closing {
    /// A new connection's end of the signal.
    fn listen(closing: &Arc<Closing>) -> Listener {
        let (sender, receiver) = oneshot::channel();
        let mut open = closing.open.lock().unwrap_or_else(|p| p.into_inner());
        let id = open.next;
        open.next += 1;
        // Once closed, the sender is dropped here: the connection hears
        // it at once.
        if !open.closed {
            open.senders.insert(id, sender);
        }
        drop(open);
        Listener {
            receiver,
            closing: Arc::clone(closing),
            id,
        }
    }

    /// Every connection open now, or opened later, hears it.
    fn close(&self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.closed = true;
        // Dropping the senders is the signal.
        open.senders.clear();
    }
}

/// A connection's end of [`Closing`]: resolves when the service shuts
/// down.
struct Listener {
    receiver: oneshot::Receiver<()>,
    closing: Arc<Closing>,
    id: u64,
}

impl Future for Listener {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.receiver).poll(cx).map(|_| ())
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let mut open = self.closing.open.lock().unwrap_or_else(|p| p.into_inner());
        open.senders.remove(&self.id);
    }
}

/// Requests begun and answered on one connection, and when it last went
/// idle: what [`Timed`] needs to pick its clock.
struct Activity {
    opened: Instant,
    begun: AtomicU64,
    answered: AtomicU64,
    /// Nanoseconds after `opened`.
    idle_since: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            opened: Instant::now(),
            begun: AtomicU64::new(0),
            answered: AtomicU64::new(0),
            idle_since: AtomicU64::new(0),
        }
    }

    fn begin(&self) {
        self.begun.fetch_add(1, Ordering::Relaxed);
    }

    fn end(&self) {
        let idle = self.opened.elapsed().as_nanos() as u64;
        self.idle_since.store(idle, Ordering::Relaxed);
        self.answered.fetch_add(1, Ordering::Release);
    }
}

/// The router, with each request's answer tracked until its last byte.
#[derive(Clone)]
struct Tracker {
    router: Router,
    activity: Arc<Activity>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for Tracker {
    type Response = Response<Tracked>;
    type Error = Infallible;
    type Future = Tracking;

    fn call(&self, request: hyper::Request<Incoming>) -> Tracking {
        self.activity.begin();
        let request: Request = request.map(Body::new);
        Tracking {
            answer: self.router.clone().call(request),
            activity: Some(Arc::clone(&self.activity)),
        }
    }
}

/// A request being answered.
struct Tracking {
    answer: <Router as Service<Request>>::Future,
    /// Handed to the answer's body; the request ends when both are gone.
    activity: Option<Arc<Activity>>,
}

impl Future for Tracking {
    type Output = Result<Response<Tracked>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let response = match Pin::new(&mut self.answer).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(response)) => response,
            Poll::Ready(Err(never)) => match never {},
        };
        let activity = self.activity.take();
        Poll::Ready(Ok(response.map(|body| Tracked { body, activity })))
    }
}

impl Drop for Tracking {
    fn drop(&mut self) {
        if let Some(activity) = self.activity.take() {
            activity.end();
        }
    }
}

/// An answer's body; its request ends when it is dropped.
struct Tracked {
    body: Body,
    activity: Option<Arc<Activity>>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Some(activity) = self.activity.take() {
            activity.end();
        }
    }
}

impl http_body::Body for Tracked {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<bytes::Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// A connection's bytes, under the clocks described at the top.
struct Timed {
    inner: TcpStream,
    activity: Arc<Activity>,
    limits: Limits,
    /// Wakes the connection when a clock may have run out; it may ring
    /// early (the deadline moved later), never late.
    alarm: Pin<Box<Sleep>>,
    alarm_at: Instant,
    /// The first byte of a request not yet begun: (requests begun then,
    /// when it came).
    head: Option<(u64, Instant)>,
    /// When a byte last moved while a request was being answered.
    moved_at: Instant,
    moved: bool,
}

impl Timed {
    fn new(inner: TcpStream, activity: Arc<Activity>, limits: Limits) -> Timed {
        let alarm_at = activity.opened + limits.idle_timeout;
        Timed {
            inner,
            moved_at: activity.opened,
            activity,
            limits,
            alarm: Box::pin(tokio::time::sleep_until(alarm_at)),
            alarm_at,
            head: None,
            moved: false,
        }
    }

    fn read_some(&mut self) {
        self.moved = true;
        let answered = self.activity.answered.load(Ordering::Acquire);
        let begun = self.activity.begun.load(Ordering::Relaxed);
        if begun == answered && self.head.is_none_or(|(count, _)| count != begun) {
            self.head = Some((begun, Instant::now()));
        }
    }

    /// The deadline in force now.
    fn deadline(&mut self, now: Instant) -> Instant {
        if self.moved {
            self.moved = false;
            self.moved_at = now;
        }
        let answered = self.activity.answered.load(Ordering::Acquire);
        let begun = self.activity.begun.load(Ordering::Relaxed);
        if begun > answered {
            return self.moved_at + self.limits.request_timeout;
        }
        match self.head {
            Some((count, at)) if count == begun => at + self.limits.header_timeout,
            _ => {
                let idle = Duration::from_nanos(self.activity.idle_since.load(Ordering::Relaxed));
                self.activity.opened + idle + self.limits.idle_timeout
            }
        }
    }

    /// Pending, with the alarm set; or the error that ends the connection.
    fn wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let now = Instant::now();
        let deadline = self.deadline(now);
        if now >= deadline {
            return Poll::Ready(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection timed out",
            ));
        }
        if deadline < self.alarm_at {
            self.alarm.as_mut().reset(deadline);
            self.alarm_at = deadline;
        }
        while self.alarm.as_mut().poll(cx).is_ready() {
            // Rang early: the deadline moved since it was set.
            self.alarm.as_mut().reset(deadline);
            self.alarm_at = deadline;
        }
        Poll::Pending
    }
}

impl AsyncRead for Timed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    self.read_some();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => self.wait(cx).map(Err),
        }
    }
}

impl AsyncWrite for Timed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Ready(Ok(written)) => {
                self.moved |= written > 0;
                Poll::Ready(Ok(written))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => self.wait(cx).map(Err),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(written)) => {
                self.moved |= written > 0;
                Poll::Ready(Ok(written))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => self.wait(cx).map(Err),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
