//! A test machine with an export over every WIT type and every node service.

carol_guest::generate!({ world: "all-types" });

use exports::test::all_types::calc;

struct AllTypes;

impl calc::Guest for AllTypes {
    fn mul(a: i32, b: i32) -> i32 {
        a.wrapping_mul(b)
    }
}

impl Guest for AllTypes {
    fn echo_bool(v: bool) -> bool {
        v
    }
    fn echo_s8(v: i8) -> i8 {
        v
    }
    fn echo_u8(v: u8) -> u8 {
        v
    }
    fn echo_s16(v: i16) -> i16 {
        v
    }
    fn echo_u16(v: u16) -> u16 {
        v
    }
    fn echo_s32(v: i32) -> i32 {
        v
    }
    fn echo_u32(v: u32) -> u32 {
        v
    }
    fn echo_s64(v: i64) -> i64 {
        v
    }
    fn echo_u64(v: u64) -> u64 {
        v
    }
    fn echo_f32(v: f32) -> f32 {
        v
    }
    fn echo_f64(v: f64) -> f64 {
        v
    }
    fn echo_char(v: char) -> char {
        v
    }
    fn echo_string(v: String) -> String {
        v
    }
    fn echo_bytes(v: Vec<u8>) -> Vec<u8> {
        v
    }
    fn echo_list(v: Vec<String>) -> Vec<String> {
        v
    }
    fn echo_tuple(v: (u32, String, bool)) -> (u32, String, bool) {
        v
    }
    fn echo_record(v: Point) -> Point {
        v
    }
    fn echo_variant(v: Shape) -> Shape {
        v
    }
    fn echo_enum(v: Color) -> Color {
        v
    }
    fn echo_flags(v: Perms) -> Perms {
        v
    }
    fn echo_option(v: Option<u64>) -> Option<u64> {
        v
    }
    fn echo_result(v: Result<String, u32>) -> Result<String, u32> {
        v
    }
    fn echo_nested(v: Vec<Option<Point>>) -> Vec<Option<Point>> {
        v
    }
    fn add(a: u64, b: u64) -> u64 {
        a.wrapping_add(b)
    }
    fn bare_result(fail: bool) -> Result<(), ()> {
        if fail { Err(()) } else { Ok(()) }
    }
    fn nothing() {}
    fn fail(message: String) {
        panic!("{message}");
    }
    #[allow(clippy::empty_loop)]
    fn spin() {
        loop {}
    }
    fn log(message: String) -> String {
        println!("stdout: {message}");
        eprintln!("stderr: {message}");
        message
    }
    fn public_key() -> Vec<u8> {
        carol_guest::bls_sign::public_key()
    }
    fn sign(message: Vec<u8>) -> Vec<u8> {
        carol_guest::sign(&message)
    }
    fn whoami() -> IdentityInfo {
        IdentityInfo {
            machine_id: carol_guest::machine_id().to_vec(),
            binary_id: carol_guest::identity::binary_id(),
            params: carol_guest::params(),
        }
    }
    fn fetch(url: String) -> Result<(u16, String), String> {
        match carol_guest::get(&url) {
            Ok(response) => Ok((response.status, response.text())),
            Err(error) => Err(format!("{error:?}")),
        }
    }
}

export!(AllTypes);
