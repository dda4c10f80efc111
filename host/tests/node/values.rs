//! Every row of the JSON mapping, both directions, through the all-types machine: each value
//! goes in as JSON (POST) and as query text (GET) and must come back as the expected JSON.

use crate::harness::shared;
use serde_json::{Value, json};

/// Sends `input` to `echo-{ty}` by POST and `query` by GET; both must answer `expected`.
fn echo(ty: &str, input: Value, query: &str, expected: Value) {
    let name = format!("echo-{ty}");
    let (status, body) = shared().post(&name, &json!({ "v": input }));
    assert_eq!((status, &body), (200, &expected), "POST {name} {input}");
    let (status, body) = shared().get(&name, &[("v", query)]);
    assert_eq!((status, &body), (200, &expected), "GET {name}?v={query}");
}

#[test]
fn bool() {
    echo("bool", json!(true), "true", json!(true));
    echo("bool", json!(false), "false", json!(false));
}

#[test]
fn small_integers_at_their_limits() {
    echo("s8", json!(-128), "-128", json!(-128));
    echo("s8", json!(127), "127", json!(127));
    echo("u8", json!(255), "255", json!(255));
    echo("u8", json!(0), "0", json!(0));
    echo("s16", json!(-32768), "-32768", json!(-32768));
    echo("u16", json!(65535), "65535", json!(65535));
    echo(
        "s32",
        json!(-2147483648i64),
        "-2147483648",
        json!(-2147483648i64),
    );
    echo(
        "u32",
        json!(4294967295u64),
        "4294967295",
        json!(4294967295u64),
    );
}

#[test]
fn sixty_four_bit_integers_are_exact() {
    echo(
        "u64",
        json!(u64::MAX),
        "18446744073709551615",
        json!(u64::MAX),
    );
    echo(
        "u64",
        json!("18446744073709551615"),
        "18446744073709551615",
        json!(u64::MAX),
    );
    echo(
        "u64",
        json!(9007199254740993u64),
        "9007199254740993",
        json!(9007199254740993u64),
    );
    echo(
        "s64",
        json!(i64::MIN),
        "-9223372036854775808",
        json!(i64::MIN),
    );
    echo(
        "s64",
        json!("-9223372036854775808"),
        "-9223372036854775808",
        json!(i64::MIN),
    );
    echo(
        "s64",
        json!(i64::MAX),
        "9223372036854775807",
        json!(i64::MAX),
    );
    // The exact text on the wire, not only the parsed value.
    let response = ureq::get(&format!(
        "{}/machines/{}/activate/echo-u64?v=18446744073709551615",
        shared().node.url,
        shared().machine
    ))
    .call()
    .unwrap()
    .body_mut()
    .read_to_string()
    .unwrap();
    assert_eq!(response, "18446744073709551615");
}

#[test]
fn two_sixty_four_bit_arguments() {
    let (status, body) = shared().get("add", &[("a", "18446744073709551614"), ("b", "1")]);
    assert_eq!((status, body), (200, json!(u64::MAX)));
}

#[test]
fn floats_with_nan_and_infinities() {
    echo("f32", json!(0.1), "0.1", json!(0.1));
    echo("f32", json!(-1.5), "-1.5", json!(-1.5));
    echo("f64", json!(0.1), "0.1", json!(0.1));
    echo("f64", json!(1e300), "1e300", json!(1e300));
    echo("f64", json!(3), "3", json!(3.0));
    for ty in ["f32", "f64"] {
        echo(ty, json!("NaN"), "NaN", json!("NaN"));
        echo(ty, json!("Infinity"), "Infinity", json!("Infinity"));
        echo(ty, json!("-Infinity"), "-Infinity", json!("-Infinity"));
    }
}

