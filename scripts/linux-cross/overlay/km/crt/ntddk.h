/*
 * Vigil overlay for the Linux verification build (scripts/linux-cross/wdk-root.sh).
 *
 * The fake WDK include root puts km/crt first, so this file is found before mingw-w64's
 * ntddk.h. It includes that header and then declares what the WDK 10.0.22621 headers
 * have and the mingw-w64 10 DDK headers lack, with the WDK's prototypes, so that wdk-sys's
 * bindgen output matches what the eWDK would give for the names Vigil uses.
 * Release builds use the eWDK's own headers; this file is never part of them.
 * Every name declared here is also added to ntoskrnl.def by wdk-root.sh (EXTRA_EXPORTS).
 */
#pragma once
#include_next <ntddk.h>

/* wdm.h: pool flags for ExAllocatePool2 (wdk-alloc). The POOL_FLAG_* values are
 * hard-coded by wdk-sys (src/constants.rs), so they are not defined here. */
typedef ULONG64 POOL_FLAGS;

/* wdm.h, Windows 10 2004 and later. */
NTKERNELAPI PVOID ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag);

/* wdm.h, Windows 8 and later: the system time at 100 ns precision. */
NTKERNELAPI VOID KeQuerySystemTimePrecise(PLARGE_INTEGER CurrentTime);

/* ntddk.h, Windows 10 1703 and later: a boot-unique key per process start. */
NTKERNELAPI ULONGLONG PsGetProcessStartKey(PEPROCESS Process);

/* ntddk.h: exit status of a process (exported; the mingw headers lack the prototype). */
NTKERNELAPI NTSTATUS PsGetProcessExitStatus(PEPROCESS Process);
