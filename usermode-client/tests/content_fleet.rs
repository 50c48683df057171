//! The fleet simulation (issue 6): 10,000 simulated hosts, each running the
//! real pack loader, engine and watchdog, under the real rollout state
//! machine in simulated time. Asserts the bounds of scenarios (a)–(d).

use vigil::content::sim::{self, Outcome, Scenario, SimConfig};

fn run(s: Scenario) -> Outcome {
    let t = std::time::Instant::now();
    let o = sim::run(s, &SimConfig::default());
    eprintln!("{}\n{:?} in {:.1} s", sim::table(std::slice::from_ref(&o)), o.reason, t.elapsed().as_secs_f64());
    o
}

#[test]
fn a_good_pack_reaches_every_host() {
    let o = run(Scenario::GoodPack);
    assert!(!o.rolled_back, "{:?}", o.reason);
    assert!(o.completed_after.is_some());
    assert_eq!(o.furthest_ring, "broad");
    assert_eq!((o.offered, o.exposed, o.on_release_at_end), (10_000, 10_000, 10_000));
    assert_eq!((o.refused, o.quarantines), (0, 0));
}

fn assert_stopped_at_canary(o: &Outcome) {
    assert!(o.rolled_back, "not rolled back");
    assert_eq!(o.furthest_ring, "canary");
    assert!(o.offered <= 100, "offered to {} hosts", o.offered);
    assert!(o.exposure() <= 0.01, "exposure {:.2} %", o.exposure() * 100.0);
    let halted = o.halted_after.expect("halted");
    assert!(halted <= 4 * 3_600, "halted within the canary's 4 h bake, after {halted} s");
    assert_eq!(o.on_lkg_at_end, 10_000, "every host back on the last known good");
}

#[test]
fn a_pack_that_fails_on_load_stops_at_canary() {
    let o = run(Scenario::FailsOnLoad);
    assert_stopped_at_canary(&o);
    assert_eq!(o.exposed, 0, "no host ran it");
    assert_eq!(o.refused, o.offered);
    assert!(
        o.first_alert.as_deref().unwrap_or("").contains("does not exist in file_event events"),
        "{:?}",
        o.first_alert
    );
}

#[test]
fn a_pack_that_hangs_on_some_events_stops_at_canary() {
    let o = run(Scenario::HangsOnSomeEvents);
    assert_stopped_at_canary(&o);
    assert!(o.quarantines >= 1);
    assert!(o.reason.as_deref().unwrap_or("").contains("rules quarantined"), "{:?}", o.reason);
}

#[test]
fn a_pack_that_silences_a_category_is_caught_by_alert_volume() {
    let o = run(Scenario::SilencesCategory);
    assert_stopped_at_canary(&o);
    assert_eq!((o.refused, o.quarantines), (0, 0), "nothing but alert volume shows it");
    assert!(o.reason.as_deref().unwrap_or("").contains("process_creation alert volume down"), "{:?}", o.reason);
}

#[test]
fn a_corrupted_pack_is_refused_by_every_host() {
    let o = run(Scenario::CorruptedInTransit);
    assert_eq!((o.offered, o.refused, o.exposed), (10_000, 10_000, 0));
    assert_eq!(o.on_lkg_at_end, 10_000);
    assert!(o.rolled_back);
}
