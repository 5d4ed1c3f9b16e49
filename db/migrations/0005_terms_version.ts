/**
 * Version 5: which analyzer made a memory's keyword terms (memories.terms_version, lib/text/terms.ts TERMS_VERSION).
 * When the analyzer changes what it stores, `sage serve` re-analyses older memories in the background
 * (lib/memory/maintenance.ts), so what was saved before matches queries made now. Rows saved before this column
 * existed are version 1.
 */
export const sql = `
ALTER TABLE memories ADD COLUMN terms_version smallint NOT NULL DEFAULT 1;
`;
