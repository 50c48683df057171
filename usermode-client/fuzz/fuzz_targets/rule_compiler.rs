//! Arbitrary text as a rule file: compiling must never panic; a rejected
//! rule carries a reason; an accepted one can be indexed and evaluated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil::event::{Category, Event, Field};
use vigil::sigma::{Engine, RuleSet};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (rules, errors) = RuleSet::from_sources([("fuzz.yml", text)]);
    for e in &errors {
        assert!(!e.reason.is_empty());
    }
    assert_eq!(rules.len() + errors.len(), 1);
    if !rules.is_empty() {
        let mut engine = Engine::new(&rules);
        let mut hits = Vec::new();
        for cat in Category::ALL {
            let mut ev = Event::new(cat);
            ev.set_str(Field::CommandLine, "cmd.exe /c whoami -all");
            ev.set_str(Field::Image, r"C:\Windows\System32\cmd.exe");
            ev.set_int(Field::ProcessId, 42);
            engine.matches(&ev, &mut hits);
        }
    }
});
