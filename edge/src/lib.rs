//! rollcall-edge library.
