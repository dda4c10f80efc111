//! The streaming reader: budgets, paths, and agreement with the reading of a parsed value.

use super::*;
use serde_json::json;

fn list(item: TypeDesc) -> TypeDesc {
    TypeDesc::List(Box::new(item))
}

fn read(ty: &TypeDesc, text: &str, budget: usize) -> Result<Val, ReadError> {
    from_json_text(ty, text.as_bytes(), &Reading::new(budget))
}

#[test]
fn a_list_costs_one_value_for_itself_and_one_for_each_item() {
    let bytes = list(TypeDesc::U8);
    // Four items and the list: five values, as hex and as numbers alike.
    for text in [r#""00010203""#, "[0, 1, 2, 3]"] {
        assert!(read(&bytes, text, 5 * VALUE_BYTES).is_ok(), "{text}");
        assert!(
            matches!(
                read(&bytes, text, 5 * VALUE_BYTES - 1),
                Err(ReadError::TooLarge)
            ),
            "{text}"
        );
    }
}

#[test]
fn strings_cost_their_bytes_besides_their_value() {
    let text = TypeDesc::String;
    assert!(read(&text, r#""abcd""#, VALUE_BYTES + 4).is_ok());
    assert!(matches!(
        read(&text, r#""abcd""#, VALUE_BYTES + 3),
        Err(ReadError::TooLarge)
    ));
}

#[test]
fn the_budget_stops_a_nested_list_part_way() {
    let nested = list(list(TypeDesc::U32));
    let row = format!("[{}]", vec!["7"; 100].join(","));
    let text = format!("[{}]", vec![row; 100].join(","));
    // 1 + 100 × 101 values in all; half of that stops the reading.
    let all = (1 + 100 * 101) * VALUE_BYTES;
    assert!(read(&nested, &text, all).is_ok());
    assert!(matches!(
        read(&nested, &text, all / 2),
        Err(ReadError::TooLarge)
    ));
}

#[test]
fn an_error_deep_inside_names_its_path() {
    let ty = TypeDesc::Record {
        name: Some("price".into()),
        fields: vec![("values".into(), list(TypeDesc::U8))],
    };
    let Err(ReadError::Value(error)) = read(&ty, r#"{"values": [1, 2, 300]}"#, usize::MAX) else {
        panic!("300 is no u8");
    };
    assert_eq!(error.path, ".values[2]");
    assert_eq!(error.found, "number 300");
}

#[test]
fn text_that_is_not_json_is_a_syntax_error_not_a_value_error() {
    let ty = list(TypeDesc::U8);
    assert!(matches!(
        read(&ty, "[1, 2", usize::MAX),
        Err(ReadError::Syntax(_))
    ));
    assert!(matches!(
        read(&ty, "[1] trailing", usize::MAX),
        Err(ReadError::Syntax(_))
    ));
}

#[test]
fn text_and_parsed_json_read_to_the_same_value() {
    let ty = TypeDesc::Tuple(vec![
        TypeDesc::S64,
        TypeDesc::Option(Box::new(TypeDesc::String)),
        list(TypeDesc::U8),
        TypeDesc::F64,
    ]);
    let json = json!(["-9007199254740993", "hi", "ff00", "NaN"]);
    let from_text = read(&ty, &json.to_string(), usize::MAX).expect("reads");
    let from_value = from_json(&ty, &json).expect("reads");
    assert_eq!(format!("{from_text:?}"), format!("{from_value:?}"));
    let Val::Tuple(items) = from_text else {
        panic!("a tuple")
    };
    assert_eq!(items[0], Val::S64(-9007199254740993));
}
