"""Running a sync against a MailerLite account and the store: the run, the sender, file imports, the
workspace (database, configuration, secrets, account) and the account checks the pages show."""
