//! Arbitrary bytes, cut at fuzzer-chosen points, into the STOMP `Decoder`.
//!
//! Nothing may panic. Properties:
//! - chunking does not matter: feeding the pieces one by one (decoding after each) gives the same
//!   items and the same final error as feeding the whole stream at once;
//! - errors are sticky: once `decode` fails it fails the same way forever;
//! - round trip: a decoded frame that `Frame::encode` accepts decodes back to the same command,
//!   body and headers (`content-length` aside, which encode rewrites).
//!
//! Flag bits: 0–1 version (1.0, 1.1, 1.2, 1.2), 2 small limits.
#![no_main]

use bytes::BytesMut;
use duplex_core::stomp::{DecodeError, Decoded, Decoder, Frame, Limits, Version};
use duplex_fuzz::Script;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let script = Script::parse(data);
    let version = match script.flags & 3 {
        0 => Version::V1_0,
        1 => Version::V1_1,
        _ => Version::V1_2,
    };
    let limits = if script.flag(2) {
        Limits {
            max_headers: 4,
            max_header_line: 32,
            max_body: 64,
            max_frame: 128,
        }
    } else {
        Limits::default()
    };

    let mut whole = Decoder::new(version, limits);
    whole.feed(script.stream);
    let (whole_items, whole_err) = drain(&mut whole);

    let mut chunked = Decoder::new(version, limits);
    let mut items = Vec::new();
    let mut err = None;
    for piece in script.pieces() {
        chunked.feed(piece);
        let (mut more, e) = drain(&mut chunked);
        items.append(&mut more);
        if e.is_some() {
            err = e;
            break;
        }
    }
    assert_eq!(items, whole_items, "chunking changed the items");
    assert_eq!(err, whole_err, "chunking changed the error");

    if let Some(e) = whole_err {
        whole.feed(b"SEND\n\n\0");
        assert_eq!(whole.decode(), Err(e), "errors are sticky");
    }

    for item in &whole_items {
        if let Decoded::Frame(frame) = item {
            round_trip(frame, version);
        }
    }
});

/// Decode until more input is needed or an error.
fn drain(decoder: &mut Decoder) -> (Vec<Decoded>, Option<DecodeError>) {
    let mut items = Vec::new();
    loop {
        match decoder.decode() {
            Ok(Some(item)) => items.push(item),
            Ok(None) => return (items, None),
            Err(e) => return (items, Some(e)),
        }
    }
}

fn round_trip(frame: &Frame, version: Version) {
    let mut wire = BytesMut::new();
    if frame.encode(version, &mut wire).is_err() {
        assert!(wire.is_empty(), "encode wrote something and failed");
        return;
    }
    // Not usize::MAX: `Decoder` computes `max_headers + 1`, which overflows (reported).
    let roomy = Limits {
        max_headers: 1 << 30,
        max_header_line: 1 << 30,
        max_body: 1 << 30,
        max_frame: 1 << 30,
    };
    let mut decoder = Decoder::new(version, roomy);
    decoder.feed(&wire);
    let again = match decoder.decode() {
        Ok(Some(Decoded::Frame(f))) => f,
        other => panic!(
            "re-decoding {:?} gave {other:?}",
            String::from_utf8_lossy(&wire)
        ),
    };
    assert_eq!(decoder.decode(), Ok(None), "one frame in, one frame out");
    assert_eq!(again.command, frame.command);
    assert_eq!(again.body, frame.body);
    let headers = |f: &Frame| -> Vec<(String, String)> {
        f.headers
            .iter()
            .filter(|(n, _)| *n != "content-length")
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    };
    assert_eq!(
        headers(&again),
        headers(frame),
        "headers changed in a round trip"
    );
}
