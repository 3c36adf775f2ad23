//! `user add`, `user list` and `user reset-password`.

use crate::cli::UserCommand;
use crate::setup;

use super::password::read_password;
use super::target::store;

pub fn run(cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add {
            username,
            display_name,
            role,
            password_file,
            email,
            target,
        } => {
            let db = store(target)?.0;
            let password = read_password(password_file.as_deref(), "password: ")?;
            let shown = display_name.as_deref().unwrap_or(&username);
            let user = setup::add_user(&db, &username, shown, role, &password, email.as_deref())?;
            println!("{}  {} ({})", user.id, user.username, user.role.as_str());
        }
        UserCommand::List { target } => {
            for u in setup::list_users(&store(target)?.0)? {
                let email = u.email.as_deref().unwrap_or("");
                println!(
                    "{}  {:<20} {:<8} {email}",
                    u.id,
                    u.username,
                    u.role.as_str()
                );
            }
        }
        UserCommand::ResetPassword {
            username,
            password_file,
            target,
        } => {
            let db = store(target)?.0;
            let password = read_password(password_file.as_deref(), "new password: ")?;
            let user = setup::reset_password(&db, &username, &password)?;
            println!(
                "password of {} set; all their sign-ins ended",
                user.username
            );
        }
    }
    Ok(())
}
