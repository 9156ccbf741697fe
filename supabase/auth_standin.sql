-- viewgen: a minimal stand-in for Supabase's `auth` schema and API roles, for a plain
-- PostgreSQL server (self-hosted deployments and the test suite).
--
-- NEVER run this on a Supabase project: there, Supabase owns the `auth` schema and the
-- roles already exist. `viewgen.store.postgres.apply_rls` runs it only when the
-- database has no `auth.uid()` function.
--
-- auth.uid() and auth.jwt() read the request's claims exactly as Supabase defines them:
-- PostgREST (and viewgen's own connection, per transaction) sets `request.jwt.claims`
-- to the JSON claims of the signed-in user, whose `sub` is the user's id.

do $$
declare r text;
begin
  foreach r in array array['anon', 'authenticated'] loop
    if not exists (select from pg_roles where rolname = r) then
      execute format('create role %I nologin noinherit', r);
    end if;
  end loop;
exception when duplicate_object or unique_violation then null;  -- created meanwhile
end $$;

create schema if not exists auth;

create or replace function auth.uid() returns uuid
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

create or replace function auth.role() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

grant usage on schema auth to anon, authenticated;
