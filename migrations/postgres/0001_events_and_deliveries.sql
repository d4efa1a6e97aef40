-- The live loop's store: events from CloudTalk, their decisions, and the
-- outbox of deliveries. Times are Unix milliseconds.

-- One row per (ruleset, call): the event as received, then its decision.
CREATE TABLE events (
    ruleset         TEXT    NOT NULL,
    call_id         TEXT    NOT NULL,
    -- The body CloudTalk sent, as received.
    body            TEXT    NOT NULL,
    received_at     BIGINT  NOT NULL,
    -- pending | decided | gave_up | unreadable
    state           TEXT    NOT NULL DEFAULT 'pending',
    -- Fetch attempts so far, when the next is due, and why the last failed.
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    last_error      TEXT,
    -- The replica working on it, until when.
    lease_owner     TEXT,
    lease_until     BIGINT,
    -- The combined CloudTalk record the decision was made on.
    record          TEXT,
    hash            TEXT,
    -- The decision as delivered (JSON), and the trace with --explain-store.
    decision        TEXT,
    trace           TEXT,
    decided_at      BIGINT,
    PRIMARY KEY (ruleset, call_id)
);
CREATE INDEX events_due ON events (state, next_attempt_at);
CREATE INDEX events_call ON events (call_id);

-- The outbox: one row per decision and target, delivered in `id` order
-- per target.
CREATE TABLE deliveries (
    id              BIGSERIAL PRIMARY KEY,
    ruleset         TEXT    NOT NULL,
    call_id         TEXT    NOT NULL,
    target          TEXT    NOT NULL,
    -- pending | delivered | failed
    state           TEXT    NOT NULL DEFAULT 'pending',
    attempts        BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    delivered_at    BIGINT,
    UNIQUE (ruleset, call_id, target)
);
CREATE INDEX deliveries_queue ON deliveries (target, state, id);
CREATE INDEX deliveries_state ON deliveries (state, created_at);

-- Which replica delivers to a target, until when: one at a time, so a
-- target gets its decisions in order.
CREATE TABLE target_leases (
    target TEXT    PRIMARY KEY,
    owner  TEXT    NOT NULL,
    until  BIGINT  NOT NULL
);
