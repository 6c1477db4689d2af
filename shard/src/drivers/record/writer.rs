//! A recording's file writes: a bounded queue of [`FileOp`]s between the
//! recorder and a writer task that carries them out with glommio's file
//! I/O (io_uring; directory creation and renames on glommio's blocking
//! thread), so no write ever blocks the shard.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::task::{Poll, Waker};

use bytes::Bytes;
use glommio::io::BufferedFile;

use super::error::RecordError;

/// One file operation of a recording, relative to its directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FileOp {
    /// Creates (or truncates) file `name` as the open file, closing the one
    /// before.
    Open(String),
    /// Appends to the open file.
    Append(Bytes),
    /// Closes the open file.
    Close,
    /// Writes file `name` whole, replacing an older one atomically (through
    /// `name.tmp` and a rename), so a reader never sees half of it.
    Replace {
        /// The file.
        name: String,
        /// All of it.
        bytes: Bytes,
    },
}

impl FileOp {
    /// The bytes it writes.
    fn len(&self) -> usize {
        match self {
            FileOp::Append(bytes) | FileOp::Replace { bytes, .. } => bytes.len(),
            FileOp::Open(_) | FileOp::Close => 0,
        }
    }
}

/// The operations waiting for the writer, bounded in bytes.
///
/// The recorder [`push`](Self::push)es and never waits: past the bound the
/// push fails, and the recording stops rather than hold the stream's media
/// without limit. The writer takes them with [`next`](Self::next) and
/// reports its first failure with [`fail`](Self::fail), which the recorder
/// sees at its next push or through [`failed`](Self::failed).
#[derive(Debug)]
pub(super) struct WriteQueue {
    inner: RefCell<Inner>,
}

#[derive(Debug)]
struct Inner {
    ops: VecDeque<FileOp>,
    bytes: usize,
    limit: usize,
    closed: bool,
    failure: Option<Rc<RecordError>>,
    writer: Option<Waker>,
    watcher: Option<Waker>,
}

impl WriteQueue {
    /// A queue holding at most `limit` bytes.
    pub(super) fn new(limit: usize) -> Rc<WriteQueue> {
        Rc::new(WriteQueue {
            inner: RefCell::new(Inner {
                ops: VecDeque::new(),
                bytes: 0,
                limit,
                closed: false,
                failure: None,
                writer: None,
                watcher: None,
            }),
        })
    }

    /// Queues `op`. Fails with the writer's failure, or when the queue
    /// would pass its bound (which also fails the queue).
    pub(super) fn push(&self, op: FileOp) -> Result<(), Rc<RecordError>> {
        let mut inner = self.inner.borrow_mut();
        if let Some(failure) = &inner.failure {
            return Err(Rc::clone(failure));
        }
        let queued = inner.bytes + op.len();
        if queued > inner.limit {
            let limit = inner.limit;
            drop(inner);
            let failure = Rc::new(RecordError::QueueFull { queued, limit });
            self.fail(Rc::clone(&failure));
            return Err(failure);
        }
        inner.bytes = queued;
        inner.ops.push_back(op);
        if let Some(waker) = inner.writer.take() {
            waker.wake();
        }
        Ok(())
    }

    /// No more operations: the writer stops once it has done those queued.
    pub(super) fn close(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.closed = true;
        if let Some(waker) = inner.writer.take() {
            waker.wake();
        }
    }

    /// Records the first failure; what is still queued is dropped.
    pub(super) fn fail(&self, failure: Rc<RecordError>) {
        let mut inner = self.inner.borrow_mut();
        inner.failure.get_or_insert(failure);
        inner.ops.clear();
        inner.bytes = 0;
        for waker in [inner.writer.take(), inner.watcher.take()]
            .into_iter()
            .flatten()
        {
            waker.wake();
        }
    }

    /// The failure, if the writes failed.
    pub(super) fn failure(&self) -> Option<Rc<RecordError>> {
        self.inner.borrow().failure.clone()
    }

