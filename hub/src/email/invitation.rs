//! What an invitation says: pure, plain text, short lines. The link is the only secret in it;
//! it names no student but the one invited, and carries no face or record.

use std::fmt::Write as _;

use rollcall_shared::zone::LocalTime;
use rollcall_store::invitations::Invitation;

/// The subject line.
pub fn subject(site: &str) -> String {
    format!("Your Rollcall account at {site}")
}

/// The body: who it is for, their user name, the link and until when it works.
pub fn text(invitation: &Invitation, link: &str, expires: LocalTime) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Hello {},", invitation.display_name);
    let _ = writeln!(out);
    let what = match invitation.role.as_str() {
        "student" => "to see your own attendance, timetable and consent",
        "admin" => "as an administrator",
        _ => "as a teacher",
    };
    let _ = writeln!(
        out,
        "The school's office has opened a Rollcall account for you, {what}."
    );
    let _ = writeln!(out, "Your user name: {}", invitation.username);
    let _ = writeln!(out);
    let _ = writeln!(out, "Choose your password here:");
    let _ = writeln!(out, "{link}");
    let _ = writeln!(out);
    let (h, m) = (expires.minute / 60, expires.minute % 60);
    let _ = writeln!(
        out,
        "The link works once, until {} at {h:02}:{m:02} (school time).",
        expires.date.strftime("%A %-d %B %Y")
    );
    let _ = writeln!(
        out,
        "If you did not expect this message, ignore it: nothing happens until the link is used."
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rollcall_shared::UnixMillis;
    use rollcall_shared::zone::SiteZone;
    use uuid::Uuid;

    #[test]
    fn an_invitation_names_the_account_the_link_and_its_end_in_school_time() {
        let invitation = Invitation {
            id: Uuid::nil(),
            user_id: Uuid::nil(),
            username: "ann@pupils.example".into(),
            display_name: "Ann Ash".into(),
            role: "student".into(),
            email: "ann@pupils.example".into(),
            created_by: "user:ada".into(),
            created_at: UnixMillis(0),
            expires_at: UnixMillis(0),
            used_at: None,
            sent_at: None,
            send_error: None,
        };
        let london = SiteZone::named("Europe/London").unwrap();
        // 2026-07-01 08:30 UTC is 09:30 in London (summer time).
        let expires = london.local(1_782_894_600_000);
        let body = text(&invitation, "https://hub.example/#/welcome/abc", expires);
        assert!(body.starts_with("Hello Ann Ash,\n"), "{body}");
        assert!(body.contains("your own attendance"));
        assert!(body.contains("Your user name: ann@pupils.example\n"));
        assert!(body.contains("\nhttps://hub.example/#/welcome/abc\n"));
        assert!(
            body.contains("until Wednesday 1 July 2026 at 09:30 (school time)"),
            "{body}"
        );
        assert_eq!(
            subject("Hill School"),
            "Your Rollcall account at Hill School"
        );
    }
}
