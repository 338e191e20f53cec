//! Property tests for the STOMP codec: every frame round-trips encode → decode, and any chunking
//! of a stream yields the same decoded items.

use bytes::BytesMut;
use duplex_core::stomp::{Command, Decoded, Decoder, Frame, Limits, Version};
use proptest::prelude::*;

fn version() -> impl Strategy<Value = Version> {
    prop::sample::select(Version::ALL.to_vec())
}

/// A frame encodable in `version`: header text avoids what cannot be written without escaping.
fn frame(version: Version) -> impl Strategy<Value = Frame> {
    prop::sample::select(Command::ALL.to_vec()).prop_flat_map(move |command| {
        let escape = command.escapes_headers(version);
        let (name_re, value_re) = if escape {
            ("[a-z:\\\\\r\n é-]{1,6}", "[a-z:\\\\\r\n é-]{0,8}")
        } else {
            ("[a-z\\\\ é-]{1,6}", "[a-z:\\\\ é-]{0,8}")
        };
        let headers = prop::collection::vec((name_re, value_re), 0..6).prop_map(|hs| {
            hs.into_iter()
                .filter(|(n, _)| n != "content-length")
                .collect::<Vec<_>>()
        });
        let body = if command.allows_body() {
            prop::collection::vec(any::<u8>(), 0..64).boxed()
        } else {
            Just(Vec::new()).boxed()
        };
        (headers, body).prop_map(move |(headers, body)| Frame {
            command,
            headers: headers.into_iter().collect(),
            body: body.into(),
        })
    })
}

fn decode_all(version: Version, chunks: &[&[u8]]) -> Vec<Decoded> {
    let mut d = Decoder::new(version, Limits::default());
    let mut items = Vec::new();
    for chunk in chunks {
        d.feed(chunk);
        while let Some(item) = d.decode().expect("valid stream") {
            items.push(item);
        }
    }
    assert_eq!(d.buffered(), 0);
    items
}

fn without_content_length(mut f: Frame) -> Frame {
    f.headers.remove("content-length");
    f
}

proptest! {
    #[test]
    fn stomp_every_frame_round_trips((version, frame) in version().prop_flat_map(|v| (Just(v), frame(v)))) {
        let mut wire = BytesMut::new();
        frame.encode(version, &mut wire).unwrap();
        let items = decode_all(version, &[&wire]);
        prop_assert_eq!(items.len(), 1);
        let Decoded::Frame(decoded) = items.into_iter().next().unwrap() else {
            panic!("expected a frame")
        };
        if !frame.body.is_empty() {
            let len = frame.body.len().to_string();
            prop_assert_eq!(decoded.get("content-length"), Some(len.as_str()));
        }
        prop_assert_eq!(without_content_length(decoded), frame);
    }

    #[test]
    fn stomp_any_chunking_gives_the_same_items(
        (version, frames) in version().prop_flat_map(|v| (Just(v), prop::collection::vec(frame(v), 1..5))),
        eols in prop::collection::vec(prop::sample::select(vec!["", "\n", "\r\n", "\n\n"]), 5),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let mut wire = BytesMut::new();
        for (i, f) in frames.iter().enumerate() {
            wire.extend_from_slice(eols[i].as_bytes());
            f.encode(version, &mut wire).unwrap();
        }
        let whole = decode_all(version, &[&wire]);
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        points.sort();
        let mut chunks = Vec::new();
        let mut last = 0;
        for p in points {
            chunks.push(&wire[last..p]);
            last = p;
        }
        chunks.push(&wire[last..]);
        prop_assert_eq!(&decode_all(version, &chunks), &whole);
        // Byte by byte too.
        let singles: Vec<&[u8]> = wire.chunks(1).collect();
        prop_assert_eq!(&decode_all(version, &singles), &whole);
        let frames_out = whole.iter().filter(|i| matches!(i, Decoded::Frame(_))).count();
        prop_assert_eq!(frames_out, frames.len());
    }
}
