-- viewgen: roles, privileges and Row Level Security for viewgen's tables.
--
-- Idempotent: run it again after every upgrade (the app does, once per version of this
-- file, through viewgen.store.postgres.apply_rls). Needs the tables (the app's
-- migrations or supabase/schema.sql create them) and an `auth.uid()` (Supabase's own,
-- or supabase/auth_standin.sql on a plain PostgreSQL).
--
-- Who is who:
--   authenticated   a member. viewgen's connection switches to it in every transaction
--                   on a member's behalf (SET LOCAL ROLE + request.jwt.claims.sub = the
--                   member's id), so the policies hold even if the app's own filtering
--                   had a bug. Members see and write only rows whose user_id is theirs.
--   viewgen_admin   an admin acting in the app: reads and writes every row. Only the
--                   app's login role can switch to it; Supabase's Data API cannot.
--   the login role  (postgres) owns the tables and bypasses RLS: used for sign-in,
--                   account creation, start-up reconciliation and migrations.
--   anon            nothing at all.

do $$ begin
  if not exists (select from pg_roles where rolname = 'viewgen_admin') then
    create role viewgen_admin nologin noinherit;
  end if;
exception when duplicate_object or unique_violation then null;  -- created meanwhile
end $$;

-- the app's login role must be able to SET ROLE to both (a superuser already can)
do $$
declare r text;
begin
  foreach r in array array['authenticated', 'viewgen_admin'] loop
    if not pg_has_role(current_user, r, 'MEMBER') then
      begin
        execute format('grant %I to %I', r, current_user);
      exception when insufficient_privilege then
        raise warning 'viewgen: % cannot be granted to %; run "grant % to %" as an owner',
          r, current_user, r, current_user;
      end;
    end if;
  end loop;
end $$;

do $$ begin
  execute format('grant usage on schema %I to authenticated, viewgen_admin', current_schema());
exception when insufficient_privilege then
  null;  -- not the schema's owner: PostgreSQL's default (usage for everyone) must do
end $$;

-- privileges: exactly what the app does on a member's behalf, nothing for anon
revoke all on table users, projects, product_view_approvals, view_revision_history,
  revisions, credit_ledger, generation_calls, schema_migrations, sessions
  from anon, authenticated;

grant select on table users to authenticated;
-- a member may rename themselves, never change their role (and FOR UPDATE needs one column)
grant update (display_name, updated_at) on table users to authenticated;
grant select, insert, update on table projects, product_view_approvals to authenticated;
grant select, insert on table view_revision_history, revisions, generation_calls
  to authenticated;
grant select, insert on table credit_ledger to authenticated;
-- approval_id: a batch row's reservation, made when the batch starts, is attached to the
-- product the row creates (credits.attach), still open
grant update (state, approval_id, updated_at) on table credit_ledger to authenticated;

grant select, insert, update, delete on table users, projects, product_view_approvals,
  view_revision_history, revisions, credit_ledger, generation_calls to viewgen_admin;

do $$
declare t text; s text;
begin
  foreach t in array array['view_revision_history', 'revisions', 'credit_ledger',
                           'generation_calls'] loop
    s := pg_get_serial_sequence(t, 'id');
    if s is not null then
      execute format('grant usage on sequence %s to authenticated, viewgen_admin', s);
    end if;
  end loop;
end $$;

-- Row Level Security on every table (schema_migrations and sessions: owner only, no
-- policies; the app reaches sessions only as its login role, for sign-in and sign-out)
alter table users enable row level security;
alter table projects enable row level security;
alter table product_view_approvals enable row level security;
alter table view_revision_history enable row level security;
alter table revisions enable row level security;
alter table credit_ledger enable row level security;
alter table generation_calls enable row level security;
alter table schema_migrations enable row level security;
alter table sessions enable row level security;

-- users: a member sees and renames only themselves
drop policy if exists viewgen_member_select on users;
create policy viewgen_member_select on users for select to authenticated
  using (id = (select auth.uid())::text);
