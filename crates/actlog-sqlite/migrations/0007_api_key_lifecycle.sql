-- API keys' lifecycle: when a server last found a key (to within a minute) and when it stops
-- working, both Unix seconds.
ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
