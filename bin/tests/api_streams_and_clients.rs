//! The JSON API in a live run with an admin token: without the token
//! `/api/*` and `/metrics` answer 401 while `/healthz` and `/readyz` stay
//! open; `/api/v1/streams` describes an ffmpeg publish (H.264 320x240 at
//! 30 fps, AAC) with its RTMP and HTTP-FLV viewers; `/api/v1/clients`
//! lists every connection; `DELETE /api/v1/clients/{id}` closes one player
//! while the others keep playing; `DELETE /api/v1/streams/{app}/{stream}`
//! ends the stream, disconnecting its publisher and players.

mod api_client;
mod common;

use std::thread;
use std::time::{Duration, Instant};

use api_client::{call, get_json};
use common::{Arcly, Clip, Player, ffmpeg_publish};
use serde_json::Value;

const TOKEN: &str = "t0p-s3cret";

fn api(server: &Arcly, path: &str) -> Value {
    get_json(server.http, path, Some(TOKEN))
}

/// Polls `GET path` until `done` holds for its JSON, or fails after 15 s.
fn wait_json(server: &Arcly, path: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let doc = api(server, path);
        if done(&doc) {
            return doc;
        }
        if Instant::now() >= deadline {
            panic!(
                "GET {path} never showed {what}: {doc:#}\nserver log:\n{}",
                server.log_tail()
            );
        }
        thread::sleep(Duration::from_millis(100));
    }
}

fn clients(server: &Arcly) -> Vec<Value> {
    api(server, "/api/v1/clients")["clients"]
        .as_array()
        .cloned()
        .expect("a clients array")
}

fn is(client: &Value, protocol: &str, role: &str) -> bool {
    client["protocol"] == protocol && client["role"] == role
}

