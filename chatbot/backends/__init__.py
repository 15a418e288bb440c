"Where state lives: queues, user state and the request log, each SQLite on one machine or Azure Storage at scale."
