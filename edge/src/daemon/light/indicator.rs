//! What the door unit's status light and buzzer show, from what has happened. Pure rules:
//! events and the time in, lamp and buzzer levels out (`status_light` applies them to pins).
//!
//! | what | green | amber | red | buzzer |
//! |---|---|---|---|---|
//! | a face marked (a Confident record) | on for 1.5 s | | | one 100 ms beep |
//! | a face sent for review (Uncertain or Unknown) | | 3 blinks in 1.5 s | | two short beeps |
//! | trouble: no hub for `offline_after`, or the clock not synchronised | | | 1 s on, 1 s off, while it lasts | |
//! | all well, nothing happening | | | | |
//!
//! A new face restarts the flash; trouble blinks on under it, on its own lamp. With the lamps
//! switched off (`[indicator] lamps = false`, set in `edge.toml` or from the hub) everything
//! stays dark and silent.

use std::time::{Duration, Instant};

/// Something the light must show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A Confident record was kept.
    Marked,
    /// An Uncertain or Unknown record was kept: a teacher will look at it.
    SentForReview,
    /// The broker connection came up.
    Connected,
    /// The broker connection went down.
    Disconnected,
    /// Whether the clock is synchronised (`None`: this machine cannot tell).
    Clock(Option<bool>),
    /// New settings: the lamps on or off, and how long without the hub is trouble.
    Tune {
        lamps: bool,
        offline_after: Duration,
    },
}

/// The level of each output at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Levels {
    pub green: bool,
    pub amber: bool,
    pub red: bool,
    pub buzzer: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flash {
    Marked,
    Review,
}

const FLASH: Duration = Duration::from_millis(1500);
const BLINK: Duration = Duration::from_millis(250);
const TROUBLE_BLINK: Duration = Duration::from_secs(1);
const MARKED_BEEP: Duration = Duration::from_millis(100);
const REVIEW_BEEPS: [(u64, u64); 2] = [(0, 80), (160, 240)];

/// The light's state.
#[derive(Debug)]
pub struct Indicator {
    lamps: bool,
    offline_after: Duration,
    /// Phase of the trouble blink.
    origin: Instant,
    flash: Option<(Flash, Instant)>,
    /// Since when the hub has been out of reach (`None`: connected).
    offline_since: Option<Instant>,
    clock_synchronised: Option<bool>,
}

impl Indicator {
    /// A unit that has just started: not yet connected.
    pub fn new(lamps: bool, offline_after: Duration, now: Instant) -> Self {
        Self {
            lamps,
            offline_after,
            origin: now,
            flash: None,
            offline_since: Some(now),
            clock_synchronised: None,
        }
    }

    pub fn on(&mut self, event: Event, now: Instant) {
        match event {
            Event::Marked => self.flash = Some((Flash::Marked, now)),
            Event::SentForReview => self.flash = Some((Flash::Review, now)),
            Event::Connected => self.offline_since = None,
            Event::Disconnected => {
                self.offline_since.get_or_insert(now);
            }
            Event::Clock(synchronised) => self.clock_synchronised = synchronised,
            Event::Tune {
                lamps,
                offline_after,
            } => {
                self.lamps = lamps;
                self.offline_after = offline_after;
            }
        }
    }

    /// Whether the unit is in trouble at `now`: red.
    pub fn in_trouble(&self, now: Instant) -> bool {
        let offline = self
            .offline_since
            .is_some_and(|since| now.saturating_duration_since(since) >= self.offline_after);
        offline || self.clock_synchronised == Some(false)
    }

    /// The levels to show at `now`.
    pub fn levels(&self, now: Instant) -> Levels {
        if !self.lamps {
            return Levels::default();
        }
        let mut levels = self.flash_levels(now);
        let phase = now.saturating_duration_since(self.origin);
        levels.red = self.in_trouble(now)
            && (phase.as_millis() / TROUBLE_BLINK.as_millis()).is_multiple_of(2);
        levels
    }

