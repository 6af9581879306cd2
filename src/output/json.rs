//! JSON lines for log pipelines (Vector, Fluent Bit, Loki,
//! Elasticsearch): one object per record, or with `--annotations-only`
//! one object per explanation. docs/output.md documents the schema; the
//! command-line tests parse it back.

use std::borrow::Cow;
use std::io::{self, Write};

use base64::Engine;
use serde_json::{Map, Value as Json, json};

use super::{Notice, OutLine, Sink};
use crate::correlate::Explanation;
use crate::event::Event;
use crate::record::Sources;
use crate::time::Rfc3339Writer;

/// Writes JSON lines.
pub struct JsonSink<W> {
    out: W,
    sources: Sources,
    annotations_only: bool,
    times: Rfc3339Writer,
}

impl<W: Write> JsonSink<W> {
    pub fn new(out: W, sources: Sources, annotations_only: bool) -> Self {
        JsonSink {
            out,
            sources,
            annotations_only,
            times: Rfc3339Writer::default(),
        }
    }

    fn write(&mut self, value: &Json) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")
    }

    /// The explanation object of the output contract.
    pub fn explanation(&self, e: &Explanation) -> Json {
        let mut cause = self.event_object(&e.cause.event);
        cause.insert("kind".into(), json!(&*e.cause.kind));
        let mut obj = json!({
            "type": "explanation",
            "rule": &*e.rule,
            "confidence": e.confidence.as_str(),
            "joined_on": e.joined_on,
            "message": e.message,
            "symptom": {
                "source": self.sources.name(e.symptom.origin.source),
                "line": e.symptom.origin.line,
                "time": e.symptom.origin.time.map(|t| t.to_rfc3339()),
                "text": e.symptom.text,
            },
            "cause": cause,
            "evidence": e.evidence.iter()
                .map(|ev| Json::Object(self.event_object(ev)))
                .collect::<Vec<_>>(),
            "candidates": e.candidates,
        });
        if let Some(alt) = &e.alternative {
            let mut a = self.event_object(&alt.event);
            a.insert("kind".into(), json!(&*alt.kind));
            a.insert("rule".into(), json!(&*alt.rule));
            a.insert("confidence".into(), json!(alt.confidence.as_str()));
            a.insert("joined_on".into(), json!(alt.joined_on));
            a.insert("message".into(), json!(alt.message));
            a.insert("reason".into(), json!(alt.reason));
            obj["alternative"] = Json::Object(a);
        }
        obj
    }

    /// An event as `{kind, rule, <fields>, source, line, time}`.
    fn event_object(&self, e: &Event) -> Map<String, Json> {
        let mut m = Map::new();
        m.insert("kind".into(), json!(&*e.kind));
        m.insert("rule".into(), json!(&*e.rule));
        for (k, v) in &e.fields {
            m.insert(k.to_string(), v.to_json());
        }
        m.insert("source".into(), json!(self.sources.name(e.origin.source)));
        m.insert("line".into(), json!(e.origin.line));
        m.insert("time".into(), json!(e.origin.time.map(|t| t.to_rfc3339())));
        m
    }

    fn record(
        &self,
        line: &OutLine<'_>,
        events: &[Event],
        explanations: &[Explanation],
    ) -> Json {
        let content = content(line);
        let mut obj = json!({
            "type": "record",
            "source": self.sources.name(line.source),
            "line": line.line,
            "time": line.time.map(|t| t.to_rfc3339()),
            "text": String::from_utf8_lossy(content),
        });
        if std::str::from_utf8(content).is_err() {
            obj["bytes"] = json!(
                base64::engine::general_purpose::STANDARD.encode(content)
            );
        }
        if line.continuation {
            obj["continuation"] = json!(true);
        }
        obj["events"] = Json::Array(
            events
                .iter()
                .map(|e| {
                    let mut m = Map::new();
                    m.insert("kind".into(), json!(&*e.kind));
                    m.insert("rule".into(), json!(&*e.rule));
                    for (k, v) in &e.fields {
                        m.insert(k.to_string(), v.to_json());
                    }
                    Json::Object(m)
                })
                .collect(),
        );
        if let Some(first) = explanations.first() {
            obj["explanation"] = self.explanation(first);
            if explanations.len() > 1 {
                obj["more_explanations"] = Json::Array(
                    explanations[1..]
                        .iter()
                        .map(|e| self.explanation(e))
                        .collect(),
                );
            }
        }
        obj
    }
}

