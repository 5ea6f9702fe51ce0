"""What each engine call does to a listener (adopt, create, update, refresh, release) on a small shared core:
reads, writes, waits, rollback, claims."""
