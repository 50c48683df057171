//! Placeholder: the minifilter lands with the driver issue.
#![no_std]
