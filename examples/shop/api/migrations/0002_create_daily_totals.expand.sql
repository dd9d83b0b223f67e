CREATE TABLE IF NOT EXISTS daily_totals (
    day date PRIMARY KEY,
    orders integer NOT NULL,
    total_cents bigint NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now()
);
