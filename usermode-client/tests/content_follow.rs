//! Following a pack file or a content store (what `vigil run` does between
//! batches): changes are installed, bad packs are refused once per change
//! with the file and the failed check named, and the active pack stays.

use std::path::{Path, PathBuf};
use std::time::Duration;
use vigil::content::build::{PackInfo, assemble};
use vigil::content::pack::{TrustPolicy, hex, keys};
use vigil::content::rollout::{Channel, Ring, Store};
use vigil::content::runtime::{ContentAlert, ContentRuntime, FollowError, Follower, PackOrigin};
use vigil::replay::demo_rules;
use vigil::sigma::CompileOptions;

const UNKNOWN_FIELD: &str = "title: t\nid: 51111111-2222-4333-8444-555555555555\nlogsource:\n    category: image_load\n    product: windows\ndetection:\n    sel:\n        TargetFilename|endswith: '.dll'\n    condition: sel\n";

fn pack(rules: usize, extra: Option<&str>, version: u64) -> Vec<u8> {
    let mut sources: Vec<(String, String)> =
        demo_rules::SOURCES.iter().take(rules).map(|(p, t)| ((*p).to_owned(), (*t).to_owned())).collect();
    if let Some(t) = extra {
        sources.push(("extra.yml".into(), t.to_owned()));
    }
    let info =
        PackInfo { pack_version: version, created: "2026-11-24T00:00:00Z".into(), compile: CompileOptions::default() };
    assemble(&sources, &info, None).unwrap()
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vigil-follow-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn refusal(alerts: &[ContentAlert]) -> &str {
    match alerts {
        [ContentAlert::PackRefused { reason, .. }] => reason,
        other => panic!("expected one refusal: {other:?}"),
    }
}

fn follow(origin: PackOrigin) -> Follower {
    let runtime = ContentRuntime::new(TrustPolicy::AllowUnsigned);
    Follower::start(runtime, origin, Duration::from_secs(3600)).unwrap().0
}

#[test]
fn a_pack_file_is_followed_and_a_bad_rewrite_is_refused_once() {
    let dir = temp("file");
    let path = dir.join("content.vpack");
    std::fs::write(&path, pack(6, None, 1)).unwrap();
    let mut f = follow(PackOrigin::File { path: path.clone(), policy: TrustPolicy::AllowUnsigned });
    assert_eq!(f.current().unwrap().pack_version, 1);
    assert!(f.check_now().is_empty(), "nothing changed");

    std::fs::write(&path, pack(5, None, 2)).unwrap();
    assert!(matches!(f.check_now()[..], [ContentAlert::PackActivated { pack_version: 2, rules: 5, .. }]));

    std::fs::write(&path, pack(6, Some(UNKNOWN_FIELD), 3)).unwrap();
    let alerts = f.check_now();
    let reason = refusal(&alerts);
    assert!(reason.starts_with(&format!("{}: rule check failed", path.display())), "{reason}");
    assert_eq!(f.current().unwrap().pack_version, 2, "the last known good stays");
    assert!(f.check_now().is_empty(), "refused once per change, not once per poll");

    let mut torn = pack(6, None, 4);
    torn.truncate(torn.len() - 10);
    std::fs::write(&path, torn).unwrap();
    assert!(refusal(&f.check_now()).contains("framing check failed"));
    assert_eq!((f.stats().swaps, f.stats().refusals), (1, 2));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Adds `bytes` to the store and releases it to every host (one ring, no bake).
fn promote(store: &Store, dir: &Path, bytes: &[u8], now: u64) -> String {
    let file = dir.join(format!("p{now}.vpack"));
    std::fs::write(&file, bytes).unwrap();
    let p = store.add_pack(&file, &TrustPolicy::AllowUnsigned).unwrap();
    let mut r = store.load().unwrap();
    let _ = r.force_advance(now);
    r.start(p.clone(), now).unwrap();
    store.save(&r).unwrap();
    p.digest
}

#[test]
fn a_store_is_followed_and_a_substituted_or_unsigned_pack_is_refused() {
    let dir = temp("store");
    let mut channel = Channel::standard();
    channel.rings = vec![Ring { name: "all".into(), percent: 100.0, bake_minutes: 0 }];
    let store = Store::init(&dir.join("store"), channel).unwrap();
    let origin = || PackOrigin::Store { store: store.clone(), host: "h1".into(), keys: None };
    let runtime = ContentRuntime::new(TrustPolicy::AllowUnsigned);
    let err = Follower::start(runtime, origin(), Duration::ZERO).unwrap_err();
    assert!(matches!(&err, FollowError::NoContent(why) if why.contains("assigns no pack to host h1")), "{err}");

    let a = promote(&store, &dir, &pack(6, None, 1), 1);
    let mut f = follow(origin());
    assert_eq!(hex(&f.current().unwrap().digest), a);

    let b = promote(&store, &dir, &pack(5, None, 2), 2);
    assert!(matches!(f.check_now()[..], [ContentAlert::PackActivated { pack_version: 2, .. }]));
    assert_eq!(hex(&f.current().unwrap().digest), b);

    // A valid pack stored under another pack's name.
    let c = promote(&store, &dir, &pack(4, None, 3), 3);
    std::fs::write(store.pack_path(&c), pack(6, None, 1)).unwrap();
    let alerts = f.check_now();
    let reason = refusal(&alerts);
    assert!(reason.contains("digest check failed: the file holds pack"), "{reason}");
    assert!(reason.contains(&c), "names the file: {reason}");
    assert_eq!(hex(&f.current().unwrap().digest), b);

    // The store now requires signatures; an unsigned pack is refused.
    let key = keys::generate().unwrap();
    let mut r = store.load().unwrap();
    r.trusted_keys.push(hex(key.verifying_key().as_bytes()));
    store.save(&r).unwrap();
    promote(&store, &dir, &pack(3, None, 4), 4);
    assert!(refusal(&f.check_now()).contains("signature check failed"));
    assert_eq!(hex(&f.current().unwrap().digest), b, "the last known good stays");
    assert_eq!((f.stats().swaps, f.stats().refusals), (1, 2));
    let _ = std::fs::remove_dir_all(&dir);
}
