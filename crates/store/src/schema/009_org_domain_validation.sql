-- Domain validation of organisation domains: the pending check's type (1 HTTP, 2 DNS) and its
-- token (published by the organisation, so kept as is; cleared once verified).
ALTER TABLE org_domains ADD COLUMN validation_type BIGINT NOT NULL DEFAULT 0;
ALTER TABLE org_domains ADD COLUMN validation_code TEXT NOT NULL DEFAULT '';
