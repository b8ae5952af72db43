//! When a request arrived: TCP streams that remember when the kernel received the bytes they read
//! last, and the precise wait of `/delay/{ms}` that counts from that moment.
//!
//! A server that starts a delay when its handler runs adds its own wake-up to every response: on a
//! VM, going from idle to reading the request took 80 µs at the median (timestamps of the loopback
//! packets against the handler's start), and the timerfd at the delay's end woke another 60 µs
//! late. `/delay/10` then answered 10.16 ms after the request reached it, and the benchmark that
//! measures a generator's accuracy against it counted the server's wake-ups as the generator's.
//! So on Linux each read asks the kernel for the receive time of the data (`SO_TIMESTAMPNS`, a
//! control message of `recvmsg`), the service hands it to the handler in the request's extensions
//! ([`Received`]), and [`wait_until`] sleeps on a timerfd to [`SPIN`] before the deadline and
//! spins the rest, so the response is written within a few microseconds of the deadline whenever
//! the thread wakes within [`SPIN`] of its timer. Where there is no stamp the time of the read
//! stands in: on other systems, and on Linux for the first reads after the first socket asks
//! (the kernel switches receive stamping on for everyone a moment later, from a work queue).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// How long before a delay's end its timer fires; the rest is a busy wait. The timerfd's wake-ups
/// on a 2-core VM came 30–140 µs late (median 57), so most of them land inside this window and
/// the busy wait absorbs the wake-up; a later one is answered at once. It costs up to this much
/// of the server thread per delayed request (10 % of a core at 1,000 delays a second).
pub(crate) const SPIN: Duration = Duration::from_micros(100);

/// The arrival time of a request, in its extensions.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Received(pub(crate) Instant);

/// Waits until `deadline`: a timer to [`SPIN`] before it, then a busy wait.
pub(crate) async fn wait_until(deadline: Instant) {
    if let Some(early) = deadline.checked_sub(SPIN) {
        hornet_timer::Timer::new().sleep_until(early).await;
    }
    while Instant::now() < deadline {
        std::hint::spin_loop();
    }
}

/// When a connection's last read happened, shared between its stream and its service.
#[derive(Debug)]
pub(crate) struct ArrivalClock {
    /// The connection's start; reads are kept as nanoseconds after it.
    base: Instant,
    /// Nanoseconds after `base` of the last read's data arrival, plus one (0: nothing read yet).
    last: AtomicU64,
}

impl ArrivalClock {
    fn new() -> ArrivalClock {
        ArrivalClock { base: Instant::now(), last: AtomicU64::new(0) }
    }

    /// When the data of the last read arrived, if anything was read.
    pub(crate) fn last_read(&self) -> Option<Instant> {
        match self.last.load(Ordering::Relaxed) {
            0 => None,
            n => Some(self.base + Duration::from_nanos(n - 1)),
        }
    }

    fn set(&self, at: Instant) {
        let nanos = at.saturating_duration_since(self.base).as_nanos();
        self.last.store(u64::try_from(nanos).unwrap_or(u64::MAX - 1) + 1, Ordering::Relaxed);
    }
}

/// A TCP stream whose reads record when their data arrived (see the module doc).
#[derive(Debug)]
pub(crate) struct StampedStream {
    stream: TcpStream,
    clock: Arc<ArrivalClock>,
    /// The kernel stamps received data (`SO_TIMESTAMPNS` is on).
    kernel_stamps: bool,
}

impl StampedStream {
    /// Wraps `stream`, asking the kernel to stamp what it receives where it can.
    pub(crate) fn new(stream: TcpStream) -> StampedStream {
        #[cfg(target_os = "linux")]
        let kernel_stamps = linux::enable_stamps(&stream);
        #[cfg(not(target_os = "linux"))]
        let kernel_stamps = false;
        StampedStream { stream, clock: Arc::new(ArrivalClock::new()), kernel_stamps }
    }

    /// The clock the reads of this stream set.
    pub(crate) fn clock(&self) -> Arc<ArrivalClock> {
        Arc::clone(&self.clock)
    }
}

