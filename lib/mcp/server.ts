/**
 * The MCP edge: tools, prompts and resources over the memory service. It declares schemas (types) and wording
 * for the model, calls the service, and turns results into readable text plus structured content. Values are
 * checked again by the service, so every edge rejects the same bad input with the same message.
 */
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/server/mcp.d.ts"
import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { describeError, SageError } from "../errors.ts";
import { log } from "../log.ts";
import { KINDS } from "../memory/types.ts";
import type { MemoryService } from "../memory/service.ts";
import { formatHits, formatMemory, formatSave, formatSession, formatSessions, formatStatus } from "../memory/format.ts";
import { VERSION } from "../version.ts";

const INSTRUCTIONS = `Sage is long-term memory that persists across Claude Code sessions, scoped to the current project.
- Before starting work on a topic, call get_context (or search_memory) to recall earlier decisions, preferences and findings.
- Save what a future session would want to know with save_memory: decisions and their reasons (kind "decision"), user preferences ("preference"), facts about the project ("fact"), open work ("task"). One self-contained idea per memory.
- Cite memories you rely on as [memory:ID].`;

/** Arguments of a tool, typed from its zod shape (the SDK's own inference is lost under Deno's type resolution). */
type Args<S extends z.ZodRawShape> = z.infer<z.ZodObject<S>>;

