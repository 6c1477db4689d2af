//! A send to a shard whose queue is full is refused without blocking, and
//! the refused item comes back intact; everything accepted is delivered, in
//! order, once the receiver catches up.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arcly_shard::{MailboxConfig, Runtime, RuntimeConfig, ShardCtx};

type Log = Arc<Mutex<Vec<(usize, usize)>>>;

/// A job that records its number and the shard it ran on.
fn job(n: usize, log: Log) -> impl FnOnce(ShardCtx) + Send + 'static {
    move |ctx: ShardCtx| log.lock().unwrap().push((n, ctx.id()))
}

fn wait_for(what: &str, done: impl Fn() -> bool) {
    for _ in 0..5000 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn mailbox_hands_back_on_full() {
    let mut config = RuntimeConfig::local(2);
    config.mailbox = MailboxConfig {
        queue_batches: 2,
        max_batch: 4,
        inject_depth: 16,
    };
    let runtime = Runtime::start(config).unwrap();

    // Wedge shard 1: a task that blocks its thread until released.
    let blocked = Arc::new(AtomicBool::new(false));
    let release = Arc::new(AtomicBool::new(false));
    let (b, r) = (blocked.clone(), release.clone());
    let wedge = runtime.spawn_on(1, move |_ctx: ShardCtx| async move {
        b.store(true, Ordering::SeqCst);
        while !r.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    wait_for("shard 1 to block", || blocked.load(Ordering::SeqCst));

    // Shard 0 sends until refused: two full batches in the queue plus one
    // full outbox, then the next send is handed back.
    let log: Log = Arc::default();
    let l = log.clone();
    let (accepted, refused) = runtime
        .spawn_on(0, move |ctx: ShardCtx| async move {
            let mut accepted = 0;
            loop {
                match ctx.try_run_on(1, job(accepted, l.clone())) {
                    Ok(()) => accepted += 1,
                    Err(e) => {
                        assert!(e.is_full(), "{e}");
                        assert_eq!(e.to(), 1);
                        return (accepted, e.into_inner());
                    }
                }
            }
        })
        .join()
        .unwrap();
    assert_eq!(accepted, 2 * 4 + 4);
    assert!(log.lock().unwrap().is_empty(), "nothing ran while wedged");

    // The receiver catches up: every accepted job runs on shard 1, in order.
    release.store(true, Ordering::SeqCst);
    wedge.join().unwrap();
    wait_for("the accepted jobs", || {
        log.lock().unwrap().len() == accepted
    });

    // The handed-back job is the refused one, intact: send it again.
    runtime
        .spawn_on(0, move |ctx: ShardCtx| async move {
            assert!(ctx.try_run_on(1, refused).is_ok());
        })
        .join()
        .unwrap();
    wait_for("the resent job", || {
        log.lock().unwrap().len() == accepted + 1
    });
    let expected: Vec<(usize, usize)> = (0..=accepted).map(|n| (n, 1)).collect();
    assert_eq!(*log.lock().unwrap(), expected);

    let stats = runtime.stats().unwrap();
    assert_eq!(stats[0].handed_back, 1);
    runtime.shutdown();
    runtime.join().unwrap();
}
