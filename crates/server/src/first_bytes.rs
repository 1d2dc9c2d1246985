//! A bound on a connection's opening bytes. hyper bounds the headers of an HTTP/1.1 request,
//! but not the bytes read before it knows which HTTP a connection speaks (the sniffing of a
//! plain connection, which waits for as much of the HTTP/2 preface as the client sent) nor
//! the HTTP/2 preface itself (its keep-alive pings start only after it). A client that is
//! silent there would hold its connection for ever.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// The length of the HTTP/2 client preface (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`): once a
/// connection has sent that much, either HTTP/2 has started (and its pings watch the peer)
/// or hyper is reading an HTTP/1 request under its header timeout.
pub const PREFACE: usize = 24;

/// `io` whose reads fail with [`io::ErrorKind::TimedOut`] when fewer than `need` bytes have
/// come within `wait` of its creation; once they have (or the peer closed), it is `io`. A
/// `need` of 0 sets no bound.
pub struct FirstBytes<T> {
    io: T,
    need: usize,
    deadline: Option<Pin<Box<Sleep>>>,
}

impl<T> FirstBytes<T> {
    pub fn new(io: T, need: usize, wait: Duration) -> Self {
        FirstBytes {
            io,
            need,
            deadline: (need > 0).then(|| Box::pin(tokio::time::sleep(wait))),
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for FirstBytes<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        let read = Pin::new(&mut this.io).poll_read(cx, buf);
        let Some(deadline) = this.deadline.as_mut() else {
            return read;
        };
        match &read {
            Poll::Ready(Ok(())) => {
                let got = buf.filled().len() - before;
                this.need = this.need.saturating_sub(got);
                if this.need == 0 || got == 0 {
                    this.deadline = None;
                }
            }
            Poll::Ready(Err(_)) => {}
            Poll::Pending => {
                if deadline.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client sent too little before the header timeout",
                    )));
                }
            }
        }
        read
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for FirstBytes<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn too_few_bytes_time_out_and_enough_lift_the_bound() {
        let wait = Duration::from_millis(100);
        let (mut client, server) = tokio::io::duplex(64);
        let mut io = FirstBytes::new(server, PREFACE, wait);
        client.write_all(b"PRI * HTTP").await.expect("write");
        let mut buf = [0u8; 64];
        assert_eq!(io.read(&mut buf).await.expect("read"), 10);
        let e = io.read(&mut buf).await.expect_err("too little");
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);

        let (mut client, server) = tokio::io::duplex(64);
        let mut io = FirstBytes::new(server, PREFACE, wait);
        client.write_all(&[b'x'; PREFACE]).await.expect("write");
        assert_eq!(io.read(&mut buf).await.expect("read"), PREFACE);
        tokio::time::sleep(wait * 2).await;
        client.write_all(b"later").await.expect("write");
        assert_eq!(io.read(&mut buf).await.expect("no bound now"), 5);
    }
}
