import { z } from "zod";
import { formatSession, formatSessions } from "../../format.ts";
import { allProjects, project, sessionResult } from "../schemas.ts";
import { defineTool } from "../tool.ts";

export const manageSession = defineTool({
  name: "manage_session",
  title: "Manage sessions",
  description:
    "Sessions group memories (one per conversation). create: start a new session and make it current; switch: make an existing one current (by id or name); info: details of a session (default: current); list: recent sessions of the project. switch and info find sessions of the current project, or of the project given.",
  input: {
    action: z.enum(["create", "switch", "info", "list"]),
    id: z.string().optional().describe("Session id (switch, info; optional for create)."),
    name: z.string().optional().describe("Session name (create, or switch/info by name)."),
    project: project.describe(
      "create: the new session's project; switch, info: the project the session belongs to; list: whose sessions (default: the current project).",
    ),
    all_projects: allProjects.describe("list: sessions of every project."),
    limit: z.number().int().optional().describe("list: how many, 1–200 (default 20)."),
  },
  output: sessionResult,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async run(service, args) {
    switch (args.action) {
      case "create": {
        const s = await service.createSession(args);
        return { text: `Created and switched to ${formatSession(s)}`, data: s };
      }
      case "switch": {
        const s = await service.switchSession(args);
        return { text: `Switched to ${formatSession(s)}`, data: s };
      }
      case "info": {
        const s = await service.sessionInfo(args);
        return { text: formatSession(s), data: s };
      }
      case "list": {
        const sessions = await service.listSessions(args);
        return { text: formatSessions(sessions), data: { sessions } };
      }
    }
  },
});