type Content = {
  content: { type: "text"; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
};

/** Runs a tool body; any error becomes an MCP tool error with the user-facing message (the server keeps running). */
async function run(
  name: string,
  body: () => Promise<{ text: string; data?: unknown }>,
): Promise<Content> {
  try {
    const { text, data } = await body();
    const out: Content = { content: [{ type: "text", text }] };
    if (data !== undefined) {
      out.structuredContent = data as Record<string, unknown>;
    }
    return out;
  } catch (err) {
    if (!(err instanceof SageError) || err.code === "internal") {
      log.error(`tool ${name} failed`, { error: String(err) });
    }
    return {
      content: [{ type: "text", text: `Error: ${describeError(err)}` }],
      isError: true,
    };
  }
}

// Shared argument shapes: types here, ranges and rules enforced (and explained) by the service.
const project = z.string().optional().describe(
  "Project to use instead of the current one (a repository path).",
);
const allProjects = z.boolean().optional().describe(
  "Search every project instead of only the current one.",
);
const session = z.string().optional().describe(
  "Only memories from this session id.",
);
const tags = z.array(z.string()).optional().describe(
  "Only memories carrying all of these tags.",
);
const kinds = z.array(z.string()).optional().describe(
  `Only these kinds (${KINDS.join(", ")}).`,
);
const after = z.string().optional().describe(
  'Only memories created at or after this time: ISO date/time ("2026-11-01") or an age ("7d", "12h", "2w").',
);
const before = z.string().optional().describe(
  "Only memories created before this time (same formats as after).",
);
const metadata = z.record(z.string(), z.unknown()).optional().describe(
  "Free-form JSON object kept with the memory.",
);

/**
 * The server; `getService` gives the memory service, which loads after the handshake (its modules are most of
 * Sage's start-up time, and `initialize` must not wait for them).
 */
export function createMcpServer(getService: () => Promise<MemoryService>): McpServer {
  const server = new McpServer(
    { name: "sage", version: VERSION, title: "Sage — long-term memory" },
    { instructions: INSTRUCTIONS, capabilities: { logging: {} } },
  );

  const SaveConversationShape = {
    user_prompt: z.string().describe("What the user asked or said."),
    assistant_response: z.string().describe(
      "What you answered (summarise long tool output).",
    ),
    session: z.string().optional().describe(
      "Session id; defaults to the current session.",
    ),
    project,
    tags: z.array(z.string()).optional().describe(
      'Labels for filtering later, e.g. ["auth", "bug"].',
    ),
    metadata,
  };
  server.registerTool(
    "save_conversation",
    {
      title: "Save a conversation turn",
      description:
        "Store one exchange (the user's prompt and your answer) in long-term memory, in the current session. Use it for turns worth finding again later; routine turns are captured automatically when Sage's hooks are installed. Returns the memory id; saving the same exchange twice returns the existing id.",
      inputSchema: SaveConversationShape,
      annotations: { idempotentHint: true },
    },
    (args: Args<typeof SaveConversationShape>) =>
      run("save_conversation", async () => {
        const r = await (await getService()).saveConversation(args);
        return { text: formatSave(r), data: { ...r } };
      }),
  );

  const SaveMemoryShape = {
    content: z.string().describe("The text to remember."),
    kind: z.enum(KINDS).optional().describe(
      'What it is; default "note". decision: a choice and its reason; preference: how the user likes things; fact: something true about the project; task: open work.',
    ),
    tags: z.array(z.string()).optional().describe(
      "Labels for filtering later.",
    ),
    project,
    session: z.string().optional().describe(
      "Session id; defaults to the current session.",
    ),
    metadata,
  };
  server.registerTool("save_memory", {
    title: "Save a memory",
    description:
      "Store a note, decision, preference, fact, summary, task or reference in long-term memory for this project. Write it self-contained (a future session reads it without this conversation) and keep one idea per memory. Returns the memory id; identical content is stored once.",
    inputSchema: SaveMemoryShape,
    annotations: { idempotentHint: true },
  }, (args: Args<typeof SaveMemoryShape>) =>
    run("save_memory", async () => {
      const r = await (await getService()).saveMemory(args);
      return { text: formatSave(r), data: { ...r } };
    }));

  const SearchMemoryShape = {
    query: z.string().describe(
      "What to look for, in natural language or keywords.",
    ),
    limit: z.number().int().optional().describe(
      "How many hits, 1–100 (default 10).",
    ),
    mode: z.enum(["hybrid", "keyword", "vector"]).optional().describe(
      "hybrid (default) fuses keyword and semantic search; keyword or vector forces one.",
    ),
    project,
    all_projects: allProjects,
    session,
    tags,
    kinds,
    after,
    before,
  };
  server.registerTool(
    "search_memory",
    {
      title: "Search memories",
      description:
        "Find memories by meaning and by exact words (names, identifiers, numbers), in Chinese or English. Searches the current project unless all_projects is true. Returns ranked hits with id, score, time, kind, tags and text.",
      inputSchema: SearchMemoryShape,
      annotations: { readOnlyHint: true },
    },
    (args: Args<typeof SearchMemoryShape>) =>
      run("search_memory", async () => {
        const r = await (await getService()).search(args);
        return { text: formatHits(r), data: { ...r } };
      }),
  );

  const GetContextShape = {
    query: z.string().describe("The topic or task at hand."),
    max_results: z.number().int().optional().describe(
      "At most this many memories, 1–50 (default 8).",
    ),
    token_budget: z.number().int().optional().describe(
      "Approximate size limit of the block in tokens, 100–32000 (default 1500).",
    ),
    project,
    all_projects: allProjects,
    session,
    tags,
    kinds,
    after,
    before,
  };
  server.registerTool("get_context", {
    title: "Recall context",
    description:
      "Get the memories most relevant to a topic as one block to read before working on it: dated, citable as [memory:ID], oldest first, within a token budget. Use it at the start of a task or when the user refers to earlier work.",
    inputSchema: GetContextShape,
    annotations: { readOnlyHint: true },
  }, (args: Args<typeof GetContextShape>) =>
    run("get_context", async () => {
      const r = await (await getService()).context(args);
      const text = r.text ||
        `No memories relevant to "${r.query}".${r.warnings.map((w) => `\nNote: ${w}.`).join("")}`;
      return { text, data: { ...r } };
    }));

  const GetMemoryShape = { id: z.number().int().describe("The memory id.") };
  server.registerTool("get_memory", {
    title: "Get a memory",
    description: "Read one memory in full by its id (as cited, [memory:42] → 42).",
    inputSchema: GetMemoryShape,
    annotations: { readOnlyHint: true },
  }, (args: Args<typeof GetMemoryShape>) =>
    run("get_memory", async () => {
      const m = await (await getService()).get(args.id);
      return { text: formatMemory(m), data: { ...m } };
    }));

  const UpdateMemoryShape = {
    id: z.number().int().describe("The memory id."),
    content: z.string().optional().describe("The new text."),
    kind: z.enum(KINDS).optional(),
    tags: z.array(z.string()).optional().describe(
      "The new tag list (replaces the old one).",
    ),
    metadata,
  };
  server.registerTool(
    "update_memory",
    {
      title: "Update a memory",
      description:
        "Correct or refine a memory by id: new content, kind, tags or metadata (only what is given changes; metadata is replaced as a whole).",
      inputSchema: UpdateMemoryShape,
      annotations: { idempotentHint: true },
    },
    (args: Args<typeof UpdateMemoryShape>) =>
      run("update_memory", async () => {
        const m = await (await getService()).update(args);
        return { text: `Updated.\n${formatMemory(m)}`, data: { ...m } };
      }),
  );

  const DeleteMemoryShape = {
    id: z.number().int().optional().describe("Delete this one memory."),
    ids: z.array(z.number().int()).optional().describe(
      "Delete these memories.",
    ),
    project,
    all_projects: allProjects,
    session,
    tags,
    kinds,
    after,
    before,
    confirm: z.boolean().optional().describe(
      "Must be true to delete more than one memory.",
    ),
  };
  server.registerTool(
    "delete_memory",
    {
      title: "Delete memories",
      description:
        "Delete one memory by id, or several by ids or filters (session, tags, kinds, time range, project). Deleting more than one requires confirm: true; without it nothing is deleted and the error says how many would be.",
      inputSchema: DeleteMemoryShape,
      annotations: { destructiveHint: true },
    },
    (args: Args<typeof DeleteMemoryShape>) =>
      run("delete_memory", async () => {
        const r = await (await getService()).delete(args);
        const missing = r.not_found.length ? ` Not found: ${r.not_found.join(", ")}.` : "";
        return {
          text: `Deleted ${r.deleted.length} memor${r.deleted.length === 1 ? "y" : "ies"}${
            r.deleted.length ? `: ${r.deleted.join(", ")}` : ""
          }.${missing}`,
          data: r,
        };
      }),
  );

  const ManageSessionShape = {
    action: z.enum(["create", "switch", "info", "list"]),
    id: z.string().optional().describe(
      "Session id (switch, info; optional for create).",
    ),
    name: z.string().optional().describe(
      "Session name (create, or switch/info by name).",
    ),
    project,
    all_projects: allProjects.describe("list: sessions of every project."),
    limit: z.number().int().optional().describe(
      "list: how many, 1–200 (default 20).",
    ),
  };
  server.registerTool(
    "manage_session",
    {
      title: "Manage sessions",
      description:
        "Sessions group memories (one per conversation). create: start a new session and make it current; switch: make an existing one current (by id or name); info: details of a session (default: current); list: recent sessions of the project.",
      inputSchema: ManageSessionShape,
    },
    (args: Args<typeof ManageSessionShape>) =>
      run("manage_session", async () => {
        switch (args.action) {
          case "create": {
            const s = await (await getService()).createSession(args);
            return {
              text: `Created and switched to ${formatSession(s)}`,
              data: { ...s },
            };
          }
          case "switch": {
            const s = await (await getService()).switchSession(args);
            return { text: `Switched to ${formatSession(s)}`, data: { ...s } };
          }
          case "info": {
            const s = await (await getService()).sessionInfo(args);
            return { text: formatSession(s), data: { ...s } };
          }
          case "list": {
            const sessions = await (await getService()).listSessions(args);
            return { text: formatSessions(sessions), data: { sessions } };
          }
        }
      }),
  );

  const ExportMemoriesShape = {
    format: z.enum(["jsonl", "markdown"]).optional().describe(
      "jsonl (default) or markdown.",
    ),
    project,
    all_projects: allProjects.describe("Export every project."),
    session,
    max_memories: z.number().int().optional().describe(
      "Stop after this many memories, 1–10000 (default 1000).",
    ),
  };
  server.registerTool(
    "export_memories",
    {
      title: "Export memories",
      description:
        "Export memories of the current project (or a session, or all projects) as JSONL (lossless, re-importable with `sage import`) or Markdown (for reading). At most max_memories are returned here; the `sage export` command has no limit.",
      inputSchema: ExportMemoriesShape,
      annotations: { readOnlyHint: true },
    },
    (args: Args<typeof ExportMemoriesShape>) =>
      run("export_memories", async () => {
        const max = args.max_memories ?? 1000;
        if (!Number.isInteger(max) || max < 1 || max > 10_000) {
          throw new SageError(
            "invalid_input",
            "max_memories must be an integer from 1 to 10000",
          );
        }
        const lines: string[] = [];
        let memories = 0;
        let truncated = false;
        for await (const line of (await getService()).exportLines(args)) {
          const isMemory = args.format === "markdown" ? line.startsWith("\n## ") : line.startsWith('{"type":"memory"');
          if (isMemory && memories === max) {
            truncated = true;
            break;
          }
          if (isMemory) memories++;
          lines.push(line);
        }
        const text = args.format === "markdown" ? lines.join("") : lines.join("\n");
        const note = truncated ? `\n\n(Stopped at ${max} memories; use \`sage export\` for everything.)` : "";
        return {
          text: text + note,
          data: { format: args.format ?? "jsonl", memories, truncated },
        };
      }),
  );

  server.registerTool("get_status", {
    title: "Sage status",
    description:
      "Health and counts: database and pgvector versions, embedding model (name, dimensions, loaded), memories and sessions, current project and session, uptime.",
    inputSchema: {},
    annotations: { readOnlyHint: true },
  }, () =>
    run("get_status", async () => {
      const s = await (await getService()).status();
      return { text: formatStatus(s), data: s };
    }));

  // ---- prompts (Claude Code shows them as /mcp__sage__save, /mcp__sage__status, /mcp__sage__recall) ----

  server.registerPrompt("save", {
    title: "Save this conversation to memory",
    description: "Save the important points of this conversation to Sage.",
    argsSchema: {
      focus: z.string().optional().describe(
        "What to concentrate on (optional).",
      ),
    },
  }, ({ focus }: { focus?: string }) => ({
    messages: [{
      role: "user",
      content: {
        type: "text",
        text: [
          "Review our conversation so far and save what a future session on this project should know, using Sage's save_memory tool:",
          '- decisions and their reasons (kind "decision")',
          '- my preferences about code, tools and style (kind "preference")',
          '- facts learned about the project, its setup and its pitfalls (kind "fact")',
          '- open threads and next steps (kind "task")',
          "Write each memory self-contained (readable without this conversation), one idea each, with a few tags. Do not save secrets. Skip what is already saved. Then list what you saved with the ids.",
          focus ? `Focus on: ${focus}` : "",
        ].filter(Boolean).join("\n"),
      },
    }],
  }));

  server.registerPrompt("status", {
    title: "Sage status",
    description: "Show Sage's health: database, model, memory counts.",
  }, async () => ({
    messages: [{
      role: "user",
      content: {
        type: "text",
        text:
          `Here is the status of Sage, my memory server. Summarise it in a few lines and point out anything that needs fixing.\n\n${
            formatStatus(await (await getService()).status())
          }`,
      },
    }],
  }));

  server.registerPrompt("recall", {
    title: "Recall a topic",
    description: "Bring back what Sage remembers about a topic.",
    argsSchema: { topic: z.string().describe("What to recall.") },
  }, async ({ topic }: { topic: string }) => {
    let block: string;
    try {
      const ctx = await (await getService()).context({ query: topic, token_budget: 3000 });
      block = ctx.text ||
        `(Sage has no memories about "${topic}" in this project.)`;
    } catch (err) {
      block = `(Sage could not search: ${describeError(err)})`;
    }
    return {
      messages: [{
        role: "user",
        content: {
          type: "text",
          text:
            `What do we know about "${topic}" from earlier sessions? Use these memories from Sage, cite them as [memory:ID], and say what is missing.\n\n${block}`,
        },
      }],
    };
  });

  // ---- resources ----

  server.registerResource(
    "status",
    "sage://status",
    {
      title: "Sage status",
      description: "Database, model and counts, as JSON.",
      mimeType: "application/json",
    },
    async (uri: URL) => ({
      contents: [{
        uri: uri.href,
        mimeType: "application/json",
        text: JSON.stringify(await (await getService()).status(), null, 2),
      }],
    }),
  );

  server.registerResource("sessions", "sage://sessions", {
    title: "Sessions of this project",
    description: "Recent sessions of the current project, as JSON.",
    mimeType: "application/json",
  }, async (uri: URL) => ({
    contents: [{
      uri: uri.href,
      mimeType: "application/json",
      text: JSON.stringify(await (await getService()).listSessions({ limit: 50 }), null, 2),
    }],
  }));

  server.registerResource(
    "memory",
    new ResourceTemplate("sage://memory/{id}", { list: undefined }),
    {
      title: "A memory",
      description: "One memory by id, as JSON.",
      mimeType: "application/json",
    },
    async (uri: URL, { id }: { id: string | string[] }) => ({
      contents: [{
        uri: uri.href,
        mimeType: "application/json",
        text: JSON.stringify(await (await getService()).get(String(id)), null, 2),
      }],
    }),
  );

  return server;
}
