//! The text log line. It is tracing-subscriber's default line (`Full`), byte for byte, but the
//! lines a busy server writes most (an event with a message alone, no span, no colours: the
//! request log and the audit trail) are written without that formatter's per-character work:
//! its sanitizing writer handles each character of a message through a `Formatter`, which cost
//! more than a quarter of a token's own work outside signing (callgrind, docs/benchmarks.md).
//! Here the message is copied in runs, and only the characters tracing escapes are escaped, the
//! same way. Every other event goes to tracing-subscriber's formatter.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{Format, Full, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The text log format of the reference server.
#[derive(Debug, Default)]
pub(crate) struct TextLine {
    full: Format<Full>,
}

impl<S, N> FormatEvent<S, N> for TextLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let fields = meta.fields();
        let message_alone = fields.len() == 1 && fields.field("message").is_some();
        if !message_alone
            || writer.has_ansi_escapes()
            || !writer.sanitizes_ansi_escapes()
            || ctx.event_scope().is_some()
        {
            return self.full.format_event(ctx, writer, event);
        }
        head(&mut writer, *meta.level(), meta.target())?;
        let mut message = Message {
            out: Escaping(&mut writer),
            result: Ok(()),
        };
        event.record(&mut message);
        message.result?;
        writer.write_char('\n')
    }
}

/// Writes the line [`TextLine`] writes, without colours, for an event of `level` and `target`
/// whose message alone is `before`, `text` and `after` one after the other, logged now: what a
/// busy line can write straight into the log's buffer, without making an event of it. Only
/// `text` is escaped: `before` and `after` must be text tracing-subscriber does not escape (no
/// control characters), such as the fixed words of a line and values checked as they were made.
pub(crate) fn write_line(
    out: &mut impl fmt::Write,
    level: Level,
    target: &str,
    before: &[&str],
    text: &str,
    after: &[&str],
) -> fmt::Result {
    debug_assert!(
        before.iter().chain(after).all(|part| !escaped(part)),
        "{before:?} {after:?}"
    );
    head(out, level, target)?;
    for part in before {
        out.write_str(part)?;
    }
    Escaping(&mut *out).write_str(text)?;
    for part in after {
        out.write_str(part)?;
    }
    out.write_char('\n')
}

/// Whether tracing-subscriber would escape a character of `text`.
fn escaped(text: &str) -> bool {
    let mut written = String::new();
    let _ = Escaping(&mut written).write_str(text);
    written != text
}

/// A line's start: the timestamp, the level and the target, and the `: ` before the message.
fn head(out: &mut impl fmt::Write, level: Level, target: &str) -> fmt::Result {
    timestamp(out, SystemTime::now())?;
    out.write_str(self::level(level))?;
    out.write_str(target)?;
    out.write_str(": ")
}

/// The level as tracing-subscriber writes it, with the spaces around it.
fn level(level: Level) -> &'static str {
    match level {
        Level::TRACE => "TRACE ",
        Level::DEBUG => "DEBUG ",
        Level::INFO => " INFO ",
        Level::WARN => " WARN ",
        Level::ERROR => "ERROR ",
    }
}

thread_local! {
    /// The second this thread's last timestamp fell in, and its text up to the fraction: the
    /// date and time are formatted once a second, not on every line.
    static LAST_SECOND: RefCell<(Option<u64>, String)> = const { RefCell::new((None, String::new())) };
}

/// Writes `at` as tracing-subscriber's `SystemTime` timer does (RFC 3339 in UTC with
/// microseconds), and the space after it.
fn timestamp(out: &mut impl fmt::Write, at: SystemTime) -> fmt::Result {
    let Ok(since) = at.duration_since(UNIX_EPOCH) else {
        return out.write_str("<unknown time> ");
    };
    let seconds = since.as_secs();
    LAST_SECOND.with_borrow_mut(|(second, text)| {
        if *second != Some(seconds) {
            text.clear();
            date_time(text, seconds)?;
            *second = Some(seconds);
        }
        let to_the_second = text.len();
        text.push('.');
        let micros = since.subsec_micros();
        for place in [100_000, 10_000, 1_000, 100, 10, 1] {
            text.push(char::from(b'0' + (micros / place % 10) as u8));
        }
        text.push_str("Z ");
        let written = out.write_str(text);
        text.truncate(to_the_second);
        written
    })
}

