-- Schema v6: a model call's row is written when the request is sent ("in flight") and
-- settled when it ends, so a call whose process was killed or timed out is still
-- charged: its row holds the prompt estimate plus what had streamed at the last flush.
-- Rows written before v6 were all settled (in_flight 0).

ALTER TABLE model_calls ADD COLUMN in_flight INTEGER NOT NULL DEFAULT 0;
