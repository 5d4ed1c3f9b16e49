/**
 * Version 3: finding a memory's neighbours (the previous and next memory of the same project and session) with
 * one index step each. Search gives neighbours of strong hits a share of their score (lib/memory/retrieval.ts).
 */
export const sql = `
CREATE INDEX memories_sequence_idx ON memories (project, (coalesce(session_id, '')), created_at, id);
`;
