-- Trusted domains of an instance: further hosts the instance answers for in links and redirects.
CREATE TABLE instance_trusted_domains (
    instance_id TEXT NOT NULL,
    domain TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (instance_id, domain)
);

-- The instance's default language (the only one with texts today is English).
ALTER TABLE instances ADD COLUMN default_language TEXT NOT NULL DEFAULT 'en';
