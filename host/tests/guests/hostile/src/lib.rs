//! A test machine that misbehaves in every way a machine can, to prove the node's limits, and
//! one well-behaved activation to prove the node is fine afterwards.

carol_guest::generate!({ world: "hostile" });

use std::io::Write;
use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};

const MIB: usize = 1024 * 1024;

/// The state key `swallow` records under.
const SWALLOWED: &[u8] = b"swallowed";

/// Lives as long as the instance does.
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The pages `scatter` writes into, every other one of each array.
const SCATTER_PAGES: usize = 80;
const PAGE: usize = 4096;
/// What `IMAGE` holds in the binary: not zero, so it is in the memory image.
const IMAGE_BYTE: u8 = 0xa5;
static IMAGE: [AtomicU8; SCATTER_PAGES * PAGE] =
    [const { AtomicU8::new(IMAGE_BYTE) }; SCATTER_PAGES * PAGE];
static ZEROED: [AtomicU8; SCATTER_PAGES * PAGE] =
    [const { AtomicU8::new(0) }; SCATTER_PAGES * PAGE];

struct Hostile;

impl Guest for Hostile {
    #[allow(clippy::empty_loop)]
    fn spin() {
        loop {}
    }

    fn allocate(megabytes: u32) -> u32 {
        let mut memory = vec![0u8; megabytes as usize * MIB];
        // Touch every page, so that nothing is left unused.
        for (i, page) in memory.chunks_mut(4096).enumerate() {
            page[0] = i as u8;
        }
        let memory = std::hint::black_box(memory);
        memory.chunks(4096).fold(0u32, |sum, page| {
            sum.wrapping_mul(31).wrapping_add(page[0].into())
        })
    }

    fn fetch_flood(url: String, count: u32) -> Vec<String> {
        (0..count)
            .map(|_| match carol_guest::get(&url) {
                Ok(response) => format!("ok {}", response.status),
                Err(error) => format!("{error:?}"),
            })
            .collect()
    }

    fn huge_result(megabytes: u32) -> String {
        "x".repeat(megabytes as usize * MIB)
    }

    fn swallow(data: Vec<u8>) -> u32 {
        let len = data.len() as u32;
        carol_guest::state::set(SWALLOWED, &len.to_le_bytes()).expect("the node keeps state");
        len
    }

    fn swallowed() -> Option<u32> {
        let bytes = carol_guest::state::get(SWALLOWED)?;
        Some(u32::from_le_bytes(bytes.try_into().expect("four bytes")))
    }

    fn spew(count: u32) -> Vec<u8> {
        (0..count).map(|i| i as u8).collect()
    }

    fn sign_now() -> Vec<u8> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_nanos();
        carol_guest::sign(&now.to_be_bytes())
    }

    fn last_words(bytes: u32, message: String) {
        let line = [b'?'; 1024];
        let mut stderr = std::io::stderr().lock();
        for _ in 0..bytes.div_ceil(1024) {
            let _ = stderr.write_all(&line);
        }
        drop(stderr);
        panic!("{message}");
    }

    fn shout(bytes: u32) {
        let mut line = [b'!'; 1024];
        let mut stdout = std::io::stdout().lock();
        let mut written = 0;
        while written < bytes as usize {
            let n = (bytes as usize - written).min(line.len());
            line[n - 1] = b'\n';
            if let Err(error) = stdout.write_all(&line[..n]).and_then(|()| stdout.flush()) {
                panic!("stdout refused a write after {written} bytes: {error}");
            }
            written += n;
        }
    }

    fn nap(ms: u32) -> u32 {
        std::thread::sleep(std::time::Duration::from_millis(ms.into()));
        ms
    }

    fn echo(message: String) -> String {
        message
    }

    fn count() -> u32 {
        COUNTER.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn scatter() -> u32 {
        let changed = |bytes: &[AtomicU8], pristine: u8| {
            bytes
                .iter()
                .filter(|b| b.load(Ordering::Relaxed) != pristine)
                .count()
        };
        let seen = changed(&IMAGE, IMAGE_BYTE) + changed(&ZEROED, 0);
        for page in (0..SCATTER_PAGES).step_by(2) {
            IMAGE[page * PAGE + 7].store(!IMAGE_BYTE, Ordering::Relaxed);
            ZEROED[page * PAGE + 7].store(1, Ordering::Relaxed);
        }
        seen as u32
    }
}

export!(Hostile);
