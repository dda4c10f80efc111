//! `[connections]` on a real `carol`: thousands of idle and half-sent connections (slowloris)
//! are closed after their timeouts while others are answered, a body that arrives too slowly is
//! answered 408 with nothing stored, and past `max_connections` a connection is answered 503
//! with `Retry-After`.

use crate::durability::{Carol, node_with, scratch};
use crate::harness::guest;
use carol_core::ids::BinaryId;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn address(node: &Carol) -> String {
    node.url.trim_start_matches("http://").to_owned()
}

/// Sends `request` on a new connection and reads the answer until the node closes it.
fn exchange(node: &Carol, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(address(node)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// `GET /` as JSON, on a new connection.
fn answers(node: &Carol) -> bool {
    exchange(
        node,
        b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: application/json\r\nconnection: close\r\n\r\n",
    )
    .starts_with("HTTP/1.1 200 ")
}

/// Reads one answer of known length from a keep-alive connection: its status line and body.
fn read_answer(stream: &mut TcpStream) -> (String, Vec<u8>) {
    let mut head = Vec::new();
    let mut byte = [0; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length: "))
        .expect("the answer says its length")
        .parse()
        .unwrap();
    let mut body = vec![0; length];
    stream.read_exact(&mut body).unwrap();
    (head.lines().next().unwrap().to_owned(), body)
}

/// Whether the node closes `stream` within `limit`: it reads end-of-file or a reset, having
/// been sent no answer.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut byte = [0; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => panic!("the node answered a connection that sent no whole request"),
        Err(e) => matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe),
    }
}

#[test]
fn thousands_of_idle_and_half_sent_connections_are_closed_while_others_are_answered() {
    let dir = scratch("connections-slowloris");
    let node = node_with(
        &dir,
        &[
            ("connections", "header_timeout_ms", "5000"),
            ("connections", "idle_timeout_ms", "5000"),
        ],
    );
    let opened = Instant::now();
    let mut held: Vec<TcpStream> = (0..2000)
        .map(|i| {
            let mut stream = TcpStream::connect(address(&node)).unwrap();
            if i % 2 == 1 {
                stream
                    .write_all(b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: ")
                    .unwrap();
            }
            stream
        })
        .collect();
    // A keep-alive connection that has had its answer and then says nothing.
    let mut kept = TcpStream::connect(address(&node)).unwrap();
    kept.write_all(b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: application/json\r\n\r\n")
        .unwrap();
    assert_eq!(read_answer(&mut kept).0, "HTTP/1.1 200 OK");
    // A client that sends a header byte at a time, never finishing: each byte does not buy it
    // more time, the headers' time runs from their first byte.
    let mut trickling = TcpStream::connect(address(&node)).unwrap();
    trickling.write_all(b"GET / HTTP/1.1\r\nx-slow: ").unwrap();
    let trickle = trickling.try_clone().unwrap();
    let trickler = std::thread::spawn(move || {
        let mut trickle = trickle;
        let mut sent = 0;
        while trickle.write_all(b"a").is_ok() && sent < 600 {
            sent += 1;
            std::thread::sleep(Duration::from_millis(50));
        }
        sent
    });

    assert!(
        opened.elapsed() < Duration::from_secs(4),
        "opening the connections took {:?}, past the timeouts this test relies on: the held \
         ones would be closed before it could ask for an answer beside them",
        opened.elapsed()
    );
    for _ in 0..3 {
        assert!(
            answers(&node),
            "the node answers beside 2,000 held connections"
        );
    }
    for (i, stream) in held.iter_mut().enumerate() {
        assert!(
            closed_within(stream, Duration::from_secs(20)),
            "held connection {i} was not closed"
        );
    }
    assert!(
        closed_within(&mut kept, Duration::from_secs(20)),
        "idle keep-alive"
    );
    assert!(
        closed_within(&mut trickling, Duration::from_secs(20)),
        "trickling headers"
    );
    let sent = trickler.join().unwrap();
    assert!(
        sent < 600,
        "the trickling client was cut off, after {sent} bytes"
    );
    assert!(answers(&node), "the node answers once they are gone");
    let log = node.log().join("\n");
    assert!(!log.contains("cannot accept"), "{log}");
}

#[test]
fn a_request_begun_on_an_idle_keep_alive_connection_has_the_header_time_not_the_idle_time() {
    let dir = scratch("connections-keep-alive-slowloris");
    // The idle time stays at its default of a minute.
    let node = node_with(&dir, &[("connections", "header_timeout_ms", "1000")]);
    let mut kept = TcpStream::connect(address(&node)).unwrap();
    kept.write_all(b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: application/json\r\n\r\n")
        .unwrap();
    assert_eq!(read_answer(&mut kept).0, "HTTP/1.1 200 OK");
    std::thread::sleep(Duration::from_millis(200));
    kept.write_all(b"GET / HTTP/1.1\r\nx-slow: ").unwrap();
    assert!(
        closed_within(&mut kept, Duration::from_secs(20)),
        "a second request's headers, never finished, are cut off after the header time"
    );
}

#[test]
fn a_body_that_arrives_too_slowly_is_answered_408_and_nothing_is_stored() {
    let dir = scratch("connections-slow-body");
    let node = node_with(&dir, &[("connections", "request_timeout_ms", "1000")]);
    let component = guest("counter");
    let binary = BinaryId::of(&component);
    let mut stream = TcpStream::connect(address(&node)).unwrap();
    let head = format!(
        "POST /binaries HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/octet-stream\r\n\
         content-length: {}\r\n\r\n",
        component.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&component[..component.len() / 2]).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut answer = vec![0; 4096];
    let read = stream.read(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(answer.contains("request_timeout_ms"), "{answer}");
    drop(stream);

    let (status, _) = node.get(&format!("/binaries/{binary}"));
    assert_eq!(status, 404, "nothing of the cut-off upload was stored");
    let (status, body) = node.post("/binaries", &component);
    assert_eq!(status, 201, "the same upload, sent whole: {body}");
}

#[test]
fn past_max_connections_a_connection_is_answered_503_with_retry_after() {
    let dir = scratch("connections-max");
    let node = node_with(&dir, &[("connections", "max_connections", "8")]);
    // Eight keep-alive connections, each answered once, so the node holds all eight.
    let held: Vec<TcpStream> = (0..8)
        .map(|_| {
            let mut stream = TcpStream::connect(address(&node)).unwrap();
            stream
                .write_all(b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: application/json\r\n\r\n")
                .unwrap();
            assert_eq!(read_answer(&mut stream).0, "HTTP/1.1 200 OK");
            stream
        })
        .collect();
    let refused = exchange(
        &node,
        b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: application/json\r\n\r\n",
    );
    assert!(refused.starts_with("HTTP/1.1 503 "), "{refused}");
    assert!(refused.contains("\r\nretry-after: 1\r\n"), "{refused}");
    let body: serde_json::Value =
        serde_json::from_str(refused.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["limit"], 8, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("8 connections open"),
        "{body}"
    );

    drop(held);
    // The node sees the eight close a moment after they do.
    let answered = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        answers(&node)
    });
    assert!(
        answered,
        "once the eight close, a connection is answered again"
    );
}
