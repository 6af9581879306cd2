//! JSON lines for log pipelines (Vector, Fluent Bit, Loki,
//! Elasticsearch): one object per record, or with `--annotations-only`
//! one object per explanation. docs/output.md documents the schema; the
//! command-line tests parse it back.

use std::io::{self, Write};

use base64::Engine;
use serde_json::{Map, Value as Json, json};

use super::{Notice, OutLine, Sink};
use crate::correlate::Explanation;
use crate::event::Event;
use crate::record::Sources;

/// Writes JSON lines.
pub struct JsonSink<W> {
    out: W,
    sources: Sources,
    annotations_only: bool,
}

impl<W: Write> JsonSink<W> {
    pub fn new(out: W, sources: Sources, annotations_only: bool) -> Self {
        JsonSink {
            out,
            sources,
            annotations_only,
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
        let content = crate::record::Record {
            source: line.source,
            line: line.line,
            offset: 0,
            raw: line.raw,
        }
        .content();
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
