-- A browser's session of one user is found by (browser, user): with the index on the browser
-- alone the planner could pick the user index instead and walk every session the user ever
-- had. The three-column index also serves lookups by browser alone.
DROP INDEX login_sessions_agent;
CREATE INDEX login_sessions_agent_user ON login_sessions (instance_id, user_agent_id, user_id);
