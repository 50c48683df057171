//! The boot process tree: smss → csrss/wininit/winlogon → services → svchost…,
//! userinit → explorer → the user's applications.

use super::catalog::{self, APPS, Account, MEDIUM_IL, SYSTEM_IL, Token, USER};
use super::world::{Proc, World};

/// The long-lived processes the noise is attributed to.
#[derive(Debug)]
pub struct Machine {
    /// services.exe.
    pub services: Proc,
    /// svchost instances.
    pub svchosts: Vec<Proc>,
    /// MsMpEng.exe (Defender).
    pub defender: Proc,
    /// explorer.exe of the user.
    pub explorer: Proc,
    /// The user's applications, in [`APPS`] order.
    pub apps: Vec<Proc>,
}

const SVCHOST: &str = r"C:\Windows\System32\svchost.exe";

/// svchost groups: command line and account.
const SVCHOST_GROUPS: &[(&str, Account)] = &[
    (r"C:\Windows\system32\svchost.exe -k DcomLaunch -p", Account::System),
    (r"C:\Windows\system32\svchost.exe -k RPCSS -p", Account::NetworkService),
    (r"C:\Windows\system32\svchost.exe -k LocalServiceNetworkRestricted -p -s EventLog", Account::LocalService),
    (r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule", Account::System),
    (r"C:\Windows\system32\svchost.exe -k NetworkService -p -s Dnscache", Account::NetworkService),
    (r"C:\Windows\system32\svchost.exe -k LocalSystemNetworkRestricted -p -s SysMain", Account::System),
    (r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Winmgmt", Account::System),
    (r"C:\Windows\system32\svchost.exe -k LocalService -p -s BthAvctpSvc", Account::LocalService),
    (r"C:\Windows\System32\svchost.exe -k wsappx -p -s AppXSvc", Account::System),
    (r"C:\Windows\system32\svchost.exe -k UnistackSvcGroup", Account::Alice),
];

/// Emits the boot sequence and returns the processes that stay up.
pub fn boot(w: &mut World) -> Machine {
    let sys = |w: &mut World, parent: Option<&Proc>, image: &str, cmd: &str, session: u32| {
        w.start(parent, image, cmd, Token::new(Account::System, SYSTEM_IL, session), &[])
    };
    let smss = sys(w, None, r"C:\Windows\System32\smss.exe", r"\SystemRoot\System32\smss.exe", 0);
    let smss0 =
        sys(w, Some(&smss), r"C:\Windows\System32\smss.exe", r"\SystemRoot\System32\smss.exe 000000d0 00000080 ", 0);
    let csrss_cmd = r"%SystemRoot%\system32\csrss.exe ObjectDirectory=\Windows SharedSection=1024,20480,768 Windows=On SubSystemType=Windows ServerDll=basesrv,1 ServerDll=winsrv:UserServerDllInitialization,3 ServerDll=sxssrv,4 ProfileControl=Off MaxRequestThreads=16";
    sys(w, Some(&smss0), r"C:\Windows\System32\csrss.exe", csrss_cmd, 0);
    let wininit = sys(w, Some(&smss0), r"C:\Windows\System32\wininit.exe", "wininit.exe", 0);
    w.exit(&smss0);
    let smss1 =
        sys(w, Some(&smss), r"C:\Windows\System32\smss.exe", r"\SystemRoot\System32\smss.exe 000000dc 00000080 ", 1);
    sys(w, Some(&smss1), r"C:\Windows\System32\csrss.exe", csrss_cmd, 1);
    let winlogon = sys(w, Some(&smss1), r"C:\Windows\System32\winlogon.exe", "winlogon.exe", 1);
    w.exit(&smss1);

    let services = sys(w, Some(&wininit), r"C:\Windows\System32\services.exe", r"C:\Windows\system32\services.exe", 0);
    sys(w, Some(&wininit), r"C:\Windows\System32\lsass.exe", r"C:\Windows\system32\lsass.exe", 0);
    let mut svchosts = Vec::new();
    for &(cmd, account) in SVCHOST_GROUPS {
        let il = if account == Account::Alice { MEDIUM_IL } else { SYSTEM_IL };
        let session = if account == Account::Alice { 1 } else { 0 };
        svchosts.push(w.start(
            Some(&services),
            SVCHOST,
            cmd,
            Token::new(account, il, session),
            &catalog::SYSTEM_DLLS[..4],
        ));
    }
    sys(w, Some(&services), r"C:\Windows\System32\spoolsv.exe", r"C:\Windows\System32\spoolsv.exe", 0);
    let defender_image = r"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MsMpEng.exe";
    let defender = sys(w, Some(&services), defender_image, &format!("\"{defender_image}\""), 0);
    sys(
        w,
        Some(&services),
        r"C:\Windows\System32\SearchIndexer.exe",
        r"C:\Windows\system32\SearchIndexer.exe /Embedding",
        0,
    );

    w.start(
        Some(&winlogon),
        r"C:\Windows\System32\fontdrvhost.exe",
        r#""fontdrvhost.exe""#,
        Token::new(Account::Umfd1, 0x1000, 1),
        &[],
    );
    w.start(
        Some(&winlogon),
        r"C:\Windows\System32\dwm.exe",
        r#""dwm.exe""#,
        Token::new(Account::Dwm1, SYSTEM_IL, 1),
        &[],
    );
    let userinit = w.start(
        Some(&winlogon),
        r"C:\Windows\System32\userinit.exe",
        r"C:\Windows\system32\userinit.exe",
        Token::new(Account::Alice, MEDIUM_IL, 1),
        &[],
    );
    let explorer = w.start(
        Some(&userinit),
        r"C:\Windows\explorer.exe",
        r"C:\Windows\Explorer.EXE",
        Token::new(Account::Alice, MEDIUM_IL, 1),
        &catalog::SYSTEM_DLLS[..12],
    );
    w.exit(&userinit);
    w.start(
        Some(&explorer),
        r"C:\Windows\System32\SecurityHealthSystray.exe",
        r#""C:\Windows\System32\SecurityHealthSystray.exe""#,
        Token::new(Account::Alice, MEDIUM_IL, 1),
        &[],
    );
    let apps = APPS.iter().map(|a| w.start(Some(&explorer), a.image, a.command_line, USER, a.dlls)).collect();
    Machine { services, svchosts, defender, explorer, apps }
}
