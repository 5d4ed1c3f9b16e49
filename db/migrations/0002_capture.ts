/**
 * Version 2: automatic capture from Claude Code hooks.
 *
 * - capture_progress: how far each session's transcript has been read, so a Stop hook parses only what is new.
 *   Losing it is harmless: turns are keyed by their uuid (below), so re-reading stores nothing twice.
 * - memories_turn_key: one memory per Claude Code turn (metadata.turn_uuid) per project. A turn saved while
 *   still running (PreCompact, SessionEnd) is updated in place when it completes, never stored twice.
 */
export const sql = `
CREATE TABLE capture_progress (
  session_id   text NOT NULL,
  transcript   text NOT NULL,
  byte_offset  bigint NOT NULL CHECK (byte_offset >= 0),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (session_id, transcript)
);

CREATE UNIQUE INDEX memories_turn_key ON memories (project, (metadata->>'turn_uuid'))
  WHERE metadata ? 'turn_uuid';
`;