impl AsyncRead for StampedStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        #[cfg(target_os = "linux")]
        if this.kernel_stamps {
            loop {
                ready!(this.stream.poll_read_ready(cx))?;
                let unfilled = buf.initialize_unfilled();
                let read = this
                    .stream
                    .try_io(tokio::io::Interest::READABLE, || linux::recv_stamped(&this.stream, unfilled));
                match read {
                    Ok((n, arrived)) => {
                        buf.advance(n);
                        if n > 0 {
                            this.clock.set(arrived.unwrap_or_else(Instant::now));
                        }
                        return Poll::Ready(Ok(()));
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.stream).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            this.clock.set(Instant::now());
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for StampedStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io;
    use std::os::fd::AsRawFd;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use tokio::net::TcpStream;
    use tokio::time::Instant;

    /// Turns on `SO_TIMESTAMPNS`; false if the kernel refused.
    pub(super) fn enable_stamps(stream: &TcpStream) -> bool {
        let on: libc::c_int = 1;
        // SAFETY: a live socket, and an option value that lives for the call with its size.
        unsafe {
            libc::setsockopt(
                stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                (&raw const on).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            ) == 0
        }
    }

    /// One non-blocking `recvmsg` into `buf`: the bytes read and, when the kernel stamped them,
    /// when they arrived.
    pub(super) fn recv_stamped(stream: &TcpStream, buf: &mut [u8]) -> io::Result<(usize, Option<Instant>)> {
        // Room for one cmsghdr with a timespec, u64-aligned as cmsghdr needs.
        let mut control = [0u64; 8];
        let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
        // SAFETY: an all-zero msghdr is valid (no name, no buffers); the fields are set below.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &raw mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        // SAFETY: `msg` points at `iov` (over `buf`) and `control`, all alive for the call.
        let n = unsafe { libc::recvmsg(stream.as_raw_fd(), &raw mut msg, libc::MSG_DONTWAIT) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut stamp = None;
        // SAFETY: the kernel filled `msg_controllen` bytes of `control`; the CMSG macros walk
        // exactly those, and a timestamp message carries a timespec.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(&raw const msg);
            while !cmsg.is_null() {
                if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS {
                    let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                    stamp = Some(ts);
                }
                cmsg = libc::CMSG_NXTHDR(&raw const msg, cmsg);
            }
        }
        Ok((n as usize, stamp.and_then(arrival)))
    }

    /// The `Instant` of a wall-clock receive stamp: now, less the stamp's age (at most a second,
    /// so a clock step cannot move it far).
    fn arrival(ts: libc::timespec) -> Option<Instant> {
        let secs = u64::try_from(ts.tv_sec).ok()?;
        let nanos = u32::try_from(ts.tv_nsec).ok()?;
        let stamped = UNIX_EPOCH + Duration::new(secs, nanos);
        let age = SystemTime::now().duration_since(stamped).unwrap_or_default().min(Duration::from_secs(1));
        Instant::now().checked_sub(age)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_read_records_when_its_data_arrived_not_when_it_was_read() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let mut client = TcpStream::connect(listener.local_addr().expect("addr")).await.expect("connect");
        let (server, _) = listener.accept().await.expect("accept");
        let mut server = StampedStream::new(server);
        let clock = server.clock();
        assert!(clock.last_read().is_none(), "nothing read yet");
        if cfg!(target_os = "linux") {
            assert!(server.kernel_stamps, "SO_TIMESTAMPNS is on");
        }
        let mut buf = [0u8; 16];
        // The first reads may come before the kernel has switched stamping on (see the module
        // doc), so a few rounds; on Linux one of them must show the arrival, not the read.
        let mut late_by = Vec::new();
        for _ in 0..10 {
            client.write_all(b"ping").await.expect("write");
            let sent = Instant::now();
            // Read well after the data came in.
            tokio::time::sleep(Duration::from_millis(50)).await;
            let n = server.read(&mut buf).await.expect("read");
            let read_at = Instant::now();
            assert_eq!(&buf[..n], b"ping");
            let arrived = clock.last_read().expect("a read sets the clock");
            assert!(arrived <= read_at, "a stamp after its read");
            late_by.push(arrived.saturating_duration_since(sent));
            if !cfg!(target_os = "linux") || arrived < sent + Duration::from_millis(40) {
                break;
            }
        }
        if cfg!(target_os = "linux") {
            assert!(
                late_by.last().is_some_and(|late| *late < Duration::from_millis(40)),
                "each stamp was the read's, 50 ms after the send: {late_by:?}"
            );
        }
        // Writes pass through, and the end of the stream reads as zero bytes.
        server.write_all(b"pong").await.expect("write back");
        let n = client.read(&mut buf).await.expect("read back");
        assert_eq!(&buf[..n], b"pong");
        drop(client);
        assert_eq!(server.read(&mut buf).await.expect("eof"), 0);
    }

    #[tokio::test]
    async fn the_wait_ends_at_its_deadline_and_not_before() {
        for ms in [0u64, 1, 3] {
            let deadline = Instant::now() + Duration::from_millis(ms);
            wait_until(deadline).await;
            assert!(Instant::now() >= deadline, "woke before the deadline of {ms} ms");
        }
    }
}
