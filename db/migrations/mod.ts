/**
 * Every schema migration, in order. Each is applied once and recorded in sage.schema_migrations; the pending ones
 * run together in one transaction (lib/db/migrate.ts). Never edit one that has shipped: add the next version.
 */
import { sql as v1 } from "./0001_init.ts";
import { sql as v2 } from "./0002_capture.ts";
import { sql as v3 } from "./0003_neighbours.ts";
import { sql as v4 } from "./0004_recall.ts";
import { sql as v5 } from "./0005_terms_version.ts";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "init", sql: v1 },
  { version: 2, name: "capture", sql: v2 },
  { version: 3, name: "neighbours", sql: v3 },
  { version: 4, name: "recall", sql: v4 },
  { version: 5, name: "terms_version", sql: v5 },
];
