//! The kernel log, read live from `/dev/kmsg`, record by record.
//!
//! Each `read(2)` of `/dev/kmsg` returns one record: a line
//! `prio,seq,usec,flags;message` and, for some records, dictionary lines
//! that begin with a space (` SUBSYSTEM=pci`). [`Kmsg`] hands out the
//! record's line and then its dictionary lines marked as continuations,
//! so they stay attached to their record (written out, not counted as
//! lines, not shown to the rules). The lines keep the kmsg envelope, so
//! the kernel rules apply unchanged.
//!
//! The kernel keeps records in a ring. A reader that falls behind finds
//! its next record overwritten: the read fails with `EPIPE` and the next
//! one goes on at the oldest record left. Sequence numbers are counted,
//! so every gap, whatever caused it, is known exactly:
//! [`Kmsg::take_lost`] says how many records were lost since it was last
//! asked, for the pipeline's warning.
//!
//! Reading starts at the end of the ring (what the kernel logs from now
//! on), or just after a sequence number from a checkpoint. The path can
//! also be a FIFO or a plain file holding records one per line (tests,
//! benchmarks, a saved `kmsg.txt`): a FIFO is read as it is written, a
//! plain file to its end.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use super::framing::{Line, LineReader, Lines};

/// The kernel log device.
pub const DEV_KMSG: &str = "/dev/kmsg";

/// The largest record `/dev/kmsg` returns (the kernel's
/// `CONSOLE_EXT_LOG_MAX`); a smaller read buffer fails with `EINVAL`.
pub const RECORD_MAX: usize = 8192;

/// Where to begin reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// After the last record logged so far (the device only; a FIFO or
    /// file is read from what it holds).
    End,
    /// At the oldest record still in the ring.
    Beginning,
    /// Just after this sequence number, counting records lost before
    /// the oldest one still in the ring.
    After(u64),
}

/// What the path is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `/dev/kmsg`: one record per read, `EPIPE` on overrun.
    Device,
    /// A named pipe of records, one per line.
    Fifo,
    /// A plain file of records, read to its end.
    File,
}

/// Reads whole records even when asked for less than a record: the
/// device refuses reads smaller than its record, so such a read goes
/// through a buffer of [`RECORD_MAX`] bytes.
struct RecordReader<R> {
    file: R,
    spill: Vec<u8>,
    spill_at: usize,
}

impl<R: Read> Read for RecordReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.spill_at < self.spill.len() {
            let n = buf.len().min(self.spill.len() - self.spill_at);
            buf[..n].copy_from_slice(
                &self.spill[self.spill_at..self.spill_at + n],
            );
            self.spill_at += n;
            return Ok(n);
        }
        if buf.len() >= RECORD_MAX {
            return self.file.read(buf);
        }
        self.spill.resize(RECORD_MAX, 0);
        let got = self.file.read(&mut self.spill)?;
        self.spill.truncate(got);
        self.spill_at = 0;
        let n = buf.len().min(got);
        buf[..n].copy_from_slice(&self.spill[..n]);
        self.spill_at = n;
        Ok(n)
    }
}

/// The kernel log as lines; see the module documentation. `R` is the
/// device (or FIFO, or file); tests give other readers.
pub struct Kmsg<R = File> {
    reader: LineReader<RecordReader<R>>,
    kind: Kind,
    /// Sequence number of the last record handed out (or of the
    /// checkpoint); records at or before it are skipped.
    last_seq: Option<u64>,
    /// Records handed out.
    number: u64,
    /// The current line is a dictionary line of a skipped record.
    skipping: bool,
    current: bool,
    lost: u64,
    unreported_lost: u64,
    /// Reads that failed with `EPIPE`.
    pub overruns: u64,
}

impl Kmsg<File> {
    /// Open `path` and position it per `start`. `lines` is how many
    /// records were handed out before (from a checkpoint), so line
    /// numbers go on.
    pub fn open(path: &Path, start: Start, lines: u64) -> io::Result<Kmsg> {
        let kind = {
            let ft = fs::metadata(path)?.file_type();
            if ft.is_char_device() {
                Kind::Device
            } else if ft.is_fifo() {
                Kind::Fifo
            } else {
                Kind::File
            }
        };
        let mut options = OpenOptions::new();
        options.read(true);
        if kind != Kind::File {
            options.custom_flags(libc::O_NONBLOCK);
        }
        if kind == Kind::Fifo {
            // Also open for writing, so the FIFO never reads as ended
            // while no writer has it open.
            options.write(true);
        }
        let file = options.open(path)?;
        let mut kmsg = Kmsg::with_reader(file, kind, start, lines);
        if kind == Kind::Device && start == Start::End {
            kmsg.skip_to_end()?;
        }
        Ok(kmsg)
    }

