//! Malformed inputs: valid modules broken the ways files break (truncated,
//! bytes flipped or overwritten, sections shuffled, duplicated or dropped,
//! section sizes wrong), which the engine must reject with an error, or
//! accept, but never crash on or hang.

/// One section of a module: its id and its whole encoding (id, size,
/// contents).
fn sections(bytes: &[u8]) -> Option<Vec<(u8, std::ops::Range<usize>)>> {
    let mut out = Vec::new();
    let mut at = 8;
    while at < bytes.len() {
        let id = bytes[at];
        let (size, len) = read_leb(bytes.get(at + 1..)?)?;
        let end = at + 1 + len + usize::try_from(size).ok()?;
        if end > bytes.len() {
            return None;
        }
        out.push((id, at..end));
        at = end;
    }
    Some(out)
}

fn read_leb(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Applies one to three random mutations to `valid`.
pub fn mutate(valid: &[u8], rng: &mut fastrand::Rng) -> Vec<u8> {
    let mut bytes = valid.to_vec();
    for _ in 0..rng.usize(1..4) {
        bytes = mutate_once(bytes, rng);
    }
    bytes
}

fn mutate_once(mut bytes: Vec<u8>, rng: &mut fastrand::Rng) -> Vec<u8> {
    if bytes.is_empty() {
        return bytes;
    }
    match rng.u8(..8) {
        // Truncate.
        0 => {
            let at = rng.usize(..bytes.len());
            bytes.truncate(at);
        }
        // Flip bits in a few bytes.
        1 => {
            for _ in 0..rng.usize(1..4) {
                let at = rng.usize(..bytes.len());
                bytes[at] ^= 1 << rng.u8(..8);
            }
        }
        // Overwrite a byte with an edge value.
        2 => {
            let at = rng.usize(..bytes.len());
            bytes[at] = [0x00, 0x7f, 0x80, 0xff, 0x0b, 0x40][rng.usize(..6)];
        }
        // Insert or delete bytes.
        3 => {
            let at = rng.usize(..=bytes.len());
            if rng.bool() {
                let n = rng.usize(1..8);
                let junk: Vec<u8> = (0..n).map(|_| rng.u8(..)).collect();
                bytes.splice(at..at, junk);
            } else {
                let end = (at + rng.usize(1..8)).min(bytes.len());
                bytes.drain(at..end);
            }
        }
        // Section-level: shuffle, duplicate, drop, or lie about a size.
        _ => {
            let Some(sections) = sections(&bytes) else {
                return bytes;
            };
            if sections.is_empty() {
                return bytes;
            }
            let mut order: Vec<usize> = (0..sections.len()).collect();
            match rng.u8(..4) {
                0 => rng.shuffle(&mut order),
                1 => {
                    let i = rng.usize(..order.len());
                    order.insert(i, order[i]);
                }
                2 => {
                    order.remove(rng.usize(..order.len()));
                }
                _ => {
                    // The byte after a section id starts its size.
                    let (_, range) = &sections[rng.usize(..sections.len())];
                    let at = range.start + 1;
                    bytes[at] = bytes[at].wrapping_add([1, 255, 2, 0x40][rng.usize(..4)]);
                    return bytes;
                }
            }
            let mut out = bytes[..8].to_vec();
            for i in order {
                out.extend_from_slice(&bytes[sections[i].1.clone()]);
            }
            bytes = out;
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_of_a_module() {
        let bytes = wat::parse_str("(module (func (export \"f\")) (memory 1))").unwrap();
        let ids: Vec<u8> = sections(&bytes).unwrap().iter().map(|s| s.0).collect();
        assert_eq!(ids, [1, 3, 5, 7, 10]);
    }

    #[test]
    fn mutations_change_the_module() {
        let bytes =
            wat::parse_str("(module (func (export \"f\") (result i32) i32.const 7))").unwrap();
        let mut rng = fastrand::Rng::with_seed(1);
        let changed = (0..100)
            .filter(|_| mutate(&bytes, &mut rng) != bytes)
            .count();
        assert!(changed > 80, "{changed}");
    }
}
