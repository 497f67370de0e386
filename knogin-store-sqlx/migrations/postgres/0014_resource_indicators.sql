-- RFC 8707: the resource server a user's grant is for, when the authorization request named
-- one; the tokens issued from the code and its refresh tokens carry it as their audience.
ALTER TABLE authorization_codes ADD COLUMN resource TEXT;
ALTER TABLE refresh_tokens ADD COLUMN resource TEXT;