    /// Read-side of the path, to wait on with `poll(2)`.
    pub fn as_raw_fd(&self) -> RawFd {
        self.reader.get_ref().file.as_raw_fd()
    }
}

impl<R: Read> Kmsg<R> {
    /// Records from `file`, already positioned.
    fn with_reader(file: R, kind: Kind, start: Start, lines: u64) -> Self {
        let last_seq = match start {
            Start::After(seq) => Some(seq),
            _ => None,
        };
        let reader = RecordReader {
            file,
            spill: Vec::new(),
            spill_at: 0,
        };
        Kmsg {
            reader: LineReader::with_limits(
                reader,
                4 * RECORD_MAX,
                4 * RECORD_MAX,
            ),
            kind,
            last_seq,
            number: lines,
            skipping: false,
            current: false,
            lost: 0,
            unreported_lost: 0,
            overruns: 0,
        }
    }

    /// Read past every record already logged, remembering the last
    /// sequence number: a checkpoint taken before any new record comes
    /// then still says where to go on from (seeking to the end would not
    /// tell it).
    fn skip_to_end(&mut self) -> io::Result<()> {
        loop {
            match self.reader.fill_line() {
                Ok(true) => {
                    let line = self.reader.current().expect("filled");
                    if let Some(seq) = record_seq(line.raw) {
                        self.last_seq = Some(seq);
                    }
                    self.reader.consume();
                }
                Ok(false) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Sequence number of the last record handed out, for the
    /// checkpoint.
    pub fn last_seq(&self) -> Option<u64> {
        self.last_seq
    }

    /// Records handed out so far.
    pub fn lines(&self) -> u64 {
        self.number
    }

    /// All records lost so far.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Records lost since the last call: overwritten in the ring before
    /// they were read, or gone before the checkpoint's sequence number.
    pub fn take_lost(&mut self) -> u64 {
        std::mem::take(&mut self.unreported_lost)
    }

    fn lose(&mut self, n: u64) {
        self.lost += n;
        self.unreported_lost += n;
    }
}

impl<R: Read> Lines for Kmsg<R> {
    fn fill_line(&mut self) -> io::Result<bool> {
        loop {
            if self.current {
                return Ok(true);
            }
            match self.reader.fill_line() {
                Ok(true) => {}
                Ok(false) => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                    // Overwritten before read: the next read goes on at
                    // the oldest record, and the sequence gap counts.
                    self.overruns += 1;
                    continue;
                }
                Err(e) => return Err(e),
            }
            let line = self.reader.current().expect("filled");
            if line.raw.first() == Some(&b' ') {
                if self.skipping {
                    self.reader.consume();
                    continue;
                }
                self.current = true;
                return Ok(true);
            }
            self.skipping = false;
            if let Some(seq) = record_seq(line.raw) {
                match self.last_seq {
                    Some(last) if seq <= last => {
                        self.skipping = true;
                        self.reader.consume();
                        continue;
                    }
                    Some(last) if seq > last + 1 => self.lose(seq - last - 1),
                    _ => {}
                }
                self.last_seq = Some(seq);
            }
            self.current = true;
            return Ok(true);
        }
    }

    fn current(&self) -> Option<Line<'_>> {
        if !self.current {
            return None;
        }
        let line = self.reader.current()?;
        let dictionary = line.continuation || line.raw.first() == Some(&b' ');
        Some(Line {
            raw: line.raw,
            number: if dictionary {
                self.number
            } else {
                self.number + 1
            },
            offset: line.offset,
            continuation: dictionary,
        })
    }

    fn consume(&mut self) {
        if let Some(line) = self.current()
            && !line.continuation
        {
            self.number += 1;
        }
        self.reader.consume();
        self.current = false;
    }

    fn has_buffered_line(&self) -> bool {
        self.current || self.reader.has_buffered_line()
    }

    fn long_lines(&self) -> u64 {
        self.reader.long_lines
    }
}

/// The sequence number of a record line: its second comma-separated
/// field, before the `;`.
pub fn record_seq(line: &[u8]) -> Option<u64> {
    let head = &line[..memchr::memchr(b';', line)?];
    let mut fields = head.split(|&b| b == b',');
    fields.next()?;
    let seq = fields.next()?;
    if seq.is_empty() || seq.len() > 20 {
        return None;
    }
    std::str::from_utf8(seq).ok()?.parse().ok()
}

/// This boot's id (`/proc/sys/kernel/random/boot_id`): sequence numbers
/// of the kernel log start again at every boot.
pub fn boot_id() -> Option<String> {
    fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn lines(k: &mut Kmsg) -> Vec<(u64, bool, String)> {
        let mut out = Vec::new();
        while k.fill_line().unwrap() {
            let l = k.current().unwrap();
            out.push((
                l.number,
                l.continuation,
                String::from_utf8_lossy(l.raw).into_owned(),
            ));
            k.consume();
        }
        out
    }

    fn file_of(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kmsg.txt");
        fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn synthetic_dictionary_lines_stay_with_their_record() {
        let (_d, path) = file_of(
            "6,10,100,-;usb 1-1: new device\n SUBSYSTEM=usb\n DEVICE=c189:1\n\
             6,11,200,-;next\n",
        );
        let mut k = Kmsg::open(&path, Start::End, 0).unwrap();
        let got = lines(&mut k);
        let shape: Vec<(u64, bool)> =
            got.iter().map(|(n, c, _)| (*n, *c)).collect();
        assert_eq!(shape, [(1, false), (1, true), (1, true), (2, false)]);
        assert_eq!(k.last_seq(), Some(11));
        assert_eq!(k.take_lost(), 0);
    }

    #[test]
    fn synthetic_gaps_in_sequence_numbers_count_as_lost_records() {
        let (_d, path) = file_of(
            "6,10,100,-;a\n6,11,110,-;b\n6,15,150,-;c\n6,16,160,-;d\n",
        );
        let mut k = Kmsg::open(&path, Start::After(7), 0).unwrap();
        let got = lines(&mut k);
        assert_eq!(got.len(), 4);
        assert_eq!(k.take_lost(), 2 + 3, "8 and 9, then 12 to 14");
        assert_eq!(k.take_lost(), 0, "reported once");
    }

    #[test]
    fn synthetic_resume_skips_records_up_to_the_checkpoint() {
        let (_d, path) = file_of(
            "6,10,100,-;a\n SUBSYSTEM=x\n6,11,110,-;b\n SUBSYSTEM=y\n\
             6,12,120,-;c\n",
        );
        let mut k = Kmsg::open(&path, Start::After(11), 2).unwrap();
        let got = lines(&mut k);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, 3, "line numbers go on from the checkpoint");
        assert!(got[0].2.ends_with(";c\n"));
    }

    /// Reads like the device: one record per read, and `EPIPE` once
    /// where the ring overwrote records.
    struct Ring(Vec<io::Result<&'static [u8]>>);

    impl Read for Ring {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let rec = self.0.remove(0)?;
            buf[..rec.len()].copy_from_slice(rec);
            Ok(rec.len())
        }
    }

    #[test]
    fn synthetic_an_overrun_is_retried_and_its_lost_records_counted() {
        let ring = Ring(vec![
            Ok(b"6,10,100,-;before\n"),
            Err(io::Error::from_raw_os_error(libc::EPIPE)),
            Ok(b"6,15,150,-;after the overrun\n"),
        ]);
        let mut k = Kmsg::with_reader(ring, Kind::Device, Start::Beginning, 0);
        let mut got = Vec::new();
        loop {
            match k.fill_line() {
                Ok(true) => {
                    got.push(k.current().unwrap().raw.to_vec());
                    k.consume();
                }
                Ok(false) => break,
                Err(e) => {
                    assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
                    break;
                }
            }
        }
        assert_eq!(got.len(), 2);
        assert_eq!(k.overruns, 1);
        assert_eq!(k.take_lost(), 4, "records 11 to 14");
    }

    #[test]
    fn record_reader_serves_small_reads_from_whole_records() {
        let (_d, path) = file_of("6,1,1,-;0123456789\n");
        let file = File::open(&path).unwrap();
        let mut r = RecordReader {
            file,
            spill: Vec::new(),
            spill_at: 0,
        };
        let mut got = Vec::new();
        let mut buf = [0u8; 7];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"6,1,1,-;0123456789\n");
    }

    #[test]
    fn the_device_starts_at_its_end_knowing_the_last_sequence_number() {
        // Reading /dev/kmsg needs privileges; where it cannot be opened
        // there is nothing to check.
        let Ok(mut k) = Kmsg::open(Path::new(DEV_KMSG), Start::End, 0) else {
            return;
        };
        assert_eq!(k.kind(), Kind::Device);
        assert!(k.last_seq().is_some(), "the ring is never empty after boot");
        match k.fill_line() {
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::WouldBlock),
            Ok(_) => {
                // Something was logged between open and read; fine, but
                // it must be a record line.
                let l = k.current().unwrap();
                assert!(record_seq(l.raw).is_some());
            }
        }
        let _ = std::io::stderr().flush();
    }
}
