//! The framing of a segment: its header, a record's bytes and checksum, and
//! the scan that reads good records and stops at the first damaged one.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use uuid::Uuid;

use crate::{LogError, MAX_RECORD_LEN};

pub(crate) const MAGIC: &[u8; 8] = b"CADRLOG1";
pub(crate) const HEADER_LEN: u64 = 24;
/// High bit of a record's length: the record was rewritten by an erasure.
pub(crate) const REWRITTEN: u32 = 1 << 31;

pub(crate) fn header() -> [u8; HEADER_LEN as usize] {
    let mut h = [0u8; HEADER_LEN as usize];
    h[..8].copy_from_slice(MAGIC);
    h
}

/// The CRC-32 of a record's id and payload, as framed.
pub(crate) fn checksum(id: Uuid, payload: &[u8]) -> u32 {
    let mut crc = crc32fast::Hasher::new();
    crc.update(id.as_bytes());
    crc.update(payload);
    crc.finalize()
}

pub(crate) fn encode(buf: &mut Vec<u8>, id: Uuid, crc: u32, rewritten: bool, payload: &[u8]) {
    let flag = if rewritten { REWRITTEN } else { 0 };
    buf.extend_from_slice(&(payload.len() as u32 | flag).to_le_bytes());
    buf.extend_from_slice(&crc.to_le_bytes());
    buf.extend_from_slice(id.as_bytes());
    buf.extend_from_slice(payload);
}

pub(crate) struct Scan {
    pub(crate) len: u64,
    /// Offset of the first bad byte and what is wrong there.
    pub(crate) damage: Option<(u64, String)>,
}

/// One good record as framed in a segment.
pub(crate) struct Frame<'a> {
    pub(crate) id: Uuid,
    pub(crate) crc: u32,
    /// An erasure rewrote it.
    pub(crate) rewritten: bool,
    pub(crate) payload: &'a [u8],
}

impl Frame<'_> {
    /// Erased by an erasure: nothing left to read.
    pub(crate) fn erased(&self) -> bool {
        self.rewritten && self.payload.is_empty()
    }
}

/// Reads a segment, calling `f` for each good record, and stops at the
/// first damaged one.
pub(crate) fn scan_segment(path: &Path, mut f: impl FnMut(Frame<'_>)) -> Result<Scan, LogError> {
    let file = File::open(path).map_err(|e| LogError::io(path, e))?;
    let len = file.metadata().map_err(|e| LogError::io(path, e))?.len();
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut head = [0u8; HEADER_LEN as usize];
    if len < HEADER_LEN {
        return Ok(Scan {
            len,
            damage: Some((0, "segment header is incomplete".into())),
        });
    }
    r.read_exact(&mut head).map_err(|e| LogError::io(path, e))?;
    if &head[..8] != MAGIC {
        return Ok(Scan {
            len,
            damage: Some((0, "not a cadre log segment (bad magic)".into())),
        });
    }
    let mut offset = HEADER_LEN;
    let mut frame = [0u8; 24];
    let mut payload = Vec::new();
    while offset < len {
        if len - offset < 24 {
            return Ok(Scan {
                len,
                damage: Some((
                    offset,
                    format!("torn record header ({} of 24 bytes)", len - offset),
                )),
            });
        }
        r.read_exact(&mut frame)
            .map_err(|e| LogError::io(path, e))?;
        let raw = u32::from_le_bytes(frame[0..4].try_into().expect("4 bytes"));
        let rewritten = raw & REWRITTEN != 0;
        let n = (raw & !REWRITTEN) as usize;
        let crc = u32::from_le_bytes(frame[4..8].try_into().expect("4 bytes"));
        let id = Uuid::from_bytes(frame[8..24].try_into().expect("16 bytes"));
        if n > MAX_RECORD_LEN {
            return Ok(Scan {
                len,
                damage: Some((offset, format!("record length {n} exceeds the limit"))),
            });
        }
        if len - offset - 24 < n as u64 {
            return Ok(Scan {
                len,
                damage: Some((
                    offset,
                    format!("torn record ({} of {n} payload bytes)", len - offset - 24),
                )),
            });
        }
        payload.resize(n, 0);
        r.read_exact(&mut payload)
            .map_err(|e| LogError::io(path, e))?;
        if checksum(id, &payload) != crc {
            return Ok(Scan {
                len,
                damage: Some((offset, "checksum mismatch".into())),
            });
        }
        f(Frame {
            id,
            crc,
            rewritten,
            payload: &payload,
        });
        offset += 24 + n as u64;
    }
    Ok(Scan { len, damage: None })
}
