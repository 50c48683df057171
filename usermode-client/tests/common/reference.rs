//! rsigma-eval as a reference oracle: one rsigma `Engine` per logsource
//! category (so it sees exactly the rules Vigil routes an event to), fed
//! flat JSON built from the same `Event` Vigil matches.

use std::collections::BTreeMap;
use std::path::Path;
use vigil::event::{Category, Event, Value};

pub struct Reference {
    engines: BTreeMap<&'static str, rsigma_eval::Engine>,
    pub rejected: Vec<String>,
}

impl Reference {
    pub fn load(dir: &Path) -> Reference {
        let mut files = Vec::new();
        walk(dir, &mut files);
        files.sort();
        // One collection per category, added once: rsigma rebuilds its
        // candidate index on every add, so adding rule by rule is quadratic.
        let mut colls: BTreeMap<&'static str, rsigma_parser::SigmaCollection> = BTreeMap::new();
        let mut rejected = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).expect("rule text");
            let coll = match rsigma_parser::parse_sigma_yaml(&text) {
                Ok(c) => c,
                Err(e) => {
                    rejected.push(format!("{}: {e}", f.display()));
                    continue;
                }
            };
            let Some(cat) =
                coll.rules.first().and_then(|r| r.logsource.category.as_deref()).and_then(Category::from_name)
            else {
                rejected.push(format!("{}: no category", f.display()));
                continue;
            };
            colls.entry(cat.name()).or_default().rules.extend(coll.rules);
        }
        let mut engines = BTreeMap::new();
        for (cat, coll) in colls {
            let mut engine = rsigma_eval::Engine::new();
            if let Err(e) = engine.add_collection(&coll) {
                rejected.push(format!("{cat}: {e}"));
            }
            engines.insert(cat, engine);
        }
        Reference { engines, rejected }
    }

    /// Sigma ids of the rules the reference says `ev` matches, sorted.
    pub fn eval(&self, ev: &Event) -> Vec<String> {
        self.eval_json(ev.category(), &to_json(ev))
    }

    pub fn eval_json(&self, cat: Category, json: &serde_json::Value) -> Vec<String> {
        let Some(engine) = self.engines.get(cat.name()) else { return Vec::new() };
        let ev = rsigma_eval::JsonEvent::borrow(json);
        let mut ids: Vec<String> = engine.evaluate(&ev).into_iter().filter_map(|r| r.header.rule_id.clone()).collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

/// The event as a flat JSON object (field name to string or number).
pub fn to_json(ev: &Event) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for (name, v) in ev.fields() {
        let jv = match v {
            Value::Str(s) => serde_json::Value::String(s.to_owned()),
            Value::Int(i) => serde_json::Value::from(i),
        };
        m.insert(name.to_owned(), jv);
    }
    serde_json::Value::Object(m)
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("rules dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "yml") {
            out.push(p);
        }
    }
}
