//! An admitted connection's socket: it holds the connection's slot until dropped, notes when
//! bytes arrive (for the header timeout), and can be cut from outside.

use std::{
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
};
use tonic::transport::server::{Connected, TcpConnectInfo};

use super::{Connection, Ticket};

/// The socket of an admitted connection.
pub struct Io {
    stream: TcpStream,
    connection: Arc<Connection>,
    _ticket: Ticket,
}

impl Io {
    pub(super) fn new(stream: TcpStream, ticket: Ticket) -> Self {
        Self {
            stream,
            connection: Arc::new(Connection::new(ticket.probe_only)),
            _ticket: ticket,
        }
    }

    /// What the connection's parts share.
    pub fn connection(&self) -> &Arc<Connection> {
        &self.connection
    }

    fn aborted(&self, cx: &Context<'_>) -> Option<io::Result<()>> {
        self.connection
            .poll_aborted(cx)
            .then(|| Err(io::ErrorKind::ConnectionAborted.into()))
    }
}

impl Drop for Io {
    fn drop(&mut self) {
        self.connection.closed.send_replace(true);
    }
}

impl AsyncRead for Io {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(aborted) = this.aborted(cx) {
            return Poll::Ready(aborted);
        }
        let before = buf.filled().len();
        let read = Pin::new(&mut this.stream).poll_read(cx, buf);
        if matches!(read, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.connection.read_some();
        }
        read
    }
}

impl AsyncWrite for Io {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(Err(aborted)) = this.aborted(cx) {
            return Poll::Ready(Err(aborted));
        }
        Pin::new(&mut this.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(Err(aborted)) = this.aborted(cx) {
            return Poll::Ready(Err(aborted));
        }
        Pin::new(&mut this.stream).poll_write_vectored(cx, bufs)
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

/// What tonic puts in each request's extensions for a connection: the peer's address (which
/// [`super::grpc::Track`] copies out as tonic's own [`TcpConnectInfo`], where
/// `Request::remote_addr` looks) and the connection's shared state.
#[derive(Clone)]
pub struct Peer {
    pub(super) tcp: TcpConnectInfo,
    pub(super) connection: Arc<Connection>,
}

impl Connected for Io {
    type ConnectInfo = Peer;

    fn connect_info(&self) -> Peer {
        Peer {
            tcp: self.stream.connect_info(),
            connection: self.connection.clone(),
        }
    }
}
