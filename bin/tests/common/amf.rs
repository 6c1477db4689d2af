//! AMF0 values, with an encoder and a bounded decoder written from the
//! AMF0 specification, not from the server's code.

/// An AMF0 value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Amf {
    Number(f64),
    Bool(bool),
    Str(String),
    Object(Vec<(String, Amf)>),
    Null,
    Undefined,
    EcmaArray(Vec<(String, Amf)>),
    StrictArray(Vec<Amf>),
    Date(f64),
}

impl Amf {
    pub(crate) fn str(s: &str) -> Amf {
        Amf::Str(s.to_owned())
    }

    pub(crate) fn object(pairs: &[(&str, Amf)]) -> Amf {
        Amf::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Amf> {
        match self {
            Amf::Object(p) | Amf::EcmaArray(p) => p.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Amf::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Amf::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        fn key(out: &mut Vec<u8>, k: &str) {
            out.extend_from_slice(&(k.len() as u16).to_be_bytes());
            out.extend_from_slice(k.as_bytes());
        }
        match self {
            Amf::Number(n) => {
                out.push(0);
                out.extend_from_slice(&n.to_be_bytes());
            }
            Amf::Bool(b) => out.extend_from_slice(&[1, *b as u8]),
            Amf::Str(s) if s.len() > 0xffff => {
                out.push(12);
                out.extend_from_slice(&(s.len() as u32).to_be_bytes());
                out.extend_from_slice(s.as_bytes());
            }
            Amf::Str(s) => {
                out.push(2);
                key(out, s);
            }
            Amf::Object(pairs) | Amf::EcmaArray(pairs) => {
                if let Amf::EcmaArray(_) = self {
                    out.push(8);
                    out.extend_from_slice(&(pairs.len() as u32).to_be_bytes());
                } else {
                    out.push(3);
                }
                for (k, v) in pairs {
                    key(out, k);
                    v.encode(out);
                }
                out.extend_from_slice(&[0, 0, 9]);
            }
            Amf::Null => out.push(5),
            Amf::Undefined => out.push(6),
            Amf::StrictArray(items) => {
                out.push(10);
                out.extend_from_slice(&(items.len() as u32).to_be_bytes());
                for v in items {
                    v.encode(out);
                }
            }
            Amf::Date(ms) => {
                out.push(11);
                out.extend_from_slice(&ms.to_be_bytes());
                out.extend_from_slice(&[0, 0]);
            }
        }
    }

    /// Decodes every value in `buf`.
    pub(crate) fn decode_all(mut buf: &[u8]) -> Result<Vec<Amf>, String> {
        let mut values = Vec::new();
        while !buf.is_empty() {
            values.push(Self::decode(&mut buf, 0)?);
        }
        Ok(values)
    }

    fn decode(buf: &mut &[u8], depth: usize) -> Result<Amf, String> {
        fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
            if buf.len() < n {
                return Err(format!("amf0: need {n} bytes, {} left", buf.len()));
            }
            let (head, rest) = buf.split_at(n);
            *buf = rest;
            Ok(head)
        }
        fn short_str(buf: &mut &[u8]) -> Result<String, String> {
            let len = u16::from_be_bytes(take(buf, 2)?.try_into().unwrap()) as usize;
            Ok(String::from_utf8_lossy(take(buf, len)?).into_owned())
        }
        fn pairs(buf: &mut &[u8], depth: usize) -> Result<Vec<(String, Amf)>, String> {
            let mut out = Vec::new();
            loop {
                let k = short_str(buf)?;
                if k.is_empty() && buf.first() == Some(&9) {
                    *buf = &buf[1..];
                    return Ok(out);
                }
                out.push((k, Amf::decode(buf, depth + 1)?));
            }
        }
        if depth > 32 {
            return Err("amf0: nested too deep".to_owned());
        }
        let marker = take(buf, 1)?[0];
        Ok(match marker {
            0 => Amf::Number(f64::from_be_bytes(take(buf, 8)?.try_into().unwrap())),
            1 => Amf::Bool(take(buf, 1)?[0] != 0),
            2 => Amf::Str(short_str(buf)?),
            3 => Amf::Object(pairs(buf, depth)?),
            5 => Amf::Null,
            6 => Amf::Undefined,
            8 => {
                take(buf, 4)?;
                Amf::EcmaArray(pairs(buf, depth)?)
            }
            10 => {
                let n = u32::from_be_bytes(take(buf, 4)?.try_into().unwrap());
                let mut items = Vec::new();
                for _ in 0..n {
                    items.push(Amf::decode(buf, depth + 1)?);
                }
                Amf::StrictArray(items)
            }
            11 => {
                let ms = f64::from_be_bytes(take(buf, 8)?.try_into().unwrap());
                take(buf, 2)?;
                Amf::Date(ms)
            }
            12 => {
                let len = u32::from_be_bytes(take(buf, 4)?.try_into().unwrap()) as usize;
                Amf::Str(String::from_utf8_lossy(take(buf, len)?).into_owned())
            }
            other => return Err(format!("amf0: unsupported marker {other}")),
        })
    }
}
