//! Harness for the end-to-end tests: finding binaries, free ports, polling with deadlines.
