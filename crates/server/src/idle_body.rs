//! Request bodies with a bound on silence: a client that sends nothing of its body for the
//! port's `HTTP.HeaderTimeout` gets an error where its body is read (the REST and form
//! handlers answer 408), and hyper closes the connection, instead of holding it open for
//! ever with a trickle or a stall.

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// The error a silent client's body ends with.
#[derive(Debug)]
pub struct BodyTimeout(pub Duration);

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the client sent no part of the request body for {:?}",
            self.0
        )
    }
}

impl std::error::Error for BodyTimeout {}

/// `inner`, failing once no frame has come for `wait`.
pub struct IdleBody<B> {
    inner: B,
    wait: Duration,
    /// Armed when the body first has to wait (most bodies never do).
    sleep: Option<Pin<Box<Sleep>>>,
}

impl<B> IdleBody<B> {
    pub fn new(inner: B, wait: Duration) -> Self {
        IdleBody {
            inner,
            wait,
            sleep: None,
        }
    }
}

impl<B> Body for IdleBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                if let Some(s) = this.sleep.as_mut() {
                    s.as_mut().reset(Instant::now() + this.wait);
                }
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                let wait = this.wait;
                let sleep = this
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(wait)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimeout(wait))))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
