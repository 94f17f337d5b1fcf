-- Row-level security for minime on PostgreSQL: opt-in defence in depth (see README, "Privacy").
--
-- Every table of owned data gets a policy that shows and accepts only the rows of the account named
-- by the session setting `minime.account_id`; with the setting unset, a role subject to these
-- policies sees no rows at all. The table owner (the role that runs minime's migrations) is not
-- subject to them (no FORCE), so migrations, `minime keys rotate` and erasure keep working.
--
-- Apply as the owner of minime's tables, in minime's schema, after the migrations:
--
--     psql "postgresql://OWNER@HOST/DB" -c 'SET search_path TO minime' -f storage/rls.sql
--
-- then give a separate, non-owner role (reporting, support tools, another service) only what it
-- needs, and make it name one account per transaction:
--
--     CREATE ROLE minime_app LOGIN PASSWORD '...';            -- not the tables' owner
--     GRANT USAGE ON SCHEMA minime TO minime_app;
--     GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA minime TO minime_app;
--     GRANT USAGE ON ALL SEQUENCES IN SCHEMA minime TO minime_app;
--     -- per transaction, by the client:
--     SELECT set_config('minime.account_id', '<account id>', true);
--
-- Identity and link-code rows are readable without the setting: they map a platform user (or a
-- one-time code's hash) to an account, which is how a request finds its account in the first place;
-- they hold no message content. Delivery records may be written before their account is known.
--
-- Re-running the script is harmless (policies are dropped and re-created).

DO $$
DECLARE
    owned text[] := ARRAY[
        'personas', 'messages', 'vectors', 'drafts', 'approvals', 'feedback',
        'priority_labels', 'state', 'account_keys', 'identities', 'link_codes', 'deliveries',
        'persona_attributes', 'persona_bindings', 'persona_members', 'persona_invites',
        'persona_shares', 'consults'
    ];
    t text;
BEGIN
    FOREACH t IN ARRAY owned LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('DROP POLICY IF EXISTS minime_account ON %I', t);
        EXECUTE format(
            'CREATE POLICY minime_account ON %I '
            'USING (account_id = current_setting(''minime.account_id'', true)) '
            'WITH CHECK (account_id = current_setting(''minime.account_id'', true))',
            t
        );
    END LOOP;

    ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
    DROP POLICY IF EXISTS minime_account ON accounts;
    CREATE POLICY minime_account ON accounts
        USING (id = current_setting('minime.account_id', true))
        WITH CHECK (id = current_setting('minime.account_id', true));

    -- Finding the account of a platform identity / a link code, before any account is named.
    DROP POLICY IF EXISTS minime_lookup ON identities;
    CREATE POLICY minime_lookup ON identities FOR SELECT USING (true);
    DROP POLICY IF EXISTS minime_lookup ON link_codes;
    CREATE POLICY minime_lookup ON link_codes FOR SELECT USING (true);
    -- The roles a person holds on others' personas, and invitation codes (issue 17): ids only.
    DROP POLICY IF EXISTS minime_lookup ON persona_members;
    CREATE POLICY minime_lookup ON persona_members FOR SELECT USING (true);
    DROP POLICY IF EXISTS minime_lookup ON persona_invites;
    CREATE POLICY minime_lookup ON persona_invites FOR SELECT USING (true);
    -- A delivery may be recorded before its account exists.
    DROP POLICY IF EXISTS minime_unowned ON deliveries;
    CREATE POLICY minime_unowned ON deliveries FOR INSERT WITH CHECK (account_id IS NULL);
END
$$;
