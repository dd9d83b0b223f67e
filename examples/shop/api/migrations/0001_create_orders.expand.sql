CREATE TABLE IF NOT EXISTS orders (
    id uuid PRIMARY KEY,
    items jsonb NOT NULL,
    status text NOT NULL DEFAULT 'queued',
    total_cents integer,
    worked_by text,
    created_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz
);
