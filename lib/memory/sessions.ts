/**
 * Sessions: groups of memories, one per conversation. The MCP server has a current session (created on its first
 * save, or chosen with manage_session); saves default to it.
 */
import {
  ensureSession,
  findSessionsByName,
  getSession,
  listSessions as listRows,
  sessionKinds,
} from "../db/repos/sessions.ts";
import { invalid, SageError } from "../errors.ts";
import { sanitize } from "../text/privacy.ts";
import type { Session } from "../types.ts";
import type { Core } from "./core.ts";
import { checkBool, checkLimit, checkSessionId, checkText } from "./validate.ts";

export interface SessionRef {
  id?: unknown;
  name?: unknown;
  /** The project the session belongs to: the current one unless named. */
  project?: unknown;
}

export type SessionInfo = Session & {
  kinds: Record<string, number>;
  first_memory_at: string | null;
  last_memory_at: string | null;
};

export async function createSession(
  core: Core,
  input: { id?: unknown; name?: unknown; project?: unknown },
): Promise<Session> {
  const id = input.id === undefined ? crypto.randomUUID() : checkSessionId(input.id, "id");
  const name = input.name === undefined || input.name === null
    ? null
    : sanitize(checkText("name", input.name, 200)).text.trim() || null;
  const project = core.scope.projectOf(input.project);
  if (await core.db((db) => getSession(db, id))) {
    throw new SageError("conflict", `session ${id} already exists`, "Use action switch to make it current.");
  }
  await core.db((db) => ensureSession(db, { id, project, name }));
  core.scope.session = id;
  return { ...(await core.db((db) => getSession(db, id)))!, current: true };
}

export async function switchSession(core: Core, input: SessionRef): Promise<Session> {
  const s = await findSession(core, input);
  core.scope.session = s.id;
  return { ...s, current: true };
}

export async function sessionInfo(core: Core, input: SessionRef): Promise<SessionInfo> {
  const named = input.id !== undefined || input.name !== undefined;
  if (!named && !core.scope.session) throw invalid("there is no current session yet; give an id, or create one");
  // The current session is whichever was made current, in whatever project.
  const s = await findSession(core, named ? input : { id: core.scope.session }, !named);
  const stats = await core.db((db) => sessionKinds(db, s.id));
  const kinds: Record<string, number> = {};
  for (const r of stats) kinds[r.kind] = r.n;
  const firsts = stats.map((r) => r.first).sort();
  const lasts = stats.map((r) => r.last).sort();
  return {
    ...s,
    current: s.id === core.scope.session,
    kinds,
    first_memory_at: firsts[0] ?? null,
    last_memory_at: lasts[lasts.length - 1] ?? null,
  };
}

export async function listSessions(
  core: Core,
  input: { project?: unknown; all_projects?: unknown; limit?: unknown },
): Promise<Session[]> {
  const limit = checkLimit(input.limit, 20, 200);
  const project = checkBool("all_projects", input.all_projects) ? null : core.scope.projectOf(input.project);
  const list = await core.db((db) => listRows(db, project, limit));
  return list.map((s) => ({ ...s, current: s.id === core.scope.session }));
}

/** A session by id or name, of the current project or the one named (`anyProject`: the current session's own). */
async function findSession(core: Core, input: SessionRef, anyProject = false): Promise<Session> {
  const project = core.scope.projectOf(input.project);
  if (input.id !== undefined && input.id !== null) {
    const id = checkSessionId(input.id, "id");
    const s = await core.db((db) => getSession(db, id));
    if (!s || (!anyProject && s.project !== project)) {
      throw new SageError(
        "not_found",
        `no session with id ${id} in project ${project}`,
        "manage_session with action list shows the sessions; to use another project's session, name its project.",
      );
    }
    return s;
  }
  if (input.name === undefined || input.name === null) throw invalid("give the session's id or name");
  const name = checkText("name", input.name, 200).trim();
  const found = await core.db((db) => findSessionsByName(db, project, name));
  if (!found.length) throw new SageError("not_found", `no session named "${name}" in project ${project}`);
  return found[0]; // the most recently used of that name
}

/** The session a save goes to: given, none (null), or the current one (started on first use by the server). */
export async function sessionFor(core: Core, value: unknown): Promise<string | null> {
  if (value === null) return null;
  if (value !== undefined) return checkSessionId(value);
  const scope = core.scope;
  if (!scope.session && scope.autoSession) {
    const name = `session ${new Date().toISOString().slice(0, 16).replace("T", " ")}`;
    const id = crypto.randomUUID();
    scope.session = id;
    await core.db((db) => ensureSession(db, { id, project: scope.project, name }));
  }
  return scope.session;
}
