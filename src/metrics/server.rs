//! A small HTTP server for the metrics: `GET /metrics` (or `/`) returns
//! the Prometheus text, anything else a 404. One connection at a time,
//! with short timeouts, on a thread of its own: a scraper every few
//! seconds is all it is for.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::Metrics;

/// Longest request head read; the rest is ignored.
const MAX_REQUEST: usize = 8 * 1024;

/// How long a client may take to send its request or read the answer.
const TIMEOUT: Duration = Duration::from_secs(2);

/// Bind `addr` and serve `metrics` from a thread. Returns the address
/// bound (port 0 picks a free one).
pub fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)?;
    let bound = listener.local_addr()?;
    thread::Builder::new()
        .name("truecause-metrics".into())
        .stack_size(128 * 1024)
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Err(e) = answer(stream, &metrics) {
                    tracing::debug!("metrics: request failed: {e}");
                }
            }
        })?;
    Ok(bound)
}

fn answer(mut stream: TcpStream, metrics: &Metrics) -> io::Result<()> {
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while head.len() < MAX_REQUEST
        && !head.windows(4).any(|w| w == b"\r\n\r\n")
    {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let request = String::from_utf8_lossy(&head);
    let mut words = request.lines().next().unwrap_or("").split(' ');
    let method = words.next().unwrap_or("");
    let target = words.next().unwrap_or("");
    let path = target.split('?').next().unwrap_or("");

    let (status, body) = match (method, path) {
        ("GET" | "HEAD", "/metrics" | "/") => {
            ("200 OK", metrics.render(Instant::now()))
        }
        ("GET" | "HEAD", _) => ("404 Not Found", "not found\n".to_owned()),
        _ => ("405 Method Not Allowed", "GET only\n".to_owned()),
    };
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; \
         charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if method != "HEAD" {
        response.push_str(&body);
    }
    stream.write_all(response.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::SourceHealth;

    fn get(addr: SocketAddr, path: &str) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn serves_metrics_and_404s_the_rest() {
        let m = Arc::new(Metrics::new(vec![SourceHealth::new(
            "w.log".into(),
            "file",
        )]));
        let addr = serve("127.0.0.1:0".parse().unwrap(), m).unwrap();
        let ok = get(addr, "/metrics");
        assert!(ok.starts_with("HTTP/1.1 200 OK"), "{ok}");
        assert!(ok.contains("truecause_lines_total{source=\"w.log\""));
        assert!(get(addr, "/nope").starts_with("HTTP/1.1 404"));
    }
}
