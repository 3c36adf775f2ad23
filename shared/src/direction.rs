//! Which way the people a door unit sees are going: the one direction type, from the unit's
//! `edge.toml` and the hub's device registry over the wire (protocol 5) to the hub's store,
//! API and pages.

use serde::{Deserialize, Serialize};

use crate::invalid::Invalid;

/// Which way a door unit's camera faces, and so what its records mean. A unit has one camera:
/// a door with an entry and an exit has two units. Variants only ever grow at the end
/// (postcard encodes the index; JSON and SQL the snake_case name).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Direction {
    /// People coming in: the student is on site from then on.
    In,
    /// People leaving: the student is off site, and leaves a lesson still running early. A
    /// record of it never marks anyone present.
    Out,
    /// Both ways, which one not known (a classroom door): the student is here. What every
    /// unit was before directions existed, and the default.
    #[default]
    Both,
}

impl Direction {
    pub const ALL: [Direction; 3] = [Direction::In, Direction::Out, Direction::Both];

    /// Its name in configuration, JSON and the hub's database.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
            Direction::Both => "both",
        }
    }
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Direction {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Invalid> {
        Direction::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                Invalid::new(format!(
                    "{s:?} is not a direction: in, out or both (which way the camera faces)"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_and_anything_else_says_what_is_expected() {
        for d in Direction::ALL {
            assert_eq!(d.as_str().parse::<Direction>(), Ok(d));
        }
        let err = "inward".parse::<Direction>().unwrap_err().to_string();
        assert!(err.contains("in, out or both"), "{err}");
    }
}
