-- A remembered consent is keyed by client, tenant and subject: a subject means someone only
-- within a tenant. Existing consents take their app's tenant.
CREATE TABLE consents_by_tenant (
    client_id  TEXT NOT NULL REFERENCES apps (client_id) ON DELETE CASCADE,
    tenant_id  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, tenant_id, subject)
);
INSERT INTO consents_by_tenant (client_id, tenant_id, subject, scopes, granted_at)
    SELECT c.client_id, a.tenant_id, c.subject, c.scopes, c.granted_at
    FROM consents c JOIN apps a ON a.client_id = c.client_id;
DROP TABLE consents;
ALTER TABLE consents_by_tenant RENAME TO consents;
