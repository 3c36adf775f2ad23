//! What the photos' faces came to, and the tables that say it.

/// Eye-distance bins (placed eye distance, frame px).
pub const EYE_BINS: [(&str, f32, f32); 5] = [
    ("< 24 px", 0.0, 24.0),
    ("24–32 px", 24.0, 32.0),
    ("32–40 px", 32.0, 40.0),
    ("40–50 px", 40.0, 50.0),
    ("≥ 50 px", 50.0, f32::INFINITY),
];

/// A Confident name that was wrong.
pub struct Mistake {
    pub who: String,
    pub named: String,
    pub what: &'static str,
    pub eye_px: f32,
}

#[derive(Default)]
pub struct Tally {
    /// Class members placed in the photos.
    pub members: usize,
    /// Placed, but no face found where they stand.
    pub not_found: usize,
    /// Found, but `Out` at the door's gate (no record).
    pub gated_out: usize,
    /// Named Confident, rightly.
    pub marked: usize,
    /// Named Confident as another student.
    pub wrong: usize,
    /// Asked about (Uncertain or Unknown).
    pub review: usize,
    /// People of no class of this lesson placed in the photos.
    pub strangers: usize,
    pub strangers_named: usize,
    /// Faces no one was placed at (a bystander of a portrait) named Confident.
    pub others_named: usize,
    pub mistakes: Vec<Mistake>,
}

impl Tally {
    pub fn marked_pct(&self) -> String {
        pct(self.marked, self.members)
    }

    pub fn print_mistakes(&self) {
        if self.mistakes.is_empty() {
            return;
        }
        println!("\n| who | named | what | eyes |\n|---|---|---|---|");
        for m in &self.mistakes {
            println!(
                "| {} | {} | {} | {:.0} px |",
                m.who, m.named, m.what, m.eye_px
            );
        }
    }
}

fn pct(n: usize, of: usize) -> String {
    format!("{:.1} %", 100.0 * n as f64 / of.max(1) as f64)
}

pub fn table_header(first: &str) {
    println!(
        "| {first} | class members | marked (Confident, right) | wrong names | to review | no face found | gated out | strangers named (of) | bystanders named |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
}

/// One row; `bystanders` for a row over whole photos (bystanders are not placed, so have no
/// eye-distance bin).
pub fn table_row(label: &str, t: &Tally, bystanders: bool) {
    println!(
        "| {label} | {} | {} ({}) | {} | {} ({}) | {} | {} | {} of {} | {} |",
        t.members,
        t.marked_pct(),
        t.marked,
        t.wrong,
        pct(t.review, t.members),
        t.review,
        t.not_found,
        t.gated_out,
        t.strangers_named,
        t.strangers,
        if bystanders {
            t.others_named.to_string()
        } else {
            "–".into()
        },
    );
}
