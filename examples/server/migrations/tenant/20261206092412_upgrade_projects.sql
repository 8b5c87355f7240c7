-- Projects: brought to the current table shape by `scaffold upgrade`.
ALTER TABLE projects ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
