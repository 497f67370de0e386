-- A remembered consent is keyed by client, tenant and subject: a subject means someone only
-- within a tenant. Existing consents take their app's tenant.
ALTER TABLE consents ADD COLUMN tenant_id TEXT;
UPDATE consents c SET tenant_id = a.tenant_id FROM apps a WHERE a.client_id = c.client_id;
ALTER TABLE consents ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE consents DROP CONSTRAINT consents_pkey;
ALTER TABLE consents ADD PRIMARY KEY (client_id, tenant_id, subject);