    fn flash_levels(&self, now: Instant) -> Levels {
        let Some((flash, at)) = self.flash else {
            return Levels::default();
        };
        let t = now.saturating_duration_since(at);
        if t >= FLASH {
            return Levels::default();
        }
        let ms = t.as_millis() as u64;
        match flash {
            Flash::Marked => Levels {
                green: true,
                buzzer: t < MARKED_BEEP,
                ..Levels::default()
            },
            Flash::Review => Levels {
                amber: (t.as_millis() / BLINK.as_millis()).is_multiple_of(2),
                buzzer: REVIEW_BEEPS
                    .iter()
                    .any(|&(from, to)| (from..to).contains(&ms)),
                ..Levels::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn at(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    fn connected(start: Instant) -> Indicator {
        let mut light = Indicator::new(true, 2 * MINUTE, start);
        light.on(Event::Connected, start);
        light.on(Event::Clock(Some(true)), start);
        light
    }

    #[test]
    fn a_mark_is_green_for_a_moment_with_one_beep() {
        let start = Instant::now();
        let mut light = connected(start);
        assert_eq!(light.levels(start), Levels::default());
        light.on(Event::Marked, at(start, 1000));
        let seen = |ms: u64| light.levels(at(start, 1000 + ms));
        assert_eq!(
            seen(0),
            Levels {
                green: true,
                buzzer: true,
                ..Levels::default()
            }
        );
        assert_eq!(
            seen(500),
            Levels {
                green: true,
                ..Levels::default()
            }
        );
        assert_eq!(seen(1500), Levels::default());
    }

    #[test]
    fn a_face_for_review_blinks_amber_three_times_with_two_beeps() {
        let start = Instant::now();
        let mut light = connected(start);
        light.on(Event::SentForReview, start);
        let amber_on: Vec<u64> = (0..1600)
            .step_by(50)
            .filter(|&ms| light.levels(at(start, ms)).amber)
            .collect();
        let blinks = amber_on.windows(2).filter(|w| w[1] - w[0] > 50).count() + 1;
        assert_eq!(blinks, 3, "{amber_on:?}");
        let beeps: Vec<u64> = (0..1600)
            .step_by(10)
            .filter(|&ms| light.levels(at(start, ms)).buzzer)
            .collect();
        assert_eq!(beeps.windows(2).filter(|w| w[1] - w[0] > 10).count() + 1, 2);
        assert!(!light.levels(at(start, 1600)).amber);
    }

    #[test]
    fn red_blinks_only_after_the_hub_has_been_out_of_reach_for_the_setting() {
        let start = Instant::now();
        let mut light = connected(start);
        light.on(Event::Disconnected, at(start, 10_000));
        assert!(!light.in_trouble(at(start, 10_000 + 119_000)));
        assert!(light.in_trouble(at(start, 10_000 + 120_000)));
        let red: Vec<bool> = (0..4)
            .map(|s| light.levels(at(start, 130_000 + s * 1000)).red)
            .collect();
        assert_eq!(red, [true, false, true, false]);
        light.on(Event::Connected, at(start, 140_000));
        assert!(!light.in_trouble(at(start, 140_000)));
    }

    #[test]
    fn lamps_switched_off_stay_dark_and_silent_and_come_back_when_switched_on() {
        let start = Instant::now();
        let mut light = connected(start);
        let off = Event::Tune {
            lamps: false,
            offline_after: MINUTE,
        };
        light.on(off, start);
        light.on(Event::Marked, start);
        light.on(Event::Disconnected, start);
        assert_eq!(light.levels(at(start, 10)), Levels::default());
        assert!(
            light.in_trouble(at(start, 60_000)),
            "offline_after is the new one"
        );
        assert_eq!(light.levels(at(start, 60_000)), Levels::default());
        let on = Event::Tune {
            lamps: true,
            offline_after: MINUTE,
        };
        light.on(on, at(start, 60_000));
        light.on(Event::Marked, at(start, 60_000));
        assert!(light.levels(at(start, 60_010)).green);
    }

    #[test]
    fn a_unit_that_never_connects_is_in_trouble_after_the_setting() {
        let start = Instant::now();
        let light = Indicator::new(true, 2 * MINUTE, start);
        assert!(!light.in_trouble(at(start, 60_000)));
        assert!(light.in_trouble(at(start, 120_000)));
    }

    #[test]
    fn an_unsynchronised_clock_is_trouble_and_an_unknown_one_is_not() {
        let start = Instant::now();
        let mut light = connected(start);
        light.on(Event::Clock(Some(false)), start);
        assert!(light.in_trouble(start));
        light.on(Event::Clock(None), start);
        assert!(!light.in_trouble(start));
    }

    #[test]
    fn a_disconnect_while_offline_keeps_the_first_time() {
        let start = Instant::now();
        let mut light = connected(start);
        light.on(Event::Disconnected, start);
        light.on(Event::Disconnected, at(start, 100_000));
        assert!(light.in_trouble(at(start, 120_000)));
    }
}
