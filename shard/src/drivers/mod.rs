//! Connection drivers: the glue that runs a sans-IO protocol session of
//! `arcly-protocols` over a [`Connection`](crate::Connection), reading the
//! clock and the socket for it.

pub(crate) mod egress;
pub(crate) mod http;
pub(crate) mod rtmp;

use std::net::SocketAddr;

use crate::{Runtime, ShardError};

impl Runtime {
    /// Serves HTTP/1.1 on `addr` on every shard: the status API
    /// (`/healthz`, `/api/v1/shards`). Returns the bound address.
    pub fn listen_http(&self, addr: SocketAddr) -> Result<SocketAddr, ShardError> {
        self.listen(addr, |ctx, conn, _arrival| http::serve(ctx, conn))
    }
}
