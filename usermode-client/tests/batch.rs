//! Multi-threaded replay: `Engine::matches_batch` over the full SigmaHQ
//! rule set must give exactly the matches of one engine run event by
//! event, whatever the thread count (each thread has its own scratch and
//! memo, and sees the events in a different order and grouping).

mod common;

use common::mutate::{self, Draft, Rng};
use vigil::sigma::{Engine, RuleId, RuleSet};

#[test]
fn batch_results_do_not_depend_on_thread_count() {
    let root = common::dataset();
    let (rules, errors) = RuleSet::load_dir(root.join("rules"));
    assert!(errors.is_empty(), "{errors:?}");
    let mut base = Vec::new();
    for case in common::manifest() {
        base.extend(common::read_events(&root.join(&case.json_path)));
    }
    let pool: Vec<Draft> = base.iter().map(Draft::of).collect();
    let mut rng = Rng::new(0xBA7C_4001);
    let mut events = base.clone();
    // Mutants repeat and vary values, so memo hits and misses interleave
    // differently per thread.
    for _ in 0..20 {
        for d in &pool {
            let mut m = d.clone();
            mutate::mutate(&mut m, &pool, &mut rng);
            events.push(m.build());
        }
    }

    let mut single = Engine::new(&rules);
    let mut hits = Vec::new();
    let mut sequential: Vec<(usize, RuleId)> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        single.matches(e, &mut hits);
        sequential.extend(hits.iter().map(|&r| (i, r)));
    }
    assert!(sequential.len() > base.len(), "too few matches ({}) to compare", sequential.len());

    let engine = Engine::new(&rules);
    for threads in [1, 2, 3, 8] {
        let batch = engine.matches_batch(&events, threads);
        assert_eq!(batch.len(), sequential.len(), "{threads} threads: match count");
        assert!(batch == sequential, "{threads} threads: matches differ from the sequential run");
    }
}
