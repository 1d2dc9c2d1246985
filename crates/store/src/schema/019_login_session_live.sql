-- A browser has at most one live session per user: the password check starts or refreshes it
-- with one upsert on this index. Duplicates (the old check-then-insert could race) are ended
-- first, keeping the most recently used one.
UPDATE login_sessions SET terminated_at = updated_at
WHERE terminated_at = 0 AND EXISTS (
    SELECT 1 FROM login_sessions b
    WHERE b.instance_id = login_sessions.instance_id
      AND b.user_agent_id = login_sessions.user_agent_id
      AND b.user_id = login_sessions.user_id
      AND b.terminated_at = 0
      AND (b.updated_at > login_sessions.updated_at
           OR (b.updated_at = login_sessions.updated_at AND b.id > login_sessions.id))
);
DROP INDEX login_sessions_agent_user;
CREATE UNIQUE INDEX login_sessions_live ON login_sessions (instance_id, user_agent_id, user_id) WHERE terminated_at = 0;
