-- Uploaded files: label policy logos, icons and fonts, user avatars. The upload command writes
-- the bytes in the transaction of the event that records their key, type and hash; removal
-- events delete them. Store keys are unique per upload, so a key is never reused.
CREATE TABLE assets (
    instance_id TEXT NOT NULL,
    -- The resource owner: an organisation, or the instance for its default label policy.
    owner TEXT NOT NULL,
    key TEXT NOT NULL,
    content_type TEXT NOT NULL,
    -- SHA-256 of the bytes, hex (the ETag).
    hash TEXT NOT NULL,
    size BIGINT NOT NULL,
    data {blob} NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (instance_id, owner, key)
);

-- The store keys of a label policy's files (JSON object slot -> key); label policies have a
-- preview row (kind 'label') and an active row (kind 'label_active').
ALTER TABLE policies ADD COLUMN assets TEXT NOT NULL DEFAULT '{}';

-- The store key of a human's avatar.
ALTER TABLE users ADD COLUMN avatar_key TEXT NOT NULL DEFAULT '';
