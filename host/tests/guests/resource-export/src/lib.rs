//! A test machine whose export returns a resource, which cannot be carried over HTTP.

carol_guest::generate!({ world: "resource-export" });

use exports::test::resource_export::counters::{self, Counter};
use std::cell::Cell;

struct ResourceExport;

struct MyCounter(Cell<u32>);

impl counters::GuestCounter for MyCounter {
    fn new() -> Self {
        Self(Cell::new(0))
    }
    fn next(&self) -> u32 {
        self.0.set(self.0.get() + 1);
        self.0.get()
    }
}

impl counters::Guest for ResourceExport {
    type Counter = MyCounter;
    fn make() -> Counter {
        Counter::new(MyCounter(Cell::new(0)))
    }
}

export!(ResourceExport);