    /// Waits until the writes fail.
    pub(super) async fn failed(&self) -> Rc<RecordError> {
        poll_fn(|cx| {
            let mut inner = self.inner.borrow_mut();
            match &inner.failure {
                Some(failure) => Poll::Ready(Rc::clone(failure)),
                None => {
                    inner.watcher = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// The next operation; `None` once the queue is closed and empty, or
    /// failed.
    async fn next(&self) -> Option<FileOp> {
        poll_fn(|cx| {
            let mut inner = self.inner.borrow_mut();
            if inner.failure.is_some() {
                return Poll::Ready(None);
            }
            match inner.ops.pop_front() {
                Some(op) => {
                    inner.bytes -= op.len();
                    Poll::Ready(Some(op))
                }
                None if inner.closed => Poll::Ready(None),
                None => {
                    inner.writer = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }
}

/// Creates `parent` and the directories above it, then a new directory
/// for one recording in it: `{name}`, or `{name}-2`, `{name}-3`... if
/// taken. Runs on glommio's blocking thread (`mkdir` has no io_uring
/// operation there). Returns the new directory's path.
pub(super) async fn create_recording_dir(
    parent: &Path,
    name: &str,
) -> Result<PathBuf, RecordError> {
    let (parent, name) = (parent.to_owned(), name.to_owned());
    glommio::executor()
        .spawn_blocking(move || {
            std::fs::create_dir_all(&parent).map_err(|source| RecordError::Io {
                op: "create directory",
                path: parent.clone(),
                source,
            })?;
            let mut last = None;
            for n in 1..=1000u32 {
                let dir = match n {
                    1 => parent.join(&name),
                    n => parent.join(format!("{name}-{n}")),
                };
                match std::fs::create_dir(&dir) {
                    Ok(()) => return Ok(dir),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        last = Some((dir, e))
                    }
                    Err(source) => {
                        return Err(RecordError::Io {
                            op: "create directory",
                            path: dir,
                            source,
                        });
                    }
                }
            }
            let (path, source) = last.expect("a thousand attempts");
            Err(RecordError::Io {
                op: "create directory",
                path,
                source,
            })
        })
        .await
}

/// Syncs directory `dir`'s entries to disk, on glommio's blocking thread.
async fn sync_dir(dir: &Path) -> Result<(), RecordError> {
    let dir = dir.to_owned();
    glommio::executor()
        .spawn_blocking(move || {
            std::fs::File::open(&dir)
                .and_then(|d| d.sync_all())
                .map_err(|source| RecordError::Io {
                    op: "sync directory",
                    path: dir,
                    source,
                })
        })
        .await
}

/// Carries out `queue`'s operations in `dir` until it closes or fails;
/// the first failure goes to the queue. Returns the bytes written.
pub(super) async fn run(dir: PathBuf, queue: Rc<WriteQueue>) -> u64 {
    let mut writer = Writer {
        dir,
        open: None,
        written: 0,
    };
    while let Some(op) = queue.next().await {
        if let Err(e) = writer.apply(op).await {
            queue.fail(Rc::new(e));
            break;
        }
    }
    if let Some((file, _, _)) = writer.open.take() {
        let _ = file.close().await;
    }
    writer.written
}

/// The writer's state: the open file, its path and its length.
struct Writer {
    dir: PathBuf,
    open: Option<(BufferedFile, PathBuf, u64)>,
    written: u64,
}

impl Writer {
    async fn apply(&mut self, op: FileOp) -> Result<(), RecordError> {
        match op {
            FileOp::Open(name) => {
                self.close().await?;
                let path = self.dir.join(name);
                let file = create(&path).await?;
                self.open = Some((file, path, 0));
            }
            FileOp::Append(bytes) => {
                let Some((file, path, len)) = &mut self.open else {
                    return Ok(());
                };
                write_all(file, path, *len, &bytes).await?;
                *len += bytes.len() as u64;
                self.count(bytes.len());
            }
            FileOp::Close => self.close().await?,
            FileOp::Replace { name, bytes } => {
                let path = self.dir.join(&name);
                let temporary = self.dir.join(format!("{name}.tmp"));
                let file = create(&temporary).await?;
                write_all(&file, &temporary, 0, &bytes).await?;
                // On disk before the rename: a crash never leaves an empty
                // playlist where a whole one was.
                finish(file, &temporary).await?;
                glommio::io::rename(&temporary, &path)
                    .await
                    .map_err(|e| RecordError::io("rename", &temporary, e))?;
                // The rename and the names of the segments it lists.
                sync_dir(&self.dir).await?;
                self.count(bytes.len());
            }
        }
        Ok(())
    }

    fn count(&mut self, bytes: usize) {
        self.written += bytes as u64;
        super::count(|c| super::bump(&c.bytes_written, bytes as u64));
    }

    async fn close(&mut self) -> Result<(), RecordError> {
        if let Some((file, path, _)) = self.open.take() {
            finish(file, &path).await?;
        }
        Ok(())
    }
}

/// Flushes `file`'s data to disk and closes it: a closed segment survives
/// a crash of the machine, not just of the process (its name is synced
/// with the next playlist, which lists it).
async fn finish(file: BufferedFile, path: &Path) -> Result<(), RecordError> {
    file.fdatasync()
        .await
        .map_err(|e| RecordError::io("fdatasync", path, e))?;
    file.close()
        .await
        .map_err(|e| RecordError::io("close", path, e))
}

async fn create(path: &Path) -> Result<BufferedFile, RecordError> {
    BufferedFile::create(path)
        .await
        .map_err(|e| RecordError::io("create", path, e))
}

/// Writes all of `bytes` at `at`; a write that takes nothing (a full disk
/// that reports no error) fails.
async fn write_all(
    file: &BufferedFile,
    path: &Path,
    at: u64,
    bytes: &[u8],
) -> Result<(), RecordError> {
    let mut done = 0;
    while done < bytes.len() {
        let n = file
            .write_at(bytes[done..].to_vec(), at + done as u64)
            .await
            .map_err(|e| RecordError::io("write", path, e))?;
        if n == 0 {
            return Err(RecordError::Io {
                op: "write",
                path: path.to_owned(),
                source: std::io::Error::from(std::io::ErrorKind::WriteZero),
            });
        }
        done += n;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_local<T>(future: impl std::future::Future<Output = T>) -> T {
        glommio::LocalExecutorBuilder::default()
            .io_memory(64 << 10)
            .make()
            .expect("a glommio executor")
            .run(future)
    }

    #[test]
    fn writes_files_and_replaces_atomically() {
        let base = std::env::temp_dir().join(format!("arcly-record-writer-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let (dir, again, written) = run_local(async {
            let dir = create_recording_dir(&base.join("live/cam"), "100")
                .await
                .unwrap();
            let again = create_recording_dir(&base.join("live/cam"), "100")
                .await
                .unwrap();
            let queue = WriteQueue::new(1 << 20);
            for op in [
                FileOp::Open("seg0.m4s".into()),
                FileOp::Append(Bytes::from_static(b"hello ")),
                FileOp::Append(Bytes::from_static(b"world")),
                FileOp::Close,
                FileOp::Replace {
                    name: "index.m3u8".into(),
                    bytes: Bytes::from_static(b"one"),
                },
                FileOp::Replace {
                    name: "index.m3u8".into(),
                    bytes: Bytes::from_static(b"two"),
                },
            ] {
                queue.push(op).unwrap();
            }
            queue.close();
            let written = run(dir.clone(), Rc::clone(&queue)).await;
            assert!(queue.failure().is_none());
            (dir, again, written)
        });
        assert_eq!(dir, base.join("live/cam/100"));
        assert_eq!(again, base.join("live/cam/100-2"));
        assert_eq!(written, 17);
        assert_eq!(std::fs::read(dir.join("seg0.m4s")).unwrap(), b"hello world");
        assert_eq!(std::fs::read(dir.join("index.m3u8")).unwrap(), b"two");
        assert!(!dir.join("index.m3u8.tmp").exists());
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn a_full_disk_fails_the_queue_with_the_os_error() {
        // /dev/full takes opens and refuses every write with ENOSPC.
        let failure = run_local(async {
            let queue = WriteQueue::new(1 << 20);
            queue.push(FileOp::Open("full".into())).unwrap();
            queue
                .push(FileOp::Append(Bytes::from_static(b"media")))
                .unwrap();
            run(PathBuf::from("/dev"), Rc::clone(&queue)).await;
            let failure = queue.failure().expect("the write failed");
            assert!(queue.push(FileOp::Close).is_err());
            failure.to_string()
        });
        assert!(
            failure.starts_with("cannot write /dev/full: No space left on device"),
            "{failure}"
        );
    }

    #[test]
    fn a_directory_under_a_file_cannot_be_created() {
        let file = std::env::temp_dir().join(format!("arcly-record-file-{}", std::process::id()));
        std::fs::write(&file, b"not a directory").unwrap();
        let failure = run_local(async {
            create_recording_dir(&file.join("live"), "1")
                .await
                .unwrap_err()
                .to_string()
        });
        std::fs::remove_file(&file).unwrap();
        assert!(failure.contains("Not a directory"), "{failure}");
        assert!(failure.starts_with("cannot create directory "), "{failure}");
    }

    #[test]
    fn a_queue_over_its_bound_fails() {
        let queue = WriteQueue::new(8);
        queue
            .push(FileOp::Append(Bytes::from_static(b"12345")))
            .unwrap();
        let failure = queue
            .push(FileOp::Append(Bytes::from_static(b"6789")))
            .unwrap_err();
        assert_eq!(
            failure.to_string(),
            "the disk is not keeping up: 9 bytes waiting to be written, limit 8"
        );
        assert!(queue.failure().is_some());
    }
}
