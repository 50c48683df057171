//! Benign activity: what a workstation does all day. None of it should raise
//! a demo alert, and some of it is chosen to look *almost* like the attacks
//! (Word's save dance renames documents, PowerShell drops and deletes a
//! policy-test script in Temp, updaters write executables).

use super::boot::Machine;
use super::catalog::{self, APPS, Account, HIGH_IL, MEDIUM_IL, SYSTEM_IL, Token, USER};
use super::world::World;

/// Relative frequency of each behaviour.
const WEIGHTS: [u32; 10] = [30, 25, 15, 15, 5, 3, 4, 1, 1, 2];

/// Emits one benign behaviour (a handful of records).
pub fn step(w: &mut World, m: &Machine) {
    match w.rng.weighted(&WEIGHTS) {
        0 => app_cache(w, m),
        1 => app_read(w, m),
        2 => service_log(w, m),
        3 => defender_scan(w, m),
        4 => helper_process(w, m),
        5 => word_session(w, m),
        6 => extra_dll(w, m),
        7 => admin_powershell(w, m),
        8 => browser_update(w, m),
        _ => git_in_code(w, m),
    }
}

fn app_cache(w: &mut World, m: &Machine) {
    let i = w.rng.below(APPS.len() as u64) as usize;
    let (Some(app), Some(p)) = (APPS.get(i), m.apps.get(i)) else { return };
    let n = w.rng.below(0x10_0000);
    let path = format!(r"{}\f_{n:06x}{}", app.cache_dir, app.cache_ext);
    w.write_new(p, &path);
    if w.rng.percent(30) {
        w.delete(p, &path);
    }
}

fn app_read(w: &mut World, m: &Machine) {
    let i = w.rng.below(APPS.len() as u64) as usize;
    let (Some(app), Some(p)) = (APPS.get(i), m.apps.get(i)) else { return };
    if let Some(f) = w.rng.pick(app.reads).copied() {
        w.open(p, f);
    }
    if w.rng.percent(20) {
        w.modify(p, app.reads.first().copied().unwrap_or(catalog::PROFILE));
    }
}

fn service_log(w: &mut World, m: &Machine) {
    let (Some(p), Some(log)) = (w.rng.pick(&m.svchosts).cloned(), w.rng.pick(catalog::SERVICE_LOGS).copied()) else {
        return;
    };
    w.modify(&p, log);
}

fn defender_scan(w: &mut World, m: &Machine) {
    for _ in 0..w.rng.range(1, 4) {
        if let Some(f) = w.rng.pick(catalog::SCANNED).copied() {
            w.open(&m.defender, f);
        }
    }
}

fn helper_process(w: &mut World, m: &Machine) {
    let Some(&(image, cmd)) = w.rng.pick(catalog::HELPERS) else { return };
    let Some(parent) = m.svchosts.first() else { return };
    let dlls = &catalog::SYSTEM_DLLS[..w.rng.range(2, 8) as usize];
    let (account, il, session) =
        if w.rng.percent(50) { (Account::Alice, MEDIUM_IL, 1) } else { (Account::System, SYSTEM_IL, 0) };
    let p = w.start(Some(parent), image, cmd, Token::new(account, il, session), dlls);
    if let Some(f) = w.rng.pick(catalog::SCANNED).copied() {
        w.open(&p, f);
    }
    w.exit(&p);
}

/// Opening and saving a document in Word: the owner file `~$name`, then
/// Word's save: write `~WRD*.tmp`, rename the original to `~WRL*.tmp`,
/// rename the new file over the original name, delete the old copy.
fn word_session(w: &mut World, m: &Machine) {
    let Some(doc) = w.rng.pick(&catalog::DOCUMENTS[..3]).copied() else { return };
    let cmd = format!(r#""{}" /n "{doc}""#, catalog::WINWORD);
    let word = w.start(Some(&m.explorer), catalog::WINWORD, &cmd, USER, &catalog::SYSTEM_DLLS[..10]);
    let (dir, name) = doc.rsplit_once('\\').unwrap_or((catalog::PROFILE, doc));
    let owner = format!(r"{dir}\~${}", name.get(2..).unwrap_or(name));
    w.open(&word, doc);
    w.write_new(&word, &owner);
    let n = w.rng.range(1000, 9999);
    let (wrd, wrl) = (format!(r"{dir}\~WRD{n}.tmp"), format!(r"{dir}\~WRL{n}.tmp"));
    w.write_new(&word, &wrd);
    w.rename(&word, doc, &wrl);
    w.rename(&word, &wrd, doc);
    w.delete(&word, &wrl);
    w.delete(&word, &owner);
    w.exit(&word);
}

fn extra_dll(w: &mut World, m: &Machine) {
    let (Some(p), Some(dll)) = (w.rng.pick(&m.apps).cloned(), w.rng.pick(catalog::SYSTEM_DLLS).copied()) else {
        return;
    };
    w.load(&p, dll, catalog::signing_of(dll));
}

/// An elevated PowerShell: on start it writes and deletes
/// `__PSScriptPolicyTest_*.ps1` in Temp (AppLocker policy probe).
fn admin_powershell(w: &mut World, m: &Machine) {
    let dlls = [r"C:\Windows\System32\amsi.dll", r"C:\Windows\System32\bcrypt.dll"];
    let ps = w.start(
        Some(&m.explorer),
        catalog::POWERSHELL,
        r#""C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" "#,
        Token::new(Account::Alice, HIGH_IL, 1),
        &dlls,
    );
    let probe = format!(
        r"{}\__PSScriptPolicyTest_{:08x}.{:03x}.ps1",
        catalog::TEMP,
        w.rng.next_u64() as u32,
        w.rng.below(0x1000)
    );
    w.write_new(&ps, &probe);
    w.delete(&ps, &probe);
    w.open(&ps, r"C:\Windows\System32\WindowsPowerShell\v1.0\Modules\Microsoft.PowerShell.Management\Microsoft.PowerShell.Management.psd1");
    w.exit(&ps);
}

/// Chrome's updater replaces the browser binary.
fn browser_update(w: &mut World, m: &Machine) {
    let image = r"C:\Program Files (x86)\Google\Update\GoogleUpdate.exe";
    let up = w.start(
        Some(&m.services),
        image,
        &format!(r#""{image}" /ua /installsource scheduler"#),
        Token::new(Account::System, SYSTEM_IL, 0),
        &[],
    );
    let staged = format!(r"C:\Program Files (x86)\Google\Update\Install\{{{:08X}}}\setup.exe", w.rng.next_u64() as u32);
    w.write_new(&up, &staged);
    w.overwrite(&up, r"C:\Program Files\Google\Chrome\Application\new_chrome.exe");
    w.delete(&up, &staged);
    w.exit(&up);
}

fn git_in_code(w: &mut World, m: &Machine) {
    let Some(code) = m.apps.get(2) else { return };
    let git = w.start(
        Some(code),
        r"C:\Program Files\Git\cmd\git.exe",
        "git status -z -uall",
        Token::new(Account::Alice, MEDIUM_IL, 1),
        &[],
    );
    let conhost = w.start(
        Some(&git),
        r"C:\Windows\System32\conhost.exe",
        r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1",
        Token::new(Account::Alice, MEDIUM_IL, 1),
        &[],
    );
    w.open(&git, r"C:\Users\alice\source\repos\billing\.git\index");
    w.modify(&git, r"C:\Users\alice\source\repos\billing\.git\index.lock");
    w.exit(&conhost);
    w.exit(&git);
}
