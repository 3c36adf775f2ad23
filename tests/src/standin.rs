//! The contract stand-ins (`rollcall-fake-edfi`, `rollcall-fake-wonde`): what they share, and
//! how a test starts one. Inside a stand-in: `http` reads requests and writes answers,
//! `faults` owns the fault modes `POST /control` sets, `journal` keeps the requests for
//! `GET /requests` and the `--record` file, `serve` runs the accept loop around a vendor's
//! own answers, and `json` reads a vendor's model file. On the test side, `launch` starts a
//! stand-in binary and talks to its shared endpoints. Nothing here knows any vendor's API:
//! each stand-in keeps its model, checks, store and error shapes in its own folder.

pub mod faults;
pub mod http;
pub mod journal;
pub mod json;
pub mod launch;
pub mod serve;