drop policy if exists viewgen_member_update on users;
create policy viewgen_member_update on users for update to authenticated
  using (id = (select auth.uid())::text) with check (id = (select auth.uid())::text);
drop policy if exists viewgen_admin_all on users;
create policy viewgen_admin_all on users for all to viewgen_admin using (true) with check (true);

-- A key a member may store in a row: under their own prefix ("<user id>/..."), never
-- climbing out of it. Rows hold keys of private images; a retry reads the image a key
-- names and sends it to the image provider, so a key pointing at another member's
-- photo must never get into a member's row.
create or replace function viewgen_own_key(k text) returns boolean
  language sql stable
  set search_path = pg_catalog, public
as $$
  select k is null
      or (starts_with(k, (select auth.uid())::text || '/') and strpos(k, '..') = 0
          and strpos(k, '\') = 0)
$$;
grant execute on function viewgen_own_key(text) to authenticated, viewgen_admin;

-- the member's own rows, for the commands their privileges allow. USING decides what a
-- member sees and may change; WITH CHECK what a written row may say: their user_id, a
-- parent (project, approval) that is theirs too, and only keys under their prefix.
do $$
declare t text; own text := 'user_id = (select auth.uid())::text';
begin
  foreach t in array array['projects', 'product_view_approvals', 'view_revision_history',
                           'revisions', 'generation_calls'] loop
    execute format('drop policy if exists viewgen_member_own on %I', t);
    execute format('drop policy if exists viewgen_admin_all on %I', t);
    execute format(
      'create policy viewgen_admin_all on %I for all to viewgen_admin '
      'using (true) with check (true)', t);
  end loop;
  execute 'create policy viewgen_member_own on projects for all to authenticated '
          'using (' || own || ') with check (' || own || ')';
  execute 'create policy viewgen_member_own on product_view_approvals for all '
          'to authenticated using (' || own || ') with check (' || own || $sql$
            and exists (select 1 from projects p
                        where p.id = product_view_approvals.project_id
                          and p.user_id = (select auth.uid())::text)
            and viewgen_own_key(reference_key) and viewgen_own_key(logo_key)
            and viewgen_own_key(front_key) and viewgen_own_key(back_key)
            and viewgen_own_key(side_key) and viewgen_own_key(top_key)
            and viewgen_own_key(bottom_key))$sql$;
  execute 'create policy viewgen_member_own on view_revision_history for all '
          'to authenticated using (' || own || ') with check (' || own || $sql$
            and exists (select 1 from product_view_approvals a
                        where a.id = view_revision_history.approval_id
                          and a.user_id = (select auth.uid())::text)
            and viewgen_own_key(image_key))$sql$;
  execute 'create policy viewgen_member_own on revisions for all '
          'to authenticated using (' || own || ') with check (' || own || $sql$
            and exists (select 1 from projects p
                        where p.id = revisions.project_id
                          and p.user_id = (select auth.uid())::text)
            and (revisions.approval_id is null
                 or exists (select 1 from product_view_approvals a
                            where a.id = revisions.approval_id
                              and a.project_id = revisions.project_id
                              and a.user_id = (select auth.uid())::text))
            and (jsonb_typeof(revisions.image_data::jsonb) <> 'object'
                 or not exists (select 1 from jsonb_each(revisions.image_data::jsonb) e
                                where jsonb_typeof(e.value) = 'object'
                                  and not viewgen_own_key(e.value ->> 'key'))))$sql$;
  execute 'create policy viewgen_member_own on generation_calls for all '
          'to authenticated using (' || own || ') with check (' || own || $sql$
            and (generation_calls.approval_id is null
                 or exists (select 1 from product_view_approvals a
                            where a.id = generation_calls.approval_id
                              and a.user_id = (select auth.uid())::text)))$sql$;
end $$;

-- the ledger: a member reserves (never grants) and settles only an open reservation
drop policy if exists viewgen_member_select on credit_ledger;
create policy viewgen_member_select on credit_ledger for select to authenticated
  using (user_id = (select auth.uid())::text);
