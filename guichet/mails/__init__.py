"""The mails the platform sends: one catalogue of kinds, rendered at delivery time from every app's
records (it sits above the apps; `guichet.notifications` below them only queues)."""
