//! rollcall-hub library.
