//! TOML problems are reported with key, line and column, and never with the line's text.

use barge_config::{ConfigError, Position};

use crate::{parse, parse_err, MINIMAL};

#[test]
fn unknown_top_level_key_names_key_line_and_column() {
    let text = MINIMAL.replacen(
        "schema = \"app\"\n",
        "schema = \"app\"\nworkers = 2\nchunk_size = 10\nchunksize = 5\n",
        1,
    );
    assert_eq!(
        parse_err(&text),
        "unknown key `chunksize` at line 4, column 1 of /cfg/migration.toml\nhint: did you mean `chunk_size`?"
    );
}

#[test]
fn unknown_key_in_a_table_is_named_with_its_table() {
    let text =
        format!("{MINIMAL}\n[type_mapping]\njson_as_jsonb = true\n  enum_modee = \"check\"\n");
    let err = parse(&text).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown key `type_mapping.enum_modee` at line 12, column 3 of /cfg/migration.toml\nhint: did you mean `enum_mode`?"
    );
    match err {
        ConfigError::UnknownKey { key, position, .. } => {
            assert_eq!(key, "type_mapping.enum_modee");
            assert_eq!(
                position,
                Some(Position {
                    line: 12,
                    column: 3
                })
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn unknown_key_in_source_table() {
    let text = MINIMAL.replace(
        "dsn = \"./source.db\"",
        "dsn = \"./source.db\"\nfile = \"x\"",
    );
    assert_eq!(
        parse_err(&text),
        "unknown key `source.file` at line 6, column 1 of /cfg/migration.toml"
    );
}

#[test]
fn unknown_table_is_an_unknown_key() {
    let text = format!("{MINIMAL}\n[trackin]\nauth_id = \"x\"\n");
    assert_eq!(
        parse_err(&text),
        "unknown key `trackin` at line 10, column 2 of /cfg/migration.toml\nhint: did you mean `tracking`?"
    );
}

#[test]
fn dotted_and_inline_unknown_keys_are_qualified() {
    let dotted = format!("type_mapping.enum_modee = \"x\"\n{MINIMAL}");
    assert!(
        parse_err(&dotted)
            .starts_with("unknown key `type_mapping.enum_modee` at line 1, column 14 "),
        "{}",
        parse_err(&dotted)
    );
    let inline = "schema = \"app\"\nsource = { type = \"sqlite\", dsnn = \"x\" }\n";
    assert!(
        parse_err(inline).starts_with("unknown key `source.dsnn` at line 2, column 29 "),
        "{}",
        parse_err(inline)
    );
}

#[test]
fn wrong_type_names_key_line_and_column() {
    let text = MINIMAL.replacen(
        "schema = \"app\"\n",
        "schema = \"app\"\nworkers = \"four\"\n",
        1,
    );
    assert_eq!(
        parse_err(&text),
        "invalid value for `workers` at line 2, column 11 of /cfg/migration.toml: invalid type: string \"four\", expected an integer"
    );
}

#[test]
fn wrong_enum_value_lists_the_accepted_ones() {
    let text = format!("{MINIMAL}on_schema_exists = \"replace\"\n");
    // A key after a table header belongs to that table: here `[target]`.
    assert_eq!(
        parse_err(&text),
        "unknown key `target.on_schema_exists` at line 9, column 1 of /cfg/migration.toml"
    );
    let text = format!("on_schema_exists = \"replace\"\n{MINIMAL}");
    assert_eq!(
        parse_err(&text),
        "invalid value for `on_schema_exists` at line 1, column 20 of /cfg/migration.toml: unknown variant `replace`, expected one of `error`, `recreate`, `use`"
    );
}

#[test]
fn nested_wrong_type() {
    let text = format!("{MINIMAL}\n[hooks]\nbefore_data = \"a.sql\"\n");
    assert_eq!(
        parse_err(&text),
        "invalid value for `hooks.before_data` at line 11, column 15 of /cfg/migration.toml: invalid type: string \"a.sql\", expected a sequence"
    );
}

#[test]
fn syntax_error_never_shows_the_line() {
    let text = "schema = \"app\"\n[target]\ndsn = \"postgres://app:hunter2@db/sales\n";
    let err = parse(text).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(
        shown.starts_with("invalid TOML at line 3, column "),
        "{shown}"
    );
    assert!(shown.contains("/cfg/migration.toml"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

#[test]
fn duplicate_key_is_a_syntax_error() {
    let text = format!("workers = 1\nworkers = 2\n{MINIMAL}");
    let err = parse_err(&text);
    assert!(
        err.starts_with("invalid TOML at line 2, column 1 of /cfg/migration.toml: "),
        "{err}"
    );
}
