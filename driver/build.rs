//! Build script: configures the WDK link for the kernel build; nothing for host builds.

fn main() {
    #[cfg(feature = "kernel")]
    kernel::configure();
}

#[cfg(feature = "kernel")]
mod kernel {
    pub(crate) fn configure() {
        if let Err(e) = wdk_build::configure_wdk_binary_build() {
            // A build script reports failure by exiting non-zero with a message.
            eprintln!("vigil-driver: WDK configuration failed: {e}");
            std::process::exit(1);
        }
        // windows-sys declares many kernel exports (DbgPrint, Rtl*, Zw*, ...) as imports
        // from ntdll.dll through raw-dylib stubs bundled in its rlib, which comes first on the
        // link line. Naming ntoskrnl here puts ntoskrnl.lib ahead of it, so those names bind
        // to ntoskrnl.exe. (A driver importing ntdll.dll would never load; the PE check in
        // tests/ rejects it.)
        println!("cargo::rustc-link-lib=ntoskrnl");
        // wdk-build's /SUBSYSTEM:NATIVE sets the subsystem version to 6.0 and it does not pass
        // /RELEASE, which leaves the PE checksum 0. Later arguments win, so these come after.
        println!("cargo::rustc-cdylib-link-arg=/SUBSYSTEM:NATIVE,10.0");
        println!("cargo::rustc-cdylib-link-arg=/RELEASE");
        println!("cargo::rerun-if-changed=build.rs");
    }
}
