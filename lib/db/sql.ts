/**
 * Small pieces of SQL text every repository shares: timestamps as exact text, literals, the memory column list, and
 * search filters as a WHERE clause.
 */
import type { SearchFilters } from "../types.ts";

/** Timestamps as text with microseconds: what the database holds, exactly (JS Date would drop µs). */
const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;
export const isoOf = (col: string): string => `to_char(${col} AT TIME ZONE 'UTC', ${ISO})`;

/** A memory row as the Memory type (lib/types.ts), from alias `m`. */
export const MEMORY_COLUMNS = `m.id, m.project, m.session_id AS session, m.kind, m.content, m.tags, m.metadata,
  ${isoOf("m.created_at")} AS created_at, ${isoOf("m.updated_at")} AS updated_at, m.superseded_by`;

/** A string as an SQL literal (for our own strings inlined where the planner must see them, e.g. a model key). */
export function sqlLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A keyword term as a tsquery operand; quoting keeps punctuation-free terms literal. */
export function tsqueryTerm(term: string): string {
  return `'${term.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

/** SQL conditions (joined with AND, never empty) for search filters on alias `m`; appends to `params`. */
export function filterSql(f: SearchFilters, params: unknown[], alias = "m"): string {
  const conds: string[] = ["TRUE"];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (f.project !== null) conds.push(`${alias}.project = ${p(f.project)}`);
  if (f.session) conds.push(`${alias}.session_id = ${p(f.session)}`);
  if (f.excludeSession) conds.push(`${alias}.session_id IS DISTINCT FROM ${p(f.excludeSession)}`);
  if (f.tags?.length) conds.push(`${alias}.tags @> ${p(f.tags)}::text[]`);
  if (f.kinds?.length) conds.push(`${alias}.kind = ANY(${p(f.kinds)}::text[])`);
  if (f.after) conds.push(`${alias}.created_at >= ${p(f.after.toISOString())}::timestamptz`);
  if (f.before) conds.push(`${alias}.created_at < ${p(f.before.toISOString())}::timestamptz`);
  return conds.join(" AND ");
}
