"""The worker process: printer polling, deferred jobs, schedules. No business logic here."""
