-- Chat leases live for the length of one update: no WAL for them, so taking and giving one back commits
-- without waiting for a disk flush. After a server crash the table comes back empty, which only means
-- that no chat is held (the leases would have run out anyway).
ALTER TABLE "session_leases" SET UNLOGGED;
