-- Evothesis.Collector PostgreSQL schema, for teams that run their own migrations
-- (Evothesis:PostgreSql:CreateSchema = false). With the defaults (schema "public", tables "events" and
-- "audit_log") this is exactly what the collector runs at start; every statement is idempotent.
-- The collector checks this file against its own DDL in its tests.

-- Checked first so that an existing schema needs no CREATE privilege on the database.
DO $$
BEGIN
    IF to_regnamespace('"public"') IS NULL THEN
        CREATE SCHEMA "public";
    END IF;
END
$$;

-- One row per stored event. Partitioned by the server's receive time, one partition per UTC day:
-- queries on recent data touch few partitions, and old data is dropped a partition at a time.
CREATE TABLE IF NOT EXISTS "public"."events" (
    id               uuid        NOT NULL, -- server-assigned UUIDv7, stable across batch retries
    event_id         text,                 -- client-assigned, identifies client retries
    client_id        text        NOT NULL,
    site_id          text        NOT NULL, -- the authorized domain
    session_id       text,
    event_type       text        NOT NULL,
    event_time       timestamptz NOT NULL, -- client time, corrected for clock skew
    client_timestamp text,                 -- the timestamp exactly as sent
    received_at      timestamptz NOT NULL,
    page_data        jsonb,
    event_data       jsonb,
    custom_data      jsonb,                -- top-level fields the wire contract does not name
    consent          jsonb,
    ip               text,                 -- as the client's privacy rules allow: address, keyed hash or null
    user_agent       text,
    CONSTRAINT "events_pkey" PRIMARY KEY (received_at, id)
) PARTITION BY RANGE (received_at);

CREATE INDEX IF NOT EXISTS "events_client_id_received_at_idx"
    ON "public"."events" (client_id, received_at);

-- What HIPAA clients' accepted requests did, without any values.
CREATE TABLE IF NOT EXISTS "public"."audit_log" (
    id          uuid        NOT NULL PRIMARY KEY,
    received_at timestamptz NOT NULL,
    client_id   text        NOT NULL,
    site_id     text        NOT NULL,
    request_id  text,
    event_count integer     NOT NULL,
    event_types jsonb       NOT NULL, -- accepted events per event type
    ip_hash     text,
    redactions  text[]      NOT NULL  -- rule:location, such as email:event_data.message
);

CREATE INDEX IF NOT EXISTS "audit_log_client_id_received_at_idx"
    ON "public"."audit_log" (client_id, received_at);


-- Daily partitions, one per UTC day of received_at. The collector creates them ahead (today plus
-- Evothesis:PostgreSql:PartitionsAhead days, checked every hour, and on demand for a day a batch needs) unless
-- Evothesis:PostgreSql:ManagePartitions = false. Whoever creates them must also create the unique index: it is
-- what makes a client's retry of the same eventId (same client, same UTC day) store one row.
-- Template, for 2026-11-26:
/*
CREATE TABLE IF NOT EXISTS "public"."events_p20261126" PARTITION OF "public"."events"
    FOR VALUES FROM ('2026-11-26 00:00:00+00') TO ('2026-11-27 00:00:00+00');
CREATE UNIQUE INDEX IF NOT EXISTS "events_p20261126_event_id_key"
    ON "public"."events_p20261126" (event_id, client_id) WHERE event_id IS NOT NULL;
*/

-- Old data goes a day at a time, without touching the rest:
--   DROP TABLE "public"."events_p20261126";
