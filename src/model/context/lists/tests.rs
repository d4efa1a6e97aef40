use super::csv::split_csv_line;
use super::*;

#[test]
fn csv_fields_may_be_quoted() {
    assert_eq!(
        split_csv_line(r#"a,"b, c","say ""hi""",d"#).unwrap(),
        ["a", "b, c", "say \"hi\"", "d"]
    );
    assert!(split_csv_line(r#"a,"b"#).is_err());
}

#[test]
fn numbers_are_keyed_by_their_digits() {
    assert_eq!(number_key("+421 2 2129 1400"), "421221291400");
    assert_eq!(number_key("421221291400"), "421221291400");
}
