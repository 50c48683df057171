//! The names the synthetic machine uses: accounts, images, DLLs, folders.

use super::world::Signing;
use crate::enrich::accounts::sid_bytes;

/// Host name written in the capture header.
pub const HOST: &str = "WS-VIGIL-01";
/// The user's profile folder.
pub const PROFILE: &str = r"C:\Users\alice";
/// The user's Temp folder.
pub const TEMP: &str = r"C:\Users\alice\AppData\Local\Temp";
/// The user's Startup folder.
pub const STARTUP: &str = r"C:\Users\alice\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup";

/// Accounts processes run as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Account {
    /// `NT AUTHORITY\SYSTEM`.
    System,
    /// `NT AUTHORITY\LOCAL SERVICE`.
    LocalService,
    /// `NT AUTHORITY\NETWORK SERVICE`.
    NetworkService,
    /// The interactive user, `CONTOSO\alice`.
    Alice,
    /// `Window Manager\DWM-1`.
    Dwm1,
    /// `Font Driver Host\UMFD-1`.
    Umfd1,
}

/// Who a process runs as: account, integrity RID, session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// The account.
    pub account: Account,
    /// Mandatory integrity RID.
    pub integrity: u32,
    /// Terminal session.
    pub session: u32,
}

impl Token {
    /// A token.
    pub const fn new(account: Account, integrity: u32, session: u32) -> Self {
        Self { account, integrity, session }
    }
}

/// The user at medium integrity in session 1.
pub const USER: Token = Token::new(Account::Alice, MEDIUM_IL, 1);

/// RID of the user's SID (the domain part is fixed).
const ALICE_SUB: [u32; 5] = [21, 3_623_811_015, 3_361_044_348, 30_300_820, 1013];

impl Account {
    /// Binary SID.
    pub fn sid(self) -> Vec<u8> {
        match self {
            Account::System => sid_bytes(5, &[18]),
            Account::LocalService => sid_bytes(5, &[19]),
            Account::NetworkService => sid_bytes(5, &[20]),
            Account::Alice => sid_bytes(5, &ALICE_SUB),
            Account::Dwm1 => sid_bytes(5, &[90, 0, 1]),
            Account::Umfd1 => sid_bytes(5, &[96, 0, 1]),
        }
    }

    /// The account table a live capture on this host would have recorded:
    /// the names that are not well-known SIDs.
    pub fn table() -> Vec<(Vec<u8>, String)> {
        vec![(Account::Alice.sid(), r"CONTOSO\alice".to_owned())]
    }
}

/// Integrity RIDs.
pub const SYSTEM_IL: u32 = 0x4000;
/// High (elevated) integrity.
pub const HIGH_IL: u32 = 0x3000;
/// Medium integrity (a normal user process).
pub const MEDIUM_IL: u32 = 0x2000;
/// Low integrity (browser sandboxes).
pub const LOW_IL: u32 = 0x1000;

/// DLLs every process maps.
pub const BASE_DLLS: &[&str] =
    &[r"C:\Windows\System32\ntdll.dll", r"C:\Windows\System32\kernel32.dll", r"C:\Windows\System32\KernelBase.dll"];

/// Commonly loaded system DLLs, for extra image-load noise.
pub const SYSTEM_DLLS: &[&str] = &[
    r"C:\Windows\System32\advapi32.dll",
    r"C:\Windows\System32\msvcrt.dll",
    r"C:\Windows\System32\sechost.dll",
    r"C:\Windows\System32\rpcrt4.dll",
    r"C:\Windows\System32\combase.dll",
    r"C:\Windows\System32\ucrtbase.dll",
    r"C:\Windows\System32\user32.dll",
    r"C:\Windows\System32\win32u.dll",
    r"C:\Windows\System32\gdi32.dll",
    r"C:\Windows\System32\ole32.dll",
    r"C:\Windows\System32\shell32.dll",
    r"C:\Windows\System32\bcrypt.dll",
    r"C:\Windows\System32\crypt32.dll",
    r"C:\Windows\System32\ws2_32.dll",
    r"C:\Windows\System32\winhttp.dll",
    r"C:\Windows\System32\dnsapi.dll",
    r"C:\Windows\System32\uxtheme.dll",
    r"C:\Windows\System32\version.dll",
    r"C:\Windows\System32\wintrust.dll",
    r"C:\Windows\System32\amsi.dll",
];

/// Word's image.
pub const WINWORD: &str = r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE";
/// Windows PowerShell.
pub const POWERSHELL: &str = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe";
/// The command interpreter.
pub const CMD: &str = r"C:\Windows\System32\cmd.exe";
/// rundll32.
pub const RUNDLL32: &str = r"C:\Windows\System32\rundll32.exe";
/// Chrome.
pub const CHROME: &str = r"C:\Program Files\Google\Chrome\Application\chrome.exe";

/// A long-running user application and the files it works on.
#[derive(Clone, Copy, Debug)]
pub struct App {
    /// Image.
    pub image: &'static str,
    /// Command line.
    pub command_line: &'static str,
    /// Extra DLLs it maps at start.
    pub dlls: &'static [&'static str],
    /// Folder it creates cache/temp files in.
    pub cache_dir: &'static str,
    /// Extension of those files.
    pub cache_ext: &'static str,
    /// Files it reads.
    pub reads: &'static [&'static str],
}

