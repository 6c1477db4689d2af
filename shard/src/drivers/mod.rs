//! Connection drivers: the glue that runs a sans-IO protocol session of
//! `arcly-protocols` over a [`Connection`](crate::Connection), reading the
//! clock and the socket for it.

pub(crate) mod batch;
pub(crate) mod egress;
pub(crate) mod fanout;
pub(crate) mod http;
pub(crate) mod nodelay;
pub(crate) mod per_app;
pub(crate) mod record;
pub(crate) mod rtmp;
pub(crate) mod session;

use std::net::SocketAddr;
use std::sync::Arc;

use self::http::HttpConfig;

use crate::{Runtime, ShardError};

impl Runtime {
    /// Serves HTTP/1.1 on `addr` on every shard: the status API
    /// (`/healthz`, `/api/v1/shards`) and HTTP-FLV. Returns the bound
    /// address.
    pub fn listen_http(
        &self,
        addr: SocketAddr,
        config: HttpConfig,
    ) -> Result<SocketAddr, ShardError> {
        let config = Arc::new(config);
        self.listen(addr, move |ctx, conn, _arrival| {
            http::serve(ctx, conn, config.clone())
        })
    }
}
