-- The instance's default domain policy (ZITADEL's DomainPolicy): login names carry the org domain.
ALTER TABLE instances ADD COLUMN user_login_must_be_domain BIGINT NOT NULL DEFAULT 0;
ALTER TABLE instances ADD COLUMN validate_org_domains BIGINT NOT NULL DEFAULT 0;
ALTER TABLE instances ADD COLUMN smtp_sender_matches_domain BIGINT NOT NULL DEFAULT 0;