#[test]
fn streams_and_clients_are_listed_kicked_and_ended_behind_the_admin_token() {
    common::require_ffmpeg();
    let server = Arcly::start_with_config(&format!(
        "admin_token = \"{TOKEN}\"\n[streams]\nunpublish_grace_secs = 1\n"
    ));
    let http = server.http;

    // The token: required by the API and the metrics, not by the probes.
    for path in ["/api/v1/streams", "/api/v1/shards", "/metrics", "/api/v9/x"] {
        let bare = call(http, "GET", path, None);
        assert_eq!(
            bare.status, 401,
            "GET {path} without the token: {}",
            bare.body
        );
        assert!(
            bare.headers
                .get("www-authenticate")
                .is_some_and(|v| v.starts_with("Bearer")),
            "401 without a Bearer challenge: {:?}",
            bare.headers
        );
        let wrong = call(http, "GET", path, Some("t0p-s3creT"));
        assert_eq!(wrong.status, 401, "GET {path} with a wrong token");
    }
    assert_eq!(call(http, "GET", "/metrics", Some(TOKEN)).status, 200);
    let by_query = call(
        http,
        "GET",
        &format!("/api/v1/shards?admin_token={TOKEN}"),
        None,
    );
    assert_eq!(by_query.status, 200, "{}", by_query.body);
    let shards = by_query.json()["shards"].as_array().cloned().unwrap();
    assert_eq!(shards.len(), 2);
    assert!(
        shards.iter().all(|s| s["cpu"].is_u64()),
        "no placement: {shards:?}"
    );
    for path in ["/healthz", "/readyz"] {
        let open = call(http, "GET", path, None);
        assert_eq!(open.status, 200, "GET {path}: {}", open.body);
    }
    let post = call(http, "POST", "/api/v1/streams", Some(TOKEN));
    assert_eq!(post.status, 405, "{}", post.body);
    assert_eq!(call(http, "DELETE", "/healthz", None).status, 405);
    assert_eq!(call(http, "DELETE", "/live/x.flv", None).status, 405);

    // A publisher, two RTMP players and one HTTP-FLV player.
    let clip = Clip::SMALL.file();
    let url = server.url("live/api");
    let mut publisher = ffmpeg_publish(&clip, &url, true);
    wait_json(&server, "/api/v1/streams", "the stream live", |doc| {
        doc["streams"].as_array().is_some_and(|s| s.len() == 1)
    });
    let flv = format!("http://{http}/live/api.flv");
    let mut players = vec![Player::copy(&url), Player::copy(&url), Player::copy(&flv)];
    for player in &mut players {
        player.wait_video_frames(30, Duration::from_secs(20), &server);
    }

    let doc = wait_json(
        &server,
        "/api/v1/streams",
        "2 rtmp + 1 http-flv viewers",
        |doc| {
            let viewers = &doc["streams"][0]["viewers"];
            viewers["rtmp"] == 2 && viewers["http_flv"] == 1
        },
    );
    let stream = &doc["streams"][0];
    eprintln!("GET /api/v1/streams: {stream:#}");
    assert_eq!(stream["key"], "live/api", "{stream}");
    assert_eq!(stream["app"], "live");
    assert_eq!(stream["stream"], "api");
    assert_eq!(stream["state"], "live");
    assert!(
        stream["owner_shard"].as_u64().is_some_and(|s| s < 2),
        "{stream}"
    );
    assert!(
        stream["uptime_secs"].as_f64().is_some_and(|s| s > 0.0),
        "{stream}"
    );
    assert_eq!(stream["publisher"]["protocol"], "rtmp");
    let video = &stream["video"];
    assert_eq!(video["codec"], "h264", "{video}");
    assert!(
        video["codec_string"]
            .as_str()
            .is_some_and(|c| c.starts_with("avc1.")),
        "{video}"
    );
    assert_eq!(video["width"], 320, "{video}");
    assert_eq!(video["height"], 240, "{video}");
    // Measured over the last 5 s, while ffmpeg's `-re` start may still
    // burst; libx264 declares the rate in the SPS, exactly.
    assert!(
        video["fps"]
            .as_f64()
            .is_some_and(|f| (f - 30.0).abs() < 5.0),
        "not ~30 fps: {video}"
    );
    assert_eq!(video["declared_fps"], 30, "{video}");
    assert!(
        video["bitrate_bps"].as_u64().is_some_and(|b| b > 0),
        "{video}"
    );
    let audio = &stream["audio"];
    assert_eq!(audio["codec"], "aac", "{audio}");
    assert_eq!(audio["sample_rate"], 48000, "{audio}");
    assert!(stream["bitrate_bps"].as_u64().is_some_and(|b| b > 0));
    assert!(
        stream["viewers"]["subscriptions"]
            .as_u64()
            .is_some_and(|n| n >= 3)
    );

    let one = api(&server, "/api/v1/streams/live/api");
    assert_eq!(one["key"], "live/api", "{one}");
    let missing = call(http, "GET", "/api/v1/streams/live/nope", Some(TOKEN));
    assert_eq!(missing.status, 404, "{}", missing.body);

    // Clients: the publisher and the three players, with their bytes.
    let listed = clients(&server);
    eprintln!("GET /api/v1/clients: {listed:#?}");
    assert_eq!(listed.len(), 4, "{listed:#?}");
    let count =
        |protocol: &str, role: &str| listed.iter().filter(|c| is(c, protocol, role)).count();
    assert_eq!(count("rtmp", "publish"), 1, "{listed:#?}");
    assert_eq!(count("rtmp", "play"), 2, "{listed:#?}");
    assert_eq!(count("http-flv", "play"), 1, "{listed:#?}");
    for client in &listed {
        assert_eq!(client["stream"], "live/api", "{client}");
        assert!(client["shard"].as_u64().is_some_and(|s| s < 2), "{client}");
        assert!(
            client["peer"]
                .as_str()
                .is_some_and(|p| p.starts_with("127.0.0.1:"))
        );
        let moved = if client["role"] == "play" {
            &client["bytes_sent"]
        } else {
            &client["bytes_received"]
        };
        assert!(moved.as_u64().is_some_and(|b| b > 10_000), "{client}");
    }

    // Kick one RTMP player: it is disconnected, the others play on.
    let victim = listed.iter().find(|c| is(c, "rtmp", "play")).unwrap();
    let id = victim["id"].as_u64().unwrap();
    let kicked = call(
        http,
        "DELETE",
        &format!("/api/v1/clients/{id}"),
        Some(TOKEN),
    );
    assert_eq!(kicked.status, 200, "{}", kicked.body);
    assert_eq!(kicked.json()["kicked"]["id"], id);
    let deadline = Instant::now() + Duration::from_secs(10);
    let left = loop {
        if let Some(i) = players
            .iter_mut()
            .position(|p| p.process.try_status().is_some())
        {
            break i;
        }
        assert!(
            Instant::now() < deadline,
            "no player left 10 s after the kick\nserver log:\n{}",
            server.log_tail()
        );
        thread::sleep(Duration::from_millis(20));
    };
    assert!(
        left < 2,
        "the HTTP-FLV player left instead of the kicked RTMP one"
    );
    let mut kicked_player = players.remove(left);
    for player in &mut players {
        player.assert_flowing(30, "a player after another was kicked", &server);
    }
    assert!(
        kicked_player.process.try_status().is_some(),
        "{}",
        kicked_player.process.describe()
    );
    wait_json(
        &server,
        "/api/v1/clients",
        "the kicked player gone",
        |doc| {
            let clients = doc["clients"].as_array().unwrap();
            clients.len() == 3 && clients.iter().all(|c| c["id"] != id)
        },
    );
    let again = call(
        http,
        "DELETE",
        &format!("/api/v1/clients/{id}"),
        Some(TOKEN),
    );
    assert_eq!(again.status, 404, "{}", again.body);
    let metrics = call(http, "GET", "/metrics", Some(TOKEN)).body;
    assert!(
        metrics
            .lines()
            .any(|l| l.contains("reason=\"kicked\"") && l.ends_with(" 1")),
        "the kick is not counted:\n{metrics}"
    );

    // End the stream: players see its end, the publisher is let go.
    let ended = call(http, "DELETE", "/api/v1/streams/live/api", Some(TOKEN));
    assert_eq!(ended.status, 200, "{}", ended.body);
    assert_eq!(ended.json()["publishers_closed"], 1, "{}", ended.body);
    for player in &mut players {
        assert!(
            player.process.wait_exit(Duration::from_secs(10)).is_some(),
            "a player still runs 10 s after the stream was ended: {}\nserver log:\n{}",
            player.process.describe(),
            server.log_tail()
        );
    }
    assert!(
        publisher.wait_exit(Duration::from_secs(10)).is_some(),
        "the publisher still runs 10 s after its stream was ended: {}",
        publisher.describe()
    );
    let after = call(http, "GET", "/api/v1/streams/live/api", Some(TOKEN));
    assert_eq!(after.status, 404, "{}", after.body);
    let again = call(http, "DELETE", "/api/v1/streams/live/api", Some(TOKEN));
    assert_eq!(again.status, 404, "{}", again.body);
    wait_json(&server, "/api/v1/clients", "no clients left", |doc| {
        doc["clients"].as_array().is_some_and(Vec::is_empty)
    });
    server.stop();
}
