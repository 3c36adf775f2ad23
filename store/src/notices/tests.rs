use super::*;
use crate::engines::each;

fn student(sql: &dyn Sql) -> StudentId {
    let id = StudentId::random();
    sql.execute(
        "INSERT INTO students (id, name, created_at) VALUES (?1, 'Ada Lovelace', 0)",
        params![id.to_string()],
    )
    .unwrap();
    id
}

fn message<'a>(student: StudentId, day: NaiveDate, channel: &'a str) -> NewMessage<'a> {
    NewMessage {
        student,
        day,
        kind: "absence",
        contact: 1,
        guardian: "Mary",
        channel,
        address: "mary@family.test",
        subject: Some("Ada is not in school today"),
        body: "Tell us: {reply_link}",
        at: UnixMillis(1_000),
    }
}

#[test]
fn a_notice_is_opened_once_its_messages_go_once_and_its_reply_is_decided_once() {
    each(|db| {
        let day: NaiveDate = "2026-11-23".parse().unwrap();
        db.write_blocking(|sql| {
            let ada = student(sql);
            assert!(open(sql, ada, day, "en", UnixMillis(1_000))?);
            assert!(
                !open(sql, ada, day, "cy", UnixMillis(2_000))?,
                "once per absence"
            );
            assert!(add(sql, &message(ada, day, "email"))?);
            assert!(!add(sql, &message(ada, day, "email"))?, "once per channel");
            assert!(add(sql, &message(ada, day, "sms"))?);

            let due_now = due(sql, UnixMillis(1_000), 10)?;
            assert_eq!(due_now.len(), 2);
            let (email, sms) = (due_now[0].id, due_now[1].id);
            sent(sql, email, UnixMillis(1_100))?;
            retry(sql, sms, UnixMillis(61_000), "the SMS gateway answered 500")?;
            assert!(
                due(sql, UnixMillis(60_000), 10)?.is_empty(),
                "waits its turn"
            );
            assert_eq!(due(sql, UnixMillis(61_000), 10)?.len(), 1);
            failed(sql, sms, "the SMS gateway answered 500")?;
            sent(sql, sms, UnixMillis(62_000))?;
            let all = messages(sql, ada, day)?;
            let status: Vec<(&str, u32)> =
                all.iter().map(|m| (m.status.as_str(), m.tries)).collect();
            assert_eq!(
                status,
                [("sent", 1), ("failed", 2)],
                "a failed one stays failed"
            );

            let reply = Reply {
                reason: "ill".into(),
                note: Some("a fever".into()),
                replied_at: UnixMillis(3_000),
            };
            assert!(super::reply(sql, ada, day, &reply)?);
            assert!(!super::reply(sql, ada, day, &reply)?, "one reply");
            let decision = Decision {
                state: "accepted".into(),
                by: "tess".into(),
                at: UnixMillis(4_000),
                note: None,
            };
            assert!(decide(sql, ada, day, &decision)?);
            assert!(!decide(sql, ada, day, &decision)?, "decided once");
            let notice = get(sql, ada, day)?.unwrap();
            assert_eq!(
                (notice.reply, notice.decision),
                (Some(reply), Some(decision))
            );

            // An arrival gives up what has not gone yet.
            let mut note = message(ada, day, "sms");
            note.contact = 2;
            assert!(add(sql, &note)?);
            assert_eq!(
                cancel_pending(sql, ada, day, "absence", "not sent: arrived")?,
                1
            );
            assert!(due(sql, UnixMillis(i64::MAX), 10)?.is_empty());
            assert!(arrived(sql, ada, day, UnixMillis(5_000))?);
            assert!(
                !arrived(sql, ada, day, UnixMillis(6_000))?,
                "the first arrival stands"
            );

            assert_eq!(of_day(sql, day)?.len(), 1);
            assert_eq!(purge(sql, day)?, 0, "the day itself is kept");
            assert_eq!(purge(sql, day.succ_opt().unwrap())?, 1);
            assert!(
                messages(sql, ada, day)?.is_empty(),
                "its messages go with it"
            );
            Ok::<_, StoreError>(())
        })
        .unwrap();
    });
}
