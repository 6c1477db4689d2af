//! AMF0 decoding and its round trip.
//!
//! The input is a message body. Every value up to the first error is
//! decoded; those values must encode, and decode from their encoding to
//! the same values (numbers compared bit for bit, as NaN is not equal to
//! itself). The same holds for the input read as an RTMP command, and
//! `strip_set_data_frame` must take any body.
#![no_main]

use arcly_protocols::amf0::{Amf0Reader, Amf0Value, Command, encode_all, strip_set_data_frame};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

/// Equality with numbers and dates compared by their bits.
fn same(a: &Amf0Value, b: &Amf0Value) -> bool {
    use Amf0Value as V;
    let same_properties = |a: &[(String, V)], b: &[(String, V)]| {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
    };
    match (a, b) {
        (V::Number(a), V::Number(b)) => a.to_bits() == b.to_bits(),
        (
            V::Date {
                millis: a,
                timezone: ta,
            },
            V::Date {
                millis: b,
                timezone: tb,
            },
        ) => a.to_bits() == b.to_bits() && ta == tb,
        (V::Object(a), V::Object(b)) | (V::EcmaArray(a), V::EcmaArray(b)) => same_properties(a, b),
        (V::StrictArray(a), V::StrictArray(b)) => all_same(a, b),
        (
            V::TypedObject {
                class_name: ca,
                properties: pa,
            },
            V::TypedObject {
                class_name: cb,
                properties: pb,
            },
        ) => ca == cb && same_properties(pa, pb),
        (a, b) => a == b,
    }
}

fn all_same(a: &[Amf0Value], b: &[Amf0Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b))
}

/// Decodes values until the end of `body` or the first error.
fn decode_prefix(body: &[u8]) -> Vec<Amf0Value> {
    let mut reader = Amf0Reader::new(body);
    let mut values = Vec::new();
    while !reader.is_empty() {
        let Ok(value) = reader.read() else {
            break;
        };
        values.push(value);
    }
    values
}

fn values_round_trip(body: &[u8]) {
    let values = decode_prefix(body);
    let mut encoded = Vec::new();
    encode_all(&values, &mut encoded).expect("decoded values encode");
    let again = Amf0Reader::new(&encoded)
        .read_all()
        .expect("encoded values decode");
    assert!(
        all_same(&values, &again),
        "{values:?} came back as {again:?}"
    );
}

fn command_round_trip(body: &[u8]) {
    let Ok(command) = Command::decode(body) else {
        return;
    };
    let mut encoded = Vec::new();
    command
        .encode(&mut encoded)
        .expect("a decoded command encodes");
    let again = Command::decode(&encoded).expect("an encoded command decodes");
    assert_eq!(again.name, command.name);
    assert_eq!(
        again.transaction_id.to_bits(),
        command.transaction_id.to_bits()
    );
    assert!(same(&again.command_object, &command.command_object));
    assert!(all_same(&again.args, &command.args));
}

fuzz_target!(|data: &[u8]| {
    values_round_trip(data);
    command_round_trip(data);
    strip_set_data_frame(&Bytes::copy_from_slice(data));
});
