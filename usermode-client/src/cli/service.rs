//! `vigil service install | uninstall | run` (Windows): the live analyzer as
//! the service `VigilAnalyzer` (LocalSystem, automatic start, depends on the
//! driver service `vigil`), through the `windows-service` crate. A stop or
//! shutdown request sets the stop flag; the live loop drains the ring,
//! flushes alerts and the capture, and the service reports Stopped.

use super::run::{RunArgs, run_live};
use anyhow::{Context, bail};
use clap::Parser;
use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use windows_service::service::{
    ServiceAccess, ServiceControl, ServiceControlAccept, ServiceDependency, ServiceErrorControl, ServiceExitCode,
    ServiceInfo, ServiceStartType, ServiceState, ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{self, ServiceControlHandlerResult, ServiceStatusHandle};
use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};
use windows_service::{define_windows_service, service_dispatcher};

/// The service's name (the driver's service is `vigil`).
pub const SERVICE_NAME: &str = "VigilAnalyzer";

/// `vigil service …`.
#[derive(Debug, clap::Subcommand)]
pub enum ServiceCommand {
    /// Register the analyzer as a service that starts with Windows.
    /// Arguments after `--` are `vigil run`'s; by default alerts go to
    /// %ProgramData%\Vigil\alerts.jsonl and messages to vigil.log beside it.
    Install {
        /// `vigil run` arguments for the service.
        #[arg(last = true)]
        run_args: Vec<OsString>,
    },
    /// Stop and remove the service.
    Uninstall,
    /// Run as the service (the service control manager starts this).
    Run(Box<RunArgs>),
}

/// Parses `vigil run` arguments on their own.
#[derive(Debug, Parser)]
#[command(name = "vigil service run")]
struct RunOnly {
    #[command(flatten)]
    run: RunArgs,
}

impl ServiceCommand {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            ServiceCommand::Install { run_args } => install(run_args),
            ServiceCommand::Uninstall => uninstall(),
            ServiceCommand::Run(args) => run_service(*args),
        }
    }
}

fn data_dir() -> std::path::PathBuf {
    std::env::var_os("ProgramData").map_or_else(|| "C:\\ProgramData".into(), std::path::PathBuf::from).join("Vigil")
}

fn install(mut run_args: Vec<OsString>) -> anyhow::Result<ExitCode> {
    let given = RunOnly::try_parse_from(std::iter::once(OsString::from("run")).chain(run_args.iter().cloned()))
        .context("invalid `vigil run` arguments for the service")?
        .run;
    let dir = data_dir();
    if given.output.is_none() || given.log.is_none() {
        std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    }
    if given.output.is_none() {
        run_args.extend(["--format".into(), "json".into(), "--output".into(), dir.join("alerts.jsonl").into()]);
    }
    if given.log.is_none() {
        run_args.extend(["--log".into(), dir.join("vigil.log").into(), "--stats-every".into(), "60".into()]);
    }
    let mut launch_arguments = vec![OsString::from("service"), OsString::from("run")];
    launch_arguments.extend(run_args);
    let manager = ServiceManager::local_computer(
        None::<&str>,
        ServiceManagerAccess::CONNECT | ServiceManagerAccess::CREATE_SERVICE,
    )
    .context("cannot open the service control manager (run as Administrator)")?;
    let info = ServiceInfo {
        name: SERVICE_NAME.into(),
        display_name: "Vigil analyzer".into(),
        service_type: ServiceType::OWN_PROCESS,
        start_type: ServiceStartType::AutoStart,
        error_control: ServiceErrorControl::Normal,
        executable_path: std::env::current_exe().context("cannot locate vigil.exe")?,
        launch_arguments,
        dependencies: vec![ServiceDependency::Service("vigil".into())],
        account_name: None,
        account_password: None,
    };
    let service = manager.create_service(&info, ServiceAccess::CHANGE_CONFIG).context("cannot create the service")?;
    service
        .set_description("Reads vigil.sys's ring and raises Sigma alerts (Vigil live analyzer).")
        .context("cannot describe the service")?;
    println!(
        "installed service {SERVICE_NAME}: start it with `sc start {SERVICE_NAME}` (it starts with Windows from now on)"
    );
    Ok(ExitCode::SUCCESS)
}

fn uninstall() -> anyhow::Result<ExitCode> {
    let manager = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)
        .context("cannot open the service control manager (run as Administrator)")?;
    let service = manager
        .open_service(SERVICE_NAME, ServiceAccess::QUERY_STATUS | ServiceAccess::STOP | ServiceAccess::DELETE)
        .with_context(|| format!("cannot open service {SERVICE_NAME}"))?;
    if service.query_status()?.current_state != ServiceState::Stopped {
        service.stop().context("cannot stop the service")?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while service.query_status()?.current_state != ServiceState::Stopped {
            if Instant::now() > deadline {
                bail!("{SERVICE_NAME} did not stop within 30 s");
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    service.delete().context("cannot delete the service")?;
    println!("removed service {SERVICE_NAME}");
    Ok(ExitCode::SUCCESS)
}

static ARGS: OnceLock<RunArgs> = OnceLock::new();
static STATUS: OnceLock<ServiceStatusHandle> = OnceLock::new();

define_windows_service!(ffi_service_main, service_main);

fn run_service(args: RunArgs) -> anyhow::Result<ExitCode> {
    let _ = ARGS.set(args);
    service_dispatcher::start(SERVICE_NAME, ffi_service_main)
        .context("not started by the service control manager: use `vigil run` in a console")?;
    Ok(ExitCode::SUCCESS)
}

fn status(state: ServiceState, exit: u32, wait_hint: Duration) -> ServiceStatus {
    ServiceStatus {
        service_type: ServiceType::OWN_PROCESS,
        current_state: state,
        controls_accepted: if state == ServiceState::Running {
            ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN
        } else {
            ServiceControlAccept::empty()
        },
        exit_code: ServiceExitCode::ServiceSpecific(exit),
        checkpoint: 0,
        wait_hint,
        process_id: None,
    }
}

fn service_main(_arguments: Vec<OsString>) {
    let handler = |control| match control {
        ServiceControl::Stop | ServiceControl::Shutdown => {
            vigil::live::stop::request();
            if let Some(h) = STATUS.get() {
                let _ = h.set_service_status(status(ServiceState::StopPending, 0, Duration::from_secs(15)));
            }
            ServiceControlHandlerResult::NoError
        }
        ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
        _ => ServiceControlHandlerResult::NotImplemented,
    };
    let Ok(handle) = service_control_handler::register(SERVICE_NAME, handler) else { return };
    let _ = STATUS.set(handle);
    let _ = handle.set_service_status(status(ServiceState::Running, 0, Duration::ZERO));
    let exit = match ARGS.get().map(|a| run_live(a, vigil::live::stop::flag())) {
        Some(Ok(code)) if code == ExitCode::SUCCESS => 0,
        _ => 1,
    };
    let _ = handle.set_service_status(status(ServiceState::Stopped, exit, Duration::ZERO));
}
