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

/// A source that hands out at most `step` bytes per read.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(out.len()).min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Events as (category, fields) and errors as (record, line, reason).
type Seen = (Vec<(Category, Vec<(String, String)>)>, Vec<(u64, u64, String)>, ReadStats);

fn seen(evs: Vec<Event>, errs: Vec<InputError>, stats: ReadStats) -> Seen {
    let evs = evs
        .iter()
        .map(|e| (e.category(), e.fields().map(|(n, v)| (n.to_owned(), format!("{v:?}"))).collect()))
        .collect();
    (evs, errs.into_iter().map(|e| (e.record, e.line, e.reason)).collect(), stats)
}

fn read_streamed(text: &[u8], chunk: usize, step: usize) -> Seen {
    let (mut evs, mut errs) = (Vec::new(), Vec::new());
    let stats = JsonReader::new()
        .with_chunk_size(chunk)
        .read_stream(Path::new("t.json"), &mut Trickle { data: text, step }, &mut |e| evs.push(e.clone()), &mut |e| {
            errs.push(e)
        })
        .expect("no I/O error");
    seen(evs, errs, stats)
}

#[test]
fn streamed_reading_equals_whole_reading_at_any_chunking() {
    let inputs: Vec<String> = vec![
        NESTED.to_owned(),
        format!("\u{FEFF}{NESTED}\n{NESTED}"),
        format!("[{NESTED},\n {NESTED}]"),
        format!("[{NESTED} {NESTED}]"),
        format!("[{NESTED}, {NESTED}] trailing"),
        format!("[{NESTED}, {NESTED}"),
        "[]".to_owned(),
        "  \n ".to_owned(),
        "{\"EventID\": 1, \"Image\": \"a\"}\n{\"EventID\": 1, \"Image\": tru}\n{\"EventID\": 1, \"Image\": \"c\"}\n"
            .to_owned(),
        "{\"EventID\": 1}\n{\"EventID\": 1, \"Image\": \"c".to_owned(),
        "{\"EventID\": 1, \"Image\": fals".to_owned(),
        "{\"EventID\": 1, \"CommandLine\": \"a\\\"b\\\\c\\u00e9\\ud83d\\ude00\\t\"}\n{\"EventID\": 7, \"x\": null}"
            .to_owned(),
        "{\"EventID\": 1, \"CommandLine\": \"\\u00".to_owned(),
        "{\"EventID\": 11, \"a\": [1, {\"b\": 2}], \"TargetFilename\": \"é\"},{\"EventID\": 11}".to_owned(),
        "{\"EventID\": 1, \"a\": [}\n{\"EventID\": 1}\n".to_owned(),
        // Found by fuzzing: stray scalars cut by a chunk boundary.
        "ttributes\": +{\"xmlns\":\"\"x\",  }Sy\": \"Mic{\"Ev{ent\u{1c}: ".to_owned(),
        "truex 12 nul".to_owned(),
    ];
    for text in &inputs {
        let whole = {
            let (e, r, s) = read(text);
            seen(e, r, s)
        };
        for (chunk, step) in [(1, 1), (2, 1), (3, 2), (5, 7), (7, 3), (64, 64), (1 << 20, 1 << 20)] {
            assert_eq!(read_streamed(text.as_bytes(), chunk, step), whole, "chunk {chunk} step {step} on {text:?}");
        }
    }
}

#[test]
fn streamed_reading_reports_io_errors_with_the_record() {
    /// Three good lines, then a failing read.
    struct Fails(&'static [u8]);
    impl std::io::Read for Fails {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("disk gone"));
            }
            let n = self.0.len().min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let lines = "{\"EventID\": 1, \"Image\": \"a\"}\n".repeat(3).leak().as_bytes();
    let mut events = 0;
    let err = JsonReader::new()
        .with_chunk_size(8)
        .read_stream(Path::new("t.json"), &mut Fails(lines), &mut |_| events += 1, &mut |e| panic!("{e}"))
        .unwrap_err();
    assert_eq!(events, 3);
    assert_eq!(err.record, 4, "{err}");
    assert!(err.reason.contains("disk gone"), "{err}");
}

#[test]
fn streamed_reading_gives_up_on_an_oversized_record_and_reads_on() {
    let mut text = String::from("{\"EventID\": 1, \"CommandLine\": \"");
    text.push_str(&"a".repeat(vigil::input::json::MAX_RECORD + 1000));
    text.push_str("\n{\"EventID\": 1, \"Image\": \"after\"}\n");
    let (evs, errs, stats) = read_streamed(text.as_bytes(), 1 << 20, 1 << 20);
    assert!(!errs.is_empty() && errs[0].0 == 1, "{:?}", &errs[..errs.len().min(3)]);
    assert_eq!(evs.len(), 1);
    assert_eq!(stats.events, 1);
    assert!(evs[0].1.iter().any(|(n, v)| n == "Image" && v.contains("after")));
}
