//! A test machine whose types have names that only the component itself can tell apart.

carol_guest::generate!({ world: "named-types" });

use exports::test::named_types::geometry::{self, Place};
use exports::test::named_types::shapes;

struct NamedTypes;

impl Guest for NamedTypes {
    fn convert(p: Price, s: Side, times: Quantity) -> Amount {
        let value = p.value.saturating_mul(u64::from(times));
        Amount {
            value: match s {
                Side::Buy => value,
                Side::Sell => value / 2,
            },
        }
    }

    fn mirror(a: Amount) -> Price {
        Price { value: a.value }
    }

    fn flip(p: Point) -> Point {
        Point { x: -p.x, y: -p.y }
    }
}

impl geometry::Guest for NamedTypes {
    fn locate(p: geometry::Point) -> Place {
        if p.x == 0.0 && p.y == 0.0 {
            Place::Nowhere
        } else {
            Place::At(p)
        }
    }
}

impl shapes::Guest for NamedTypes {
    fn middle(a: geometry::Point, b: geometry::Point) -> geometry::Point {
        geometry::Point {
            x: (a.x + b.x) / 2.0,
            y: (a.y + b.y) / 2.0,
        }
    }
}

export!(NamedTypes);
