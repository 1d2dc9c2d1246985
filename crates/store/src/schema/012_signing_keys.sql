-- Token signing keys per instance: the private half sealed with the masterkey, the public
-- half as base64 SubjectPublicKeyInfo. Keys sign until private_expiry and are published until
-- public_expiry, so tokens signed late in a key's life still verify.
CREATE TABLE signing_keys (
    instance_id TEXT NOT NULL,
    id TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    private_key TEXT NOT NULL,
    public_key TEXT NOT NULL,
    private_expiry BIGINT NOT NULL,
    public_expiry BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (instance_id, id)
);
CREATE INDEX signing_keys_expiry ON signing_keys (instance_id, public_expiry);
