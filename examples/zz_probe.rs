use std::time::Instant;
use truecause::envelope;
use truecause::input::framing::LineReader;
use truecause::time::{Clock, Timestamp, Zone};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut clock = Clock::new(
        Zone::parse("UTC").unwrap(),
        Timestamp::from_parts(1795388400, 0),
    );
    clock.boot_time = Some(Timestamp::from_parts(1795388400, 0));
    for f in &args[1..] {
        for mode in 0..2 {
            let t0 = Instant::now();
            let file = std::fs::File::open(f).unwrap();
            let mut r = LineReader::new(file);
            let (mut n, mut acc) = (0u64, 0i64);
            while let Some(l) = r.next_line().unwrap() {
                n += 1;
                if mode == 1 {
                    let c = &l.raw[..l.raw.len() - 1];
                    let e = envelope::parse(c, &clock);
                    if let Some(t) = e.stamp.resolve(&mut clock) {
                        acc ^= t.0;
                    }
                }
            }
            eprintln!("{f} mode {mode}: {n} lines {:?} ({acc})", t0.elapsed());
        }
    }
}