#[test]
fn chars_and_strings() {
    echo("char", json!("é"), "é", json!("é"));
    echo("char", json!("😀"), "😀", json!("😀"));
    echo(
        "string",
        json!("hello wörld & more"),
        "hello wörld & more",
        json!("hello wörld & more"),
    );
    echo("string", json!(""), "", json!(""));
}

#[test]
fn bytes_are_hex() {
    echo("bytes", json!("00ff10"), "00ff10", json!("00ff10"));
    echo("bytes", json!("00FF10"), "\"00ff10\"", json!("00ff10"));
    echo("bytes", json!([0, 255, 16]), "[0,255,16]", json!("00ff10"));
    echo("bytes", json!(""), "", json!(""));
}

#[test]
fn lists_and_tuples_are_arrays() {
    echo("list", json!(["a", "b"]), r#"["a","b"]"#, json!(["a", "b"]));
    echo("list", json!([]), "[]", json!([]));
    echo(
        "tuple",
        json!([7, "x", true]),
        r#"[7,"x",true]"#,
        json!([7, "x", true]),
    );
}

#[test]
fn records_are_objects() {
    let point = json!({"x": 1, "y": -2, "label": "p"});
    echo("record", point.clone(), &point.to_string(), point);
}

#[test]
fn variants() {
    echo(
        "variant",
        json!({"circle": 1.5}),
        r#"{"circle":1.5}"#,
        json!({"circle": 1.5}),
    );
    let rect = json!({"rect": {"x": 0, "y": 1, "label": ""}});
    echo("variant", rect.clone(), &rect.to_string(), rect);
    echo("variant", json!("empty"), r#""empty""#, json!("empty"));
    echo(
        "variant",
        json!({"empty": null}),
        r#"{"empty":null}"#,
        json!("empty"),
    );
}

#[test]
fn enums_are_case_names() {
    echo(
        "enum",
        json!("light-blue"),
        "light-blue",
        json!("light-blue"),
    );
    echo(
        "enum",
        json!("light_blue"),
        "light_blue",
        json!("light-blue"),
    );
    echo("enum", json!("red"), "red", json!("red"));
}

#[test]
fn flags_are_arrays_of_names() {
    echo(
        "flags",
        json!(["read", "exec"]),
        r#"["read","exec"]"#,
        json!(["read", "exec"]),
    );
    echo("flags", json!([]), "[]", json!([]));
}

#[test]
fn options_are_null_or_the_value() {
    echo("option", json!(null), "null", json!(null));
    echo("option", json!(5), "5", json!(5));
    let nested = json!([null, {"x": 3, "y": 4, "label": "q"}]);
    echo("nested", nested.clone(), &nested.to_string(), nested);
}

#[test]
fn results_ok_is_200_and_err_is_422() {
    let (status, body) = shared().post("echo-result", &json!({"v": {"ok": "fine"}}));
    assert_eq!((status, body), (200, json!({"ok": "fine"})));
    let (status, body) = shared().post("echo-result", &json!({"v": {"err": 7}}));
    assert_eq!((status, body), (422, json!({"err": 7})));
    let (status, body) = shared().get("echo-result", &[("v", r#"{"err":8}"#)]);
    assert_eq!((status, body), (422, json!({"err": 8})));
    let (status, body) = shared().get("bare-result", &[("fail", "false")]);
    assert_eq!((status, body), (200, json!({"ok": null})));
    let (status, body) = shared().get("bare-result", &[("fail", "true")]);
    assert_eq!((status, body), (422, json!({"err": null})));
}

#[test]
fn no_result_is_null() {
    assert_eq!(shared().get("nothing", &[]), (200, json!(null)));
    assert_eq!(shared().post("nothing", &json!({})), (200, json!(null)));
}

#[test]
fn post_with_empty_body_takes_the_query() {
    let path = format!(
        "/machines/{}/activate/echo-string?v=from-query",
        shared().machine
    );
    assert_eq!(
        shared().node.post_bytes(&path, b""),
        (200, json!("from-query"))
    );
}
