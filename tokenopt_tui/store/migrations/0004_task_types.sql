-- Schema v4: the task type of each model call, for the dashboard's tokens per task type:
-- the classifier's type for a reply (chat, question, ops, analysis, coding, writing …),
-- 'compaction' for a summary. NULL for calls stored before v4.
-- sessions_created_at serves the history list and the per-day/week/month figures.

ALTER TABLE model_calls ADD COLUMN task_type TEXT;
CREATE INDEX sessions_created_at ON sessions(created_at);
