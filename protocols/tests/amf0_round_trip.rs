//! Any AMF0 value survives encoding and decoding unchanged.

use arcly_protocols::amf0::{Amf0Reader, Amf0Value, encode_all};
use proptest::prelude::*;

fn key() -> impl Strategy<Value = String> + Clone {
    "[a-zA-Z0-9@._ é-]{0,12}"
}

fn value() -> impl Strategy<Value = Amf0Value> {
    let leaf = prop_oneof![
        // NaN is not equal to itself; every other double round-trips.
        any::<f64>()
            .prop_filter("not nan", |n| !n.is_nan())
            .prop_map(Amf0Value::Number),
        any::<bool>().prop_map(Amf0Value::Boolean),
        ".{0,20}".prop_map(Amf0Value::String),
        Just(Amf0Value::Null),
        Just(Amf0Value::Undefined),
        (any::<i64>(), any::<i16>()).prop_map(|(ms, timezone)| Amf0Value::Date {
            millis: ms as f64,
            timezone
        }),
        ".{0,20}".prop_map(Amf0Value::LongString),
        ".{0,20}".prop_map(Amf0Value::XmlDocument),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        let properties = proptest::collection::vec((key(), inner.clone()), 0..6);
        prop_oneof![
            properties.clone().prop_map(Amf0Value::Object),
            properties.clone().prop_map(Amf0Value::EcmaArray),
            proptest::collection::vec(inner, 0..6).prop_map(Amf0Value::StrictArray),
            (key(), properties).prop_map(|(class_name, properties)| Amf0Value::TypedObject {
                class_name,
                properties
            }),
        ]
    })
}

proptest! {
    #[test]
    fn values_round_trip(values in proptest::collection::vec(value(), 0..4)) {
        let mut buf = bytes::BytesMut::new();
        encode_all(&values, &mut buf).unwrap();
        let back = Amf0Reader::new(&buf).read_all().unwrap();
        prop_assert_eq!(back, values);
    }
}