drop policy if exists viewgen_member_reserve on credit_ledger;
create policy viewgen_member_reserve on credit_ledger for insert to authenticated
  with check (user_id = (select auth.uid())::text and state = 'reserved'
              and (approval_id is null
                   or exists (select 1 from product_view_approvals a
                              where a.id = credit_ledger.approval_id
                                and a.user_id = (select auth.uid())::text)));
drop policy if exists viewgen_member_settle on credit_ledger;
create policy viewgen_member_settle on credit_ledger for update to authenticated
  using (user_id = (select auth.uid())::text and state = 'reserved')
  with check (user_id = (select auth.uid())::text
              and state in ('reserved', 'committed', 'refunded'));
drop policy if exists viewgen_admin_all on credit_ledger;
create policy viewgen_admin_all on credit_ledger for all to viewgen_admin
  using (true) with check (true);

-- durable jobs (migration 0004): a member's own batches and rows; executors' heartbeats
-- are the app's own (login role), readable by admins for the queue panel
revoke all on table batches, batch_rows, workers from anon, authenticated;
grant select, insert, update on table batches, batch_rows to authenticated;
grant select, insert, update, delete on table batches, batch_rows to viewgen_admin;
grant select on table workers to viewgen_admin;
do $$
declare s text;
begin
  s := pg_get_serial_sequence('batch_rows', 'id');
  if s is not null then
    execute format('grant usage on sequence %s to authenticated, viewgen_admin', s);
  end if;
end $$;
alter table batches enable row level security;
alter table batch_rows enable row level security;
alter table workers enable row level security;
drop policy if exists viewgen_member_own on batches;
create policy viewgen_member_own on batches for all to authenticated
  using (user_id = (select auth.uid())::text) with check (user_id = (select auth.uid())::text);
drop policy if exists viewgen_admin_all on batches;
create policy viewgen_admin_all on batches for all to viewgen_admin using (true) with check (true);
-- a row belongs to its batch's owner: the batch must be theirs too
drop policy if exists viewgen_member_own on batch_rows;
create policy viewgen_member_own on batch_rows for all to authenticated
  using (user_id = (select auth.uid())::text)
  with check (user_id = (select auth.uid())::text and exists (
    select 1 from batches b where b.id = batch_id and b.user_id = (select auth.uid())::text));
drop policy if exists viewgen_admin_all on batch_rows;
create policy viewgen_admin_all on batch_rows for all to viewgen_admin using (true) with check (true);
drop policy if exists viewgen_admin_read on workers;
create policy viewgen_admin_read on workers for select to viewgen_admin using (true);

-- api_tokens (HTTP API bearer tokens, migration 0005_api_tokens): a member lists, creates,
-- renames and revokes their own tokens (the UI's account panel); nobody may delete one,
-- so a revoked token stays listed. Looking a token up by its hash for a request happens
-- as the login role, before anyone is known (like sign-in), so members need no access
-- to other rows.
revoke all on table api_tokens from anon, authenticated;
grant select, insert on table api_tokens to authenticated;
grant update (name, revoked_at, last_used_at) on table api_tokens to authenticated;
grant select, insert, update on table api_tokens to viewgen_admin;
alter table api_tokens enable row level security;
drop policy if exists viewgen_member_own on api_tokens;
create policy viewgen_member_own on api_tokens for all to authenticated
  using (user_id = (select auth.uid())::text)
  with check (user_id = (select auth.uid())::text);
drop policy if exists viewgen_admin_all on api_tokens;
create policy viewgen_admin_all on api_tokens for all to viewgen_admin
  using (true) with check (true);

-- api_rate_limits (the HTTP API's per-token request counter, migration 0008): read and
-- written on every API request by the login role, in the transaction that looks the
-- token up, before anyone is known. Nobody else has any business with it: RLS on and
-- no policy, so neither members, admins nor the Data API see or change a row.
revoke all on table api_rate_limits from anon, authenticated, viewgen_admin;
alter table api_rate_limits enable row level security;
