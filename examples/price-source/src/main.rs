//! A local stand-in for BitMEX's composite index API, so that the bitmex-oracle machine can be
//! tried (and tested) without the real exchange:
//!
//! ```sh
//! cargo run -p price-source -- 127.0.0.1:9000
//! ```
//!
//! It answers `GET /api/v1/instrument/compositeIndex` the way BitMEX does for the query the
//! oracle sends (`symbol`, a JSON `filter` on symbol, reference and the timestamp's date, hour,
//! minute and second): rows of BitMEX's shape, the composite tick (`reference` `BMI`) among
//! constituent exchanges. Prices are synthetic but fixed: the same minute always has the same
//! price, so signatures can be checked against [`price_at`].

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};

/// The synthetic composite price of any symbol at the minute starting `unix_time`: between
/// 20,000 and 70,000, with cents, the same on every run.
fn price_at(unix_time: i64) -> f64 {
    let minute = unix_time.div_euclid(60);
    20_000.0 + (minute.wrapping_mul(7919).rem_euclid(50_000)) as f64 + 0.37
}

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9000".into());
    let listener = match TcpListener::bind(&addr) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!(
                "error: cannot listen on {addr}: {e}; pass another address, e.g. 127.0.0.1:9001"
            );
            std::process::exit(1);
        }
    };
    let url = format!("http://{}", listener.local_addr().expect("a bound address"));
    let params = json!({ "api_base": url }).to_string();
    println!("price source  {url}");
    println!("oracle params {params}");
    println!("params hex    {}", hex(params.as_bytes()));
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || serve(stream));
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Answers one request on `stream`, then closes it.
fn serve(mut stream: TcpStream) {
    let Ok(read) = stream.try_clone() else { return };
    let mut reader = BufReader::new(read);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // The oracle sends GET requests without a body: skip the headers.
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let (status, body) = answer(target);
    let body = body.to_string();
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// BitMEX's answer to a request for `target` (path and query).
fn answer(target: &str) -> (&'static str, Value) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != "/api/v1/instrument/compositeIndex" {
        return ("404 Not Found", error("Not Found", "HTTPError"));
    }
    let mut symbol = None;
    let mut filter = Value::Null;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match &*name {
            "symbol" => symbol = Some(value.into_owned()),
            "filter" => match serde_json::from_str(&value) {
                Ok(value) => filter = value,
                Err(_) => return ("400 Bad Request", error("Invalid filter", "HTTPError")),
            },
            _ => {}
        }
    }
    let Some(symbol) = symbol else {
        return (
            "400 Bad Request",
            error("symbol is required", "ValidationError"),
        );
    };
    let Some(minute) = minute_of(&filter) else {
        // The real API would list recent ticks; this stand-in only answers exact minutes.
        return ("200 OK", json!([]));
    };
    if filter.get("symbol").is_some_and(|s| s != &json!(symbol)) {
        return ("200 OK", json!([]));
    }
    let timestamp = format!("{}.000Z", minute.1);
    let price = price_at(minute.0);
    let mut rows = vec![json!({
        "timestamp": timestamp, "symbol": symbol, "indexSymbol": symbol, "reference": "BMI",
        "lastPrice": price, "sourcePrice": null, "conversionIndex": null,
        "conversionIndexPrice": null, "relation": null, "weight": null,
        "logged": timestamp,
    })];
    for (reference, weight, offset) in [("BSTP", 0.35, -3.5), ("KRKN", 0.65, 2.25)] {
        rows.push(json!({
            "timestamp": timestamp, "symbol": symbol, "indexSymbol": symbol,
            "reference": reference, "lastPrice": price + offset, "sourcePrice": price + offset,
            "conversionIndex": null, "conversionIndexPrice": null, "relation": "Sum",
            "weight": weight, "logged": timestamp,
        }));
    }
    if let Some(reference) = filter.get("reference") {
        rows.retain(|row| &row["reference"] == reference);
    }
    ("200 OK", Value::Array(rows))
}

/// The minute a filter names (`timestamp.date`, `.hh`, `.uu`, `.ss` = 0): its Unix time and
/// its `YYYY-MM-DDTHH:MM:SS` form.
fn minute_of(filter: &Value) -> Option<(i64, String)> {
    let date = filter.get("timestamp.date")?.as_str()?;
    let hour = filter
        .get("timestamp.hh")?
        .as_i64()
        .filter(|h| (0..24).contains(h))?;
    let minute = filter
        .get("timestamp.uu")?
        .as_i64()
        .filter(|m| (0..60).contains(m))?;
    if filter.get("timestamp.ss")?.as_i64()? != 0 {
        return None;
    }
    let mut parts = date.splitn(3, '-').map(str::parse::<i64>);
    let (year, month, day) = (
        parts.next()?.ok()?,
        parts.next()?.ok()?,
        parts.next()?.ok()?,
    );
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let unix = days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60;
    Some((
        unix,
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:00"),
    ))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn error(message: &str, name: &str) -> Value {
    json!({ "error": { "message": message, "name": name } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_from_the_unix_epoch() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        let filter = json!({"timestamp.date": "2023-04-16", "timestamp.hh": 12, "timestamp.uu": 30, "timestamp.ss": 0});
        assert_eq!(minute_of(&filter).unwrap().0, 1_681_648_200);
    }

    #[test]
    fn answers_the_oracles_query_with_the_composite_row() {
        let filter = r#"{"symbol":".BXBT","reference":"BMI","timestamp.date":"2023-04-16","timestamp.hh":12,"timestamp.uu":30,"timestamp.ss":0}"#;
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("symbol", ".BXBT")
            .append_pair("filter", filter)
            .finish();
        let (status, rows) = answer(&format!("/api/v1/instrument/compositeIndex?{query}"));
        assert_eq!(status, "200 OK");
        assert_eq!(rows.as_array().unwrap().len(), 1);
        assert_eq!(rows[0]["timestamp"], "2023-04-16T12:30:00.000Z");
        assert_eq!(rows[0]["lastPrice"], json!(price_at(1_681_648_200)));
        assert_eq!(answer("/nothing").0, "404 Not Found");
    }
}
