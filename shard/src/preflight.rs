//! Start-up checks: can this process run io_uring executors at all?
//!
//! glommio fails deep inside executor start-up with an error that rarely
//! says what to change. These checks run first and, where something is
//! missing, name the one thing the operator must fix.

/// What is missing for the executors to start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreflightError {
    /// The kernel has no io_uring.
    #[error("io_uring is not available (io_uring_setup: ENOSYS): arcly needs Linux 5.8 or newer")]
    NoIoUring,
    /// io_uring exists but is switched off for this process.
    #[error(
        "io_uring is disabled for this process (io_uring_setup: {0}): set sysctl kernel.io_uring_disabled=0, or allow io_uring in the container's seccomp profile"
    )]
    IoUringDenied(String),
    /// The locked-memory limit is below what the executors register.
    #[error(
        "locked-memory limit is {limit_kib} KiB but {shards} shard(s) need {need_kib} KiB: raise it (ulimit -l {need_kib}, or LimitMEMLOCK= in the systemd unit), or run fewer shards"
    )]
    MemlockTooLow {
        /// RLIMIT_MEMLOCK, in KiB.
        limit_kib: u64,
        /// Shards asked for.
        shards: usize,
        /// KiB they need.
        need_kib: u64,
    },
}

/// Runs every check for `shards` executors that each lock
/// `locked_bytes_per_shard` bytes.
pub fn check(shards: usize, locked_bytes_per_shard: u64) -> Result<(), PreflightError> {
    check_io_uring()?;
    check_memlock(memlock_limit(), shards, locked_bytes_per_shard)
}

/// Sets up and tears down a tiny io_uring.
pub fn check_io_uring() -> Result<(), PreflightError> {
    // `struct io_uring_params` is 120 bytes; zeroed asks for the defaults.
    let mut params = [0u8; 120];
    // SAFETY: io_uring_setup reads and writes exactly `sizeof(io_uring_params)`
    // bytes at the pointer, which points to a live 120-byte buffer.
    let fd = unsafe { libc::syscall(libc::SYS_io_uring_setup, 4u32, params.as_mut_ptr()) };
    if fd >= 0 {
        // SAFETY: `fd` was just returned to us by the kernel and is closed once.
        unsafe { libc::close(fd as libc::c_int) };
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::ENOSYS) => Err(PreflightError::NoIoUring),
        _ => Err(PreflightError::IoUringDenied(err.to_string())),
    }
}

/// The soft RLIMIT_MEMLOCK in bytes (`None` = unlimited).
pub fn memlock_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` into the live struct we pass.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut limit) };
    if rc != 0 || limit.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    Some(limit.rlim_cur)
}

/// Whether `limit` (bytes, `None` = unlimited) covers the shards.
pub fn check_memlock(
    limit: Option<u64>,
    shards: usize,
    per_shard: u64,
) -> Result<(), PreflightError> {
    let need = per_shard.saturating_mul(shards as u64);
    match limit {
        Some(limit) if limit < need => Err(PreflightError::MemlockTooLow {
            limit_kib: limit / 1024,
            shards,
            need_kib: need.div_ceil(1024),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_uring_works_on_this_machine() {
        check_io_uring().unwrap();
    }

    #[test]
    fn memlock_message_names_the_fix() {
        let err = check_memlock(Some(8 << 20), 4, 4 << 20).unwrap_err();
        assert_eq!(
            err.to_string(),
            "locked-memory limit is 8192 KiB but 4 shard(s) need 16384 KiB: raise it (ulimit -l 16384, or LimitMEMLOCK= in the systemd unit), or run fewer shards"
        );
        assert!(check_memlock(Some(8 << 20), 2, 4 << 20).is_ok());
        assert!(check_memlock(None, 1000, 4 << 20).is_ok());
    }
}
