//! A test machine exporting two interfaces named `geometry`, of two packages, each with a type
//! `point` of its own: two types one name would serve, which the node refuses.

carol_guest::generate!({ world: "twin-interfaces" });

use exports::test::other::geometry as other;
use exports::test::twin_interfaces::geometry as own;

struct TwinInterfaces;

impl own::Guest for TwinInterfaces {
    fn locate(p: own::Point) -> own::Point {
        p
    }
}

impl other::Guest for TwinInterfaces {
    fn lift(p: other::Point) -> other::Point {
        other::Point { z: p.z + 1 }
    }
}

export!(TwinInterfaces);