/// Writes the date and time of `seconds` after the epoch, to the second.
fn date_time(out: &mut impl fmt::Write, seconds: u64) -> fmt::Result {
    let (year, month, day) = civil_date(seconds / 86_400);
    let of_day = seconds % 86_400;
    let mut text = *b"0000-00-00T00:00:00";
    put_digits(&mut text[0..4], year);
    put_digits(&mut text[5..7], month);
    put_digits(&mut text[8..10], day);
    put_digits(&mut text[11..13], of_day / 3_600);
    put_digits(&mut text[14..16], of_day % 3_600 / 60);
    put_digits(&mut text[17..19], of_day % 60);
    if year > 9_999 {
        // Past the four digits RFC 3339 has; tracing-subscriber writes the year with a sign.
        write!(out, "+{year}")?;
        out.write_str(std::str::from_utf8(&text[4..]).map_err(|_| fmt::Error)?)
    } else {
        out.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

/// Fills `field` with the last digits of `value`, zero-padded.
fn put_digits(field: &mut [u8], mut value: u64) {
    for digit in field.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_date(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Visits the event's one field, its message.
struct Message<'a, 'w> {
    out: Escaping<'a, Writer<'w>>,
    result: fmt::Result,
}

impl Visit for Message<'_, '_> {
    fn record_str(&mut self, _: &Field, value: &str) {
        self.result = self.out.write_str(value);
    }

    fn record_debug(&mut self, _: &Field, value: &dyn fmt::Debug) {
        self.result = write!(self.out, "{value:?}");
    }
}

/// Writes text with the characters tracing-subscriber escapes in a message (ESC, BEL, BS, FF,
/// DEL and the C1 controls, which terminals can take as commands) escaped as it does, and
/// everything else copied in runs.
struct Escaping<'a, W>(&'a mut W);

impl<W: fmt::Write> fmt::Write for Escaping<'_, W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let bytes = text.as_bytes();
        if !may_escape(bytes) {
            return self.0.write_str(text);
        }
        let mut copied = 0;
        let mut at = 0;
        while at < bytes.len() {
            let width = match bytes[at] {
                0x1b | 0x07 | 0x08 | 0x0c | 0x7f => 1,
                // U+0080 to U+009F, whose UTF-8 is 0xC2 then 0x80 to 0x9F.
                0xc2 if matches!(bytes.get(at + 1), Some(0x80..=0x9f)) => 2,
                _ => {
                    at += 1;
                    continue;
                }
            };
            self.0.write_str(&text[copied..at])?;
            if width == 1 {
                write!(self.0, "\\x{:02x}", bytes[at])?;
            } else {
                write!(self.0, "\\u{{{:x}}}", bytes[at + 1])?;
            }
            at += width;
            copied = at;
        }
        self.0.write_str(&text[copied..])
    }
}

/// Whether `bytes` may hold a character tracing-subscriber escapes: anything but printable
/// ASCII, which the precise path then sorts out (`µ`, `é` and the like pass it unescaped). The
/// one test most text needs, folded without a branch per byte so that the compiler tests many
/// bytes at once.
fn may_escape(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .fold(false, |seen, &b| seen | (b.wrapping_sub(0x20) >= 0x5f))
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use tracing_subscriber::fmt::MakeWriter;
    use tracing_subscriber::fmt::time::FormatTime as _;

    use super::*;

    /// Output kept in memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl MakeWriter<'_> for Captured {
        type Writer = Self;

        fn make_writer(&self) -> Self {
            self.clone()
        }
    }

    impl Captured {
        /// The lines written, each without its timestamp (the first word).
        fn lines(&self) -> Vec<String> {
            String::from_utf8(self.0.lock().unwrap().clone())
                .unwrap()
                .lines()
                .map(|line| line.split_once(' ').unwrap().1.to_owned())
                .collect()
        }
    }

    /// Logs the same events as `log` does through tracing-subscriber's default text format and
    /// through this one: the lines must be the same.
    fn same_lines(log: impl Fn()) {
        let ours = Captured::default();
        let theirs = Captured::default();
        tracing::subscriber::with_default(
            tracing_subscriber::fmt()
                .with_writer(ours.clone())
                .with_ansi(false)
                .event_format(TextLine::default())
                .finish(),
            &log,
        );
        tracing::subscriber::with_default(
            tracing_subscriber::fmt()
                .with_writer(theirs.clone())
                .with_ansi(false)
                .finish(),
            &log,
        );
        assert_eq!(ours.lines(), theirs.lines());
        assert!(!ours.lines().is_empty());
    }

    #[test]
    fn lines_are_tracing_subscribers() {
        same_lines(|| {
            let route = "/v1/oauth/token";
            tracing::info!("served POST {route} 200 in 51µs");
            tracing::info!(target: "knogin::audit", "{}", r#"{"type":"token.issued"}"#);
            tracing::warn!("a warning");
            tracing::error!("an error: {}", 42);
            tracing::info!(status = 200, "with a field");
            tracing::info!("");
            tracing::info_span!("request", id = 7).in_scope(|| tracing::info!("in a span"));
        });
    }

    #[test]
    fn a_line_written_straight_is_the_line_of_the_same_event() {
        let target = "reference_server::serve";
        for (before, text, after) in [
            (
                &["served GET "][..],
                "/.well-known/jwks.json",
                &[" 200 in ", "51", "µs route=", "/.well-known/jwks.json"][..],
            ),
            (&["served GET "], "/a\u{1b}[31m\u{9b}é\u{7f}µ", &[" 404"]),
            (&[], "", &[]),
        ] {
            let mut ours = String::new();
            write_line(&mut ours, Level::INFO, target, before, text, after).unwrap();
            let message = [before.concat(), text.to_owned(), after.concat()].concat();
            let theirs = Captured::default();
            tracing::subscriber::with_default(
                tracing_subscriber::fmt()
                    .with_writer(theirs.clone())
                    .with_ansi(false)
                    .finish(),
                || tracing::info!(target: "reference_server::serve", "{message}"),
            );
            let ours = ours.split_once(' ').unwrap().1.trim_end_matches('\n');
            assert_eq!(vec![ours.to_owned()], theirs.lines(), "{message:?}");
        }
    }

    #[test]
    fn only_text_beyond_printable_ascii_takes_the_escaping_path() {
        for plain in ["", "a", "served GET / 200 in 5us", " ~"] {
            assert!(!may_escape(plain.as_bytes()), "{plain:?}");
        }
        for other in ["\u{1b}", "a\u{7f}", "\u{85}b", "µ", "é", "x\t", "\u{1f}"] {
            assert!(may_escape(other.as_bytes()), "{other:?}");
        }
    }

    #[test]
    fn control_characters_are_escaped_as_tracing_subscriber_escapes_them() {
        same_lines(|| {
            let path = "/a\u{1b}[31mred\u{7}\u{8}\u{c}\u{7f}\u{9b}2J\u{80}\u{9f}\u{a0}é\u{1b}";
            tracing::info!("served GET {path}");
            tracing::info!("\u{1b}]0;title\u{7} ok \u{85}");
            tracing::info!("a tab\there, a new line\nthere, and ¢ (0xC2 0xA2)");
        });
    }

    #[test]
    fn timestamps_are_tracing_subscribers_timer() {
        let mut ours = String::new();
        timestamp(&mut ours, UNIX_EPOCH).unwrap();
        assert_eq!(ours, "1970-01-01T00:00:00.000000Z ");
        for (seconds, micros, want) in [
            (951_782_400, 1, "2000-02-29T00:00:00.000001Z "),
            (1_796_566_217, 123_456, "2026-12-06T14:10:17.123456Z "),
            (4_107_542_399, 999_999, "2100-02-28T23:59:59.999999Z "),
            (253_402_300_799, 0, "9999-12-31T23:59:59.000000Z "),
            (253_402_300_800, 0, "+10000-01-01T00:00:00.000000Z "),
        ] {
            let at = UNIX_EPOCH + Duration::from_secs(seconds) + Duration::from_micros(micros);
            let mut ours = String::new();
            timestamp(&mut ours, at).unwrap();
            assert_eq!(ours, want, "{seconds} s");
        }
        // Against the timer itself, now: the same to the second (taken again across a tick).
        let second = |text: &str| text[..19].to_owned();
        for _ in 0..3 {
            let mut ours = String::new();
            timestamp(&mut ours, SystemTime::now()).unwrap();
            let mut theirs = String::new();
            tracing_subscriber::fmt::time::SystemTime
                .format_time(&mut Writer::new(&mut theirs))
                .unwrap();
            if second(&ours) == second(&theirs) {
                return;
            }
        }
        panic!("the timestamp differs from tracing-subscriber's");
    }
}