/// The user's long-running applications.
pub const APPS: &[App] = &[
    App {
        image: CHROME,
        command_line: r#""C:\Program Files\Google\Chrome\Application\chrome.exe""#,
        dlls: &[r"C:\Program Files\Google\Chrome\Application\131.0.6778.86\chrome_elf.dll"],
        cache_dir: r"C:\Users\alice\AppData\Local\Google\Chrome\User Data\Default\Cache\Cache_Data",
        cache_ext: "",
        reads: &[
            r"C:\Users\alice\AppData\Local\Google\Chrome\User Data\Default\History",
            r"C:\Users\alice\AppData\Local\Google\Chrome\User Data\Default\Preferences",
        ],
    },
    App {
        image: r"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE",
        command_line: r#""C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE" "#,
        dlls: &[r"C:\Program Files\Common Files\microsoft shared\ClickToRun\AppVIsvSubsystems64.dll"],
        cache_dir: r"C:\Users\alice\AppData\Local\Microsoft\Windows\INetCache\Content.Outlook\Q7K2M1ZD",
        cache_ext: ".tmp",
        reads: &[r"C:\Users\alice\AppData\Local\Microsoft\Outlook\alice@contoso.com.ost"],
    },
    App {
        image: r"C:\Users\alice\AppData\Local\Programs\Microsoft VS Code\Code.exe",
        command_line: r#""C:\Users\alice\AppData\Local\Programs\Microsoft VS Code\Code.exe""#,
        dlls: &[r"C:\Users\alice\AppData\Local\Programs\Microsoft VS Code\ffmpeg.dll"],
        cache_dir: r"C:\Users\alice\AppData\Roaming\Code\Cache\Cache_Data",
        cache_ext: "",
        reads: &[r"C:\Users\alice\source\repos\billing\src\main.rs", r"C:\Users\alice\source\repos\billing\Cargo.toml"],
    },
    App {
        image: r"C:\Users\alice\AppData\Local\Microsoft\Teams\current\Teams.exe",
        command_line: r#""C:\Users\alice\AppData\Local\Microsoft\Teams\current\Teams.exe" --system-initiated"#,
        dlls: &[r"C:\Users\alice\AppData\Local\Microsoft\Teams\current\ffmpeg.dll"],
        cache_dir: r"C:\Users\alice\AppData\Roaming\Microsoft\Teams\Cache",
        cache_ext: "",
        reads: &[r"C:\Users\alice\AppData\Roaming\Microsoft\Teams\desktop-config.json"],
    },
];

/// Short-lived helper processes services start.
pub const HELPERS: &[(&str, &str)] = &[
    (
        r"C:\Windows\System32\backgroundTaskHost.exe",
        r#""C:\Windows\system32\backgroundTaskHost.exe" -ServerName:BackgroundTaskHost.WebAccountProvider"#,
    ),
    (r"C:\Windows\System32\RuntimeBroker.exe", r"C:\Windows\System32\RuntimeBroker.exe -Embedding"),
    (r"C:\Windows\System32\taskhostw.exe", r"taskhostw.exe Install $(Arg0)"),
    (
        r"C:\Windows\System32\SearchProtocolHost.exe",
        r#""C:\Windows\system32\SearchProtocolHost.exe" Global\UsGthrFltPipeMssGthrPipe12_ Global\UsGthrCtrlFltPipeMssGthrPipe12 1 -2147483646 "Software\Microsoft\Windows Search" "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)" "C:\ProgramData\Microsoft\Search\Data\Temp\usgthrsvc" "DownLevelDaemon""#,
    ),
    (r"C:\Windows\System32\wbem\WmiPrvSE.exe", r"C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding"),
];

/// Documents the user works on.
pub const DOCUMENTS: &[&str] = &[
    r"C:\Users\alice\Documents\Q3-report.docx",
    r"C:\Users\alice\Documents\budget-2027.xlsx",
    r"C:\Users\alice\Documents\team-offsite.docx",
    r"C:\Users\alice\Documents\contract-draft.pdf",
];

/// Files system services keep writing.
pub const SERVICE_LOGS: &[&str] = &[
    r"C:\Windows\System32\winevt\Logs\System.evtx",
    r"C:\Windows\System32\winevt\Logs\Application.evtx",
    r"C:\Windows\System32\winevt\Logs\Microsoft-Windows-Sysmon%4Operational.evtx",
    r"C:\ProgramData\Microsoft\Windows\wfp\wfpdiag.etl",
    r"C:\Windows\ServiceState\EventLog\Data\lastalive0.dat",
    r"C:\Windows\System32\LogFiles\WMI\RtBackup\EtwRTDiagLog.etl",
];

/// Files the antivirus scans (read-only opens).
pub const SCANNED: &[&str] = &[
    r"C:\Windows\System32\drivers\etc\hosts",
    r"C:\Windows\System32\shell32.dll",
    r"C:\Windows\explorer.exe",
    r"C:\Program Files\Google\Chrome\Application\chrome.exe",
    r"C:\Windows\System32\config\systemprofile\AppData\Local\Microsoft\Windows\INetCache\IE\container.dat",
    r"C:\Users\alice\Downloads\setup-notes.txt",
];

/// The signing level the kernel would report for `path`.
pub fn signing_of(path: &str) -> Signing {
    if path.starts_with(r"C:\Windows\") {
        Signing::Windows
    } else if path.contains(r"\Microsoft Office\") || path.contains(r"\Microsoft VS Code\") || path.contains(r"\Teams\")
    {
        Signing::Microsoft
    } else if path.starts_with(TEMP) || path.starts_with(r"C:\Users\Public\") {
        Signing::Unsigned
    } else {
        Signing::Authenticode
    }
}
