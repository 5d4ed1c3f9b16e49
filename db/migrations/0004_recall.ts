/**
 * Version 4: memory users can trust in front of Claude.
 *
 * - memories.superseded_by: a newer memory that restates the same subject with a new value (explicit `supersedes`
 *   on save or update, or the conservative automatic rule of lib/memory/supersede.ts). Search ranks the older one
 *   below its successor; the hook, get_context and the digest show the newest and leave the older out or mark it.
 * - injections: what the Claude Code hooks already put in front of Claude, per Claude Code session (the hooks are
 *   separate processes, so the ledger lives here). A memory is injected once per session; the ledger of a session
 *   is cleared when its context is compacted or cleared (SessionStart with source compact / clear).
 */
export const sql = `
ALTER TABLE memories ADD COLUMN superseded_by bigint REFERENCES memories (id) ON DELETE SET NULL;
CREATE INDEX memories_superseded_by_idx ON memories (superseded_by) WHERE superseded_by IS NOT NULL;

CREATE TABLE injections (
  session_id   text NOT NULL CHECK (length(session_id) BETWEEN 1 AND 200),
  memory_id    bigint NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
  source       text NOT NULL,
  injected_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (session_id, memory_id)
);
CREATE INDEX injections_injected_at_idx ON injections (injected_at);
`;
