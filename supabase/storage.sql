-- viewgen: Supabase Storage buckets and their policies (Supabase projects only).
--
-- Three private buckets: `images` (generated views), `uploads` (reference photos and
-- logos), `products` (exported bundles). Objects are keyed `{user id}/{approval id}/...`.
-- The app's server reads and writes with the service_role key (SUPABASE_KEY), which
-- Storage lets through; these policies are for anything else holding a member's token:
-- a member may touch only objects whose first path segment is their own user id.
-- Nothing is public: images are shown through signed URLs minted when shown.

insert into storage.buckets (id, name, public)
values ('images', 'images', false), ('uploads', 'uploads', false),
       ('products', 'products', false)
on conflict (id) do update set public = false;

drop policy if exists "viewgen members read own objects" on storage.objects;
create policy "viewgen members read own objects" on storage.objects
  for select to authenticated
  using (bucket_id in ('images', 'uploads', 'products')
         and (storage.foldername(name))[1] = (select auth.uid())::text);

drop policy if exists "viewgen members add own objects" on storage.objects;
create policy "viewgen members add own objects" on storage.objects
  for insert to authenticated
  with check (bucket_id in ('images', 'uploads', 'products')
              and (storage.foldername(name))[1] = (select auth.uid())::text);

drop policy if exists "viewgen members change own objects" on storage.objects;
create policy "viewgen members change own objects" on storage.objects
  for update to authenticated
  using (bucket_id in ('images', 'uploads', 'products')
         and (storage.foldername(name))[1] = (select auth.uid())::text)
  with check (bucket_id in ('images', 'uploads', 'products')
              and (storage.foldername(name))[1] = (select auth.uid())::text);

drop policy if exists "viewgen members remove own objects" on storage.objects;
create policy "viewgen members remove own objects" on storage.objects
  for delete to authenticated
  using (bucket_id in ('images', 'uploads', 'products')
         and (storage.foldername(name))[1] = (select auth.uid())::text);
