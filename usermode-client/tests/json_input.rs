//! The JSON reader: both shapes, every container layout, and recovery from
//! malformed records with record number and line.

use std::path::Path;
use vigil::event::{Category, Event, Field, Value};
use vigil::input::json::JsonReader;
use vigil::input::{InputError, ReadStats};

fn read(text: &str) -> (Vec<Event>, Vec<InputError>, ReadStats) {
    let (mut evs, mut errs) = (Vec::new(), Vec::new());
    let stats = JsonReader::new()
        .read(Path::new("t.json"), text.as_bytes(), &mut |e| evs.push(e.clone()), &mut |e| errs.push(e));
    (evs, errs, stats)
}

const NESTED: &str = r##"{"Event": {"System": {"Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
  "EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": "pc1"},
  "EventData": {"Image": "C:\\Windows\\cmd.exe", "ProcessId": 42, "RuleName": null, "Custom": "x"}}}"##;

#[test]
fn nested_shape() {
    let (evs, errs, _) = read(NESTED);
    assert!(errs.is_empty(), "{errs:?}");
    let e = &evs[0];
    assert_eq!(e.category(), Category::ProcessCreation);
    assert_eq!(e.get(Field::Image), Some(Value::Str(r"C:\Windows\cmd.exe")));
    assert_eq!(e.get(Field::ProcessId), Some(Value::Int(42)));
    assert_eq!(e.get(Field::RuleName), None, "null is absent");
    assert_eq!(e.get(Field::Computer), Some(Value::Str("pc1")));
    assert_eq!(e.get(Field::EventID), Some(Value::Int(1)));
    assert_eq!(e.get_named("Custom"), Some(Value::Str("x")));
}

#[test]
fn flat_shape_array_and_lines() {
    let arr = r#"[{"EventID": 11, "Provider_Name": "Microsoft-Windows-Sysmon", "TargetFilename": "a"},
                  {"TargetFilename": "b", "Provider": "Microsoft-Windows-Sysmon", "EventID": "7"}]"#;
    let (evs, errs, st) = read(arr);
    assert!(errs.is_empty());
    assert_eq!(st.events, 2);
    assert_eq!(evs[0].category(), Category::FileEvent);
    assert_eq!(evs[1].category(), Category::ImageLoad, "EventID may come last and be a string");
    let lines = "{\"EventID\": 23, \"TargetFilename\": \"x\"}\n{\"EventID\": 26}\n";
    let (evs, _, _) = read(lines);
    assert!(evs.iter().all(|e| e.category() == Category::FileDelete) && evs.len() == 2);
    let concat = format!("{NESTED}\n{NESTED}");
    assert_eq!(read(&concat).0.len(), 2);
}

#[test]
fn other_events_are_skipped_not_errors() {
    let (evs, errs, st) = read(r#"{"EventID": 3} {"EventID": 1, "Provider_Name": "Security"} {"x": 1}"#);
    assert!(evs.is_empty() && errs.is_empty());
    assert_eq!((st.records, st.skipped), (3, 3));
}

#[test]
fn malformed_record_is_reported_and_skipped() {
    let text =
        "{\"EventID\": 1, \"Image\": \"a\"}\n{\"EventID\": 1, \"Image\": tru}\n{\"EventID\": 1, \"Image\": \"c\"}\n";
    let (evs, errs, st) = read(text);
    assert_eq!(evs.len(), 2, "records after the bad one still read");
    assert_eq!(st.errors, 1);
    assert_eq!((errs[0].record, errs[0].line), (2, 2), "{}", errs[0]);
    assert!(errs[0].to_string().contains("t.json"));
    // Truncated final record.
    let (evs, errs, _) = read("{\"EventID\": 1}\n{\"EventID\": 1, \"Image\": \"c");
    assert_eq!((evs.len(), errs.len()), (1, 1));
    assert_eq!(errs[0].record, 2);
}

#[test]
fn escapes_decode() {
    let (evs, _, _) = read(r#"{"EventID": 1, "CommandLine": "a\"b\\c\u00e9\ud83d\ude00\t"}"#);
    assert_eq!(evs[0].get(Field::CommandLine), Some(Value::Str("a\"b\\cé😀\t")));
}