impl<W: Write> JsonSink<W> {
    /// Write a record with no events and no explanation, which nearly
    /// every line of a replay is, straight into bytes: the same bytes as
    /// [`JsonSink::record`] serialized (keys in the sorted order of
    /// serde_json's map, strings escaped by serde_json itself), without
    /// building a map of values and a string for its time per line,
    /// which took most of a replay's time in this format.
    fn plain_record(&mut self, line: &OutLine<'_>) -> io::Result<()> {
        let content = content(line);
        // Valid UTF-8 is checked first: it is the usual case, and the
        // check is quicker than the lossy conversion's.
        let text = match std::str::from_utf8(content) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => {
                Cow::Owned(String::from_utf8_lossy(content).into_owned())
            }
        };
        let out = &mut self.out;
        out.write_all(b"{")?;
        if let Cow::Owned(_) = text {
            let bytes =
                base64::engine::general_purpose::STANDARD.encode(content);
            out.write_all(b"\"bytes\":")?;
            serde_json::to_writer(&mut *out, &bytes)?;
            out.write_all(b",")?;
        }
        if line.continuation {
            out.write_all(b"\"continuation\":true,")?;
        }
        out.write_all(b"\"events\":[],\"line\":")?;
        out.write_all(decimal(line.line, &mut [0; 20]))?;
        out.write_all(b",\"source\":")?;
        serde_json::to_writer(&mut *out, self.sources.name(line.source))?;
        out.write_all(b",\"text\":")?;
        json_string(out, &text)?;
        out.write_all(b",\"time\":")?;
        match line.time {
            Some(t) => {
                out.write_all(b"\"")?;
                self.times.write(t, out)?;
                out.write_all(b"\"")?;
            }
            None => out.write_all(b"null")?,
        }
        out.write_all(b",\"type\":\"record\"}\n")
    }
}

/// `n` in decimal, as serde_json writes a number, in `room`: without
/// the formatting machinery of `write!`, which cost as much as the rest
/// of a record's fixed text.
fn decimal(mut n: u64, room: &mut [u8; 20]) -> &[u8] {
    let mut at = room.len();
    loop {
        at -= 1;
        room[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &room[at..];
        }
    }
}

/// The line without its terminator.
fn content<'a>(line: &OutLine<'a>) -> &'a [u8] {
    crate::record::Record {
        source: line.source,
        line: line.line,
        offset: 0,
        raw: line.raw,
    }
    .content()
}

