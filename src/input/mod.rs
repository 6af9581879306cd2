//! Inputs: opening files (plain or gzip) and standard input, and
//! framing their bytes into lines; for follow mode, files followed by
//! name through rotation ([`follow`]), the kernel log ([`kmsg`]), a
//! memory cgroup's counters ([`cgroup`]), the file system notifications
//! that wake them ([`watch`]), and the checkpoint ([`state`]).
//!
//! Nothing here knows about envelopes or rules: a source is a byte
//! stream with a name, and [`framing::LineReader`] turns it into lines.
//! Replay (the time merge of several files) lives in the pipeline, which
//! owns the order of records.

pub mod cgroup;
pub mod follow;
pub mod framing;
pub mod kmsg;
pub mod newlines;
pub mod state;
pub mod stdin;
pub mod watch;

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

/// A boxed byte stream.
pub type ByteStream = Box<dyn Read + Send>;

/// Open a file for replay. A gzip file (recognized by its magic bytes,
/// not its name, so `worker.log.1` that is really gzip also works) is
/// decompressed, including files of several concatenated members as
/// logrotate's `delaycompress` and `cat a.gz b.gz` produce.
pub fn open_file(path: &Path) -> io::Result<ByteStream> {
    let mut file = File::open(path)?;
    let mut magic = [0u8; 2];
    let n = read_up_to(&mut file, &mut magic)?;
    let head = io::Cursor::new(magic[..n].to_vec());
    let stream = head.chain(file);
    if n == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(MultiGzDecoder::new(BufReader::with_capacity(
            framing::BLOCK,
            stream,
        ))))
    } else {
        Ok(Box::new(stream))
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The modification time of a file, for inferring syslog years.
pub fn modified(path: &Path) -> Option<crate::time::Timestamp> {
    let meta = std::fs::metadata(path).ok()?;
    let since = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(crate::time::Timestamp::from_parts(
        since.as_secs() as i64,
        i64::from(since.subsec_nanos()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_is_recognized_by_content_and_members_concatenate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("worker.log.1");
        let mut bytes = Vec::new();
        for part in [&b"one\n"[..], b"two\n"] {
            let mut enc = flate2::write::GzEncoder::new(
                Vec::new(),
                flate2::Compression::fast(),
            );
            enc.write_all(part).unwrap();
            bytes.extend(enc.finish().unwrap());
        }
        std::fs::write(&path, bytes).unwrap();
        let mut text = String::new();
        open_file(&path).unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(text, "one\ntwo\n");
    }

    #[test]
    fn short_plain_files_pass_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x");
        std::fs::write(&path, b"x").unwrap();
        let mut out = Vec::new();
        open_file(&path).unwrap().read_to_end(&mut out).unwrap();
        assert_eq!(out, b"x");
    }
}
