"""An aiosmtpd handler for the hub's e-mail tests: a Maildir, like aiosmtpd.handlers.Mailbox,
that refuses every message (554) while a file named `refuse` sits beside the Maildir."""

import os

from aiosmtpd.handlers import Mailbox


class Switchable(Mailbox):
    def __init__(self, mail_dir):
        super().__init__(mail_dir)
        self.switch = os.path.join(os.path.dirname(os.path.abspath(mail_dir)), "refuse")

    async def handle_DATA(self, server, session, envelope):
        if os.path.exists(self.switch):
            return "554 5.7.1 refused for the test"
        return await super().handle_DATA(server, session, envelope)