/// Append `text` as a JSON string, as serde_json writes it: most log
/// lines hold nothing to escape, which one pass over their bytes (that
/// the compiler turns into vector compares) tells, and they are copied
/// between quotes; any other goes through serde_json's own escaping.
fn json_string(out: &mut impl Write, text: &str) -> io::Result<()> {
    let escapes = text.bytes().fold(false, |any, b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if escapes {
        serde_json::to_writer(out, text)?;
    } else {
        out.write_all(b"\"")?;
        out.write_all(text.as_bytes())?;
        out.write_all(b"\"")?;
    }
    Ok(())
}

impl<W: Write> Sink for JsonSink<W> {
    fn line(
        &mut self,
        line: &OutLine<'_>,
        events: &[Event],
        explanations: &[Explanation],
    ) -> io::Result<()> {
        if self.annotations_only {
            for e in explanations {
                let obj = self.explanation(e);
                self.write(&obj)?;
            }
            return Ok(());
        }
        if events.is_empty() && explanations.is_empty() {
            return self.plain_record(line);
        }
        let obj = self.record(line, events, explanations);
        self.write(&obj)
    }

    fn late(&mut self, explanation: &Explanation) -> io::Result<()> {
        let obj = self.explanation(explanation);
        self.write(&obj)
    }

    fn prints_lines(&self) -> bool {
        !self.annotations_only
    }

    fn notice(&mut self, notice: &Notice) -> io::Result<()> {
        let obj = json!({
            "type": "notice",
            "level": notice.level.as_str(),
            "source": self.sources.name(notice.source),
            "time": notice.time.map(|t| t.to_rfc3339()),
            "message": notice.message,
        });
        self.write(&obj)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;

    /// SYNTHETIC lines for every branch of a record written straight:
    /// bytes JSON must escape, invalid UTF-8, the terminators, a piece of
    /// an overlong line, no time, a time before 1970, a source name that
    /// needs escaping. Each must come out as the map of values did.
    #[test]
    fn a_plain_record_is_written_as_the_map_of_values_was() {
        let mut sources = Sources::default();
        sources.add("worker.log");
        sources.add("odd \"name\"\\\tü.log");
        let mut sink = JsonSink::new(Vec::new(), sources, false);
        let lines: [&[u8]; 10] = [
            b"[2026-12-03 12:42:33,454: INFO/MainProcess] ready\n",
            b"quotes \" and \\ backslashes\r\n",
            b"controls \x00\x01\x08\x0c\x1b\x1f\x7f and tab\t\n",
            b"unicode \xc3\xbc \xe2\x82\xac \xf0\x9f\x90\x8d",
            b"invalid \xff\xfe utf-8 \xc3\n",
            b"",
            b"\n",
            b"\r\n",
            b"</script> \\u0000 {}[]:,\n",
            b"a long line's later piece",
        ];
        let times = [
            Some(Timestamp(1_764_765_248_875_999_999)),
            None,
            Some(Timestamp(-1)),
            Some(Timestamp(0)),
        ];
        for (i, raw) in lines.iter().enumerate() {
            for (j, &time) in times.iter().enumerate() {
                let line = OutLine {
                    source: ((i + j) % 2) as _,
                    line: if j == 1 {
                        u64::MAX - i as u64
                    } else {
                        (i * 1_000_003 + j) as u64
                    },
                    time,
                    raw,
                    continuation: i == 9 || j == 3,
                };
                assert_written_alike(&mut sink, &line);
            }
        }
    }

    /// Every line of every capture in `fixtures/`, the real logs the
    /// records are made of, comes out as the map of values did.
    #[test]
    fn every_captured_line_is_written_as_the_map_of_values_was() {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut sources = Sources::default();
        sources.add("fixture");
        let mut sink = JsonSink::new(Vec::new(), sources, false);
        let mut written = 0;
        for dir in std::fs::read_dir(&root).expect("fixtures") {
            let dir = dir.expect("entry").path();
            for name in ["worker.log", "dmesg.txt", "kmsg.txt", "syslog.txt"] {
                let Ok(bytes) = std::fs::read(dir.join(name)) else {
                    continue;
                };
                for (n, raw) in
                    bytes.split_inclusive(|&b| b == b'\n').enumerate()
                {
                    let line = OutLine {
                        source: 0,
                        line: n as u64 + 1,
                        time: Some(Timestamp(1_764_768_723_418_000_000)),
                        raw,
                        continuation: false,
                    };
                    assert_written_alike(&mut sink, &line);
                    written += 1;
                }
            }
        }
        assert!(written > 1000, "{written} captured lines");
    }

    /// The record written straight is the map of values serialized.
    fn assert_written_alike(sink: &mut JsonSink<Vec<u8>>, line: &OutLine<'_>) {
        let mut want = serde_json::to_vec(&sink.record(line, &[], &[]))
            .expect("serializes");
        want.push(b'\n');
        sink.out.clear();
        sink.plain_record(line).expect("written");
        assert_eq!(
            String::from_utf8_lossy(&sink.out),
            String::from_utf8_lossy(&want)
        );
    }
}
