/**
 * Claude Code transcripts (~/.claude/projects/<cwd-dashed>/<session>.jsonl) in their real shape, for the hook
 * tests. The entry shapes follow transcripts written by Claude Code 2.1.331 on this machine (queue-operation,
 * user, attachment, api-request*, assistant with isApiErrorMessage, last-prompt, cost-state) and normal sessions
 * (assistant messages streamed as one entry per content block sharing a message.id; tool results as user
 * entries holding tool_result blocks; subagent entries with isSidechain; isCompactSummary after /compact;
 * slash commands echoed as <command-message>/<command-name> user text followed by an isMeta expansion).
 *
 * `deno run -A tests/support/transcripts.ts` rewrites tests/fixtures/transcripts/*.jsonl from the builders
 * below; a test checks that the files and the builders agree.
 */

export type Entry = Record<string, unknown>;
type Block = Record<string, unknown>;

/** Deterministic UUID-shaped ids, so fixtures are stable byte for byte. */
function uuidFrom(seed: string, n: number): string {
  let h = 0x811c9dc5;
  for (const ch of `${seed}:${n}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  const hex = (x: number) => (x >>> 0).toString(16).padStart(8, "0");
  const a = hex(h), b = hex(Math.imul(h, 2654435761)), c = hex(Math.imul(h ^ n, 40503)), d = hex(n * 7919 + h);
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-a${c.slice(1, 4)}-${c.slice(4)}${d}`;
}

/** Builds a transcript entry by entry, with the bookkeeping fields Claude Code writes. */
export class Transcript {
  readonly sessionId: string;
  readonly cwd: string;
  readonly entries: Entry[] = [];
  #clock: number;
  #n = 0;
  #parent: string | null = null;
  #messages = 0;

  constructor(sessionId: string, options: { cwd?: string; start?: string } = {}) {
    this.sessionId = sessionId;
    this.cwd = options.cwd ?? "/home/dev/work/sage";
    this.#clock = Date.parse(options.start ?? "2026-11-20T09:00:00.000Z");
  }

  /** Next id (deterministic from the session id). */
  id(): string {
    return uuidFrom(this.sessionId, ++this.#n);
  }

  #time(stepMs = 1500): string {
    this.#clock += stepMs;
    return new Date(this.#clock).toISOString();
  }

  #common(): Entry {
    return {
      userType: "external",
      entrypoint: "cli",
      cwd: this.cwd,
      sessionId: this.sessionId,
      version: "2.1.331",
      gitBranch: "main",
    };
  }

  #chained(entry: Entry, sidechain = false): Entry {
    const uuid = this.id();
    const full = { parentUuid: this.#parent, isSidechain: sidechain, ...entry, uuid, timestamp: this.#time() };
    Object.assign(full, this.#common());
    if (!sidechain) this.#parent = uuid;
    this.entries.push(full);
    return full;
  }

  /** The prompt queue Claude Code logs before a prompt (no uuid, no message). */
  queue(content: string): this {
    this.entries.push({
      type: "queue-operation",
      operation: "enqueue",
      timestamp: this.#time(2),
      sessionId: this.sessionId,
      content,
    });
    this.entries.push({
      type: "queue-operation",
      operation: "dequeue",
      timestamp: this.#time(2),
      sessionId: this.sessionId,
    });
    return this;
  }

  /** A real prompt; `content` as a string (typed) or as blocks (pasted images, IDE selections). Returns its uuid. */
  prompt(content: string | Block[], extra: Entry = {}): string {
    const e = this.#chained({
      promptId: this.id(),
      type: "user",
      message: { role: "user", content },
      permissionMode: "default",
      ...extra,
    });
    return e.uuid as string;
  }

  /** System context Claude Code attaches after a prompt (environment, date, …): no `message`. */
  attachment(kind: string, text: string): this {
    this.#chained({
      attachment: { type: kind, content: text },
      type: "attachment",
      rendered: [{ content: `<system-reminder>\n${text}\n</system-reminder>` }],
      renderedRole: "system",
    });
    return this;
  }

  /** The request bookkeeping entries (api-request-blob carries a `message` with role user: not a prompt). */
  apiRequest(text: string): this {
    this.entries.push({
      type: "api-request-blob",
      sessionId: this.sessionId,
      hash: uuidFrom(text, 0).replaceAll("-", ""),
      message: { role: "user", content: [{ type: "text", text }] },
    });
    this.entries.push({
      type: "api-request",
      sessionId: this.sessionId,
      id: this.id(),
      timestamp: this.#time(3),
      version: "2.1.331",
      querySource: "repl_main_thread",
      params: { model: "claude-opus-5-5", max_tokens: 32000 },
    });
    return this;
  }

  /**
   * One assistant message, streamed as Claude Code writes it: one entry per content block, all with the same
   * message.id; only the last carries the stop reason.
   */
  assistant(blocks: Block[], stopReason: string | null = null, options: { sidechain?: boolean } = {}): string[] {
    const id = `msg_01${String(++this.#messages).padStart(4, "0")}${this.sessionId.slice(0, 8)}`;
    return blocks.map((block, i) =>
      this.#chained({
        message: {
          id,
          type: "message",
          role: "assistant",
          model: "claude-opus-5-5",
          content: [block],
          stop_reason: i === blocks.length - 1 ? stopReason : null,
          stop_sequence: null,
          usage: { input_tokens: 12, output_tokens: 40, cache_read_input_tokens: 9000 },
        },
        requestId: `req_011${this.#messages}`,
        type: "assistant",
      }, options.sidechain).uuid as string
    );
  }

  /** A tool's output, as Claude Code records it: a user entry whose content is a tool_result block. */
  toolResult(toolUseId: string, content: string | Block[], options: { isError?: boolean; sidechain?: boolean } = {}) {
    this.#chained({
      type: "user",
      message: {
        role: "user",
        content: [{
          tool_use_id: toolUseId,
          type: "tool_result",
          content,
          ...(options.isError ? { is_error: true } : {}),
        }],
      },
      toolUseResult: typeof content === "string" ? { stdout: content, stderr: "", interrupted: false } : content,
    }, options.sidechain);
    return this;
  }

  /** A subagent's own prompt (sidechain: the Task tool's conversation, not the user's). */
  sidechainPrompt(text: string): this {
    this.#chained({ type: "user", message: { role: "user", content: text }, agentId: "a1b2c3d4" }, true);
    return this;
  }

  /** `/command args`: the echo, then the expanded prompt Claude Code sends (isMeta). */
  slashCommand(name: string, args: string, expansion: string): this {
    this.#chained({
      type: "user",
      message: {
        role: "user",
        content: `<command-message>${name} is running…</command-message>\n<command-name>/${name}</command-name>\n` +
          `<command-args>${args}</command-args>`,
      },
    });
    this.#chained({
      type: "user",
      message: { role: "user", content: [{ type: "text", text: expansion }] },
      isMeta: true,
    });
    return this;
  }

  /** What /compact writes: the command echo, the summary (isCompactSummary), the command's output. */
  compaction(summary: string): this {
    this.#chained({ type: "system", subtype: "compact_boundary", content: "Conversation compacted", isMeta: false });
    this.#chained({
      type: "user",
      message: {
        role: "user",
        content: "<command-name>/compact</command-name>\n<command-message>compact</command-message>",
      },
    });
    this.#chained({
      type: "user",
      message: { role: "user", content: summary },
      isCompactSummary: true,
      isVisibleInTranscriptOnly: true,
    });
    this.#chained({
      type: "user",
      message: {
        role: "user",
        content: "<local-command-stdout>Compacted (ctrl+o to see full summary)</local-command-stdout>",
      },
    });
    return this;
  }

  /** The synthetic assistant entry Claude Code writes when the API call failed. */
  apiError(text: string): this {
    this.#chained({
      type: "assistant",
      message: {
        id: this.id(),
        type: "message",
        role: "assistant",
        model: "<synthetic>",
        content: [{ type: "text", text }],
        stop_reason: "stop_sequence",
        stop_sequence: "",
      },
      error: "overloaded_error",
      isApiErrorMessage: true,
    });
    return this;
  }

  /** Bookkeeping Claude Code appends at the end of a turn or session. */
  system(text: string): this {
    this.#chained({ type: "system", subtype: "informational", content: text, level: "info", isMeta: false });
    return this;
  }

  tail(lastPrompt: string): this {
    this.entries.push({ type: "last-prompt", lastPrompt, leafUuid: this.#parent, sessionId: this.sessionId });
    this.entries.push({
      type: "cost-state",
      sessionId: this.sessionId,
      totalCostUSD: 0.4213,
      totalAPIDuration: 81234,
      totalDuration: 254000,
      modelUsage: {},
    });
    return this;
  }

  /** JSONL: one entry per line, each ending in a newline. */
  text(from = 0, to = this.entries.length): string {
    return this.entries.slice(from, to).map((e) => JSON.stringify(e) + "\n").join("");
  }
}

export function text(t: string): Block {
  return { type: "text", text: t };
}

export function thinking(t: string): Block {
  return { type: "thinking", thinking: t, signature: "EqQBCkYIBxgCKkBvZXJ0eXVpb3Bhc2RmZ2hqa2x6eGN2Ym5t" };
}

export function toolUse(id: string, name: string, input: Record<string, unknown>): Block {
  return { type: "tool_use", id, name, input };
}

/** Strings that must never reach a stored memory; each names what it stands for. */
export const MARK = {
  thinking: "THINKING-ONLY-d41d8",
  toolOutput: "TOOL-OUTPUT-BODY-9c2f",
  editBody: "EDIT-NEW-STRING-77aa",
  sidechain: "SIDECHAIN-ONLY-5e1b",
  attachment: "ATTACHMENT-ONLY-0f3c",
  apiBlob: "API-BLOB-ONLY-a7d0",
  summary: "COMPACT-SUMMARY-ONLY-4b6e",
  slashAnswer: "SLASH-ANSWER-ONLY-c3c3",
  apiError: "API Error: 529 overloaded_error",
  privateText: "my salary is 98765",
  urlPassword: "hunter2pass",
  apiKey: "sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa-XYZ",
} as const;

export const SESSION_ID = "0b7f3c52-5a1e-4c8e-9d43-7e2a9c1f6b20";

/**
 * The main fixture: a working session with five prompts.
 * 1. English, with thinking, Bash (fails: is_error), Read, Edit, streamed text; ends with end_turn.
 * 2. Chinese, with a Task subagent (its sidechain entries inline) whose answer comes back as a tool_result.
 *    Then a slash command (/mcp__sage__status) whose answer is not a turn.
 * 3. A prompt as blocks holding a <private> block, a postgres URL with a password and an Anthropic key.
 *    Then /compact (echo, isCompactSummary, local-command-stdout).
 * 4. A prompt the API never answered (isApiErrorMessage): not a memory.
 * 5. Chinese again, short answer.
 */
export function mainSession(sessionId = SESSION_ID, start?: string): { t: Transcript; prompts: string[] } {
  const t = new Transcript(sessionId, { start });
  const prompts: string[] = [];

  const p1 = "The CI job fails on the migration step. Can you find out why?";
  t.queue(p1);
  prompts.push(t.prompt(p1));
  t.attachment("environment", `Primary working directory: /home/dev/work/sage ${MARK.attachment}`);
  t.attachment("date", "Today's date is 2026-11-20.");
  t.apiRequest(`<system-reminder>gitStatus: clean ${MARK.apiBlob}</system-reminder>`);
  t.assistant([
    thinking(`The user wants the CI failure explained. ${MARK.thinking} Probably schema ordering.`),
    text("I'll run the migration tests first."),
    toolUse("toolu_01Bash0001", "Bash", {
      command: "deno task test --filter migrate\n# second line of the command is not shown",
      description: "Run the migration tests",
    }),
  ], "tool_use");
  t.toolResult(
    "toolu_01Bash0001",
    `error: relation "sage.memories" does not exist\n    at migrate (db/migrate.ts:41)\n${MARK.toolOutput}`,
    { isError: true },
  );
  t.assistant([
    toolUse("toolu_01Read0002", "Read", { file_path: "/home/dev/work/sage/db/migrations/0002_capture.ts" }),
  ], "tool_use");
  t.toolResult(
    "toolu_01Read0002",
    Array.from({ length: 60 }, (_, i) => `${String(i + 1).padStart(6)}\tconst line${i} = "${MARK.toolOutput}";`).join(
      "\n",
    ),
  );
  t.assistant([
    thinking(`0002 assumes the schema exists. ${MARK.thinking}`),
    toolUse("toolu_01Edit0003", "Edit", {
      file_path: "/home/dev/work/sage/db/migrate.ts",
      old_string: "await runMigration(0002)",
      new_string: `await ensureSchema(); await runMigration(0002) // ${MARK.editBody}`,
    }),
  ], "tool_use");
  t.toolResult("toolu_01Edit0003", "The file /home/dev/work/sage/db/migrate.ts has been updated.");
  t.assistant([
    text(
      "Found it: migration 0002 ran before the sage schema existed. I made the migrator create the schema first; " +
        "the migration tests pass now.",
    ),
  ], "end_turn");
  t.system("Stop hook feedback: none");

  const p2 = "请用一个子代理检查所有迁移文件里有没有重复的索引名。";
  t.queue(p2);
  prompts.push(t.prompt(p2));
  t.attachment("date", `Today's date is 2026-11-20. ${MARK.attachment}`);
  t.assistant([
    text("好的，我让一个子代理去检查迁移文件。"),
    toolUse("toolu_01Task0004", "Task", {
      description: "检查重复索引名",
      prompt: `List every CREATE INDEX in db/migrations and report duplicate names. ${MARK.sidechain}`,
      subagent_type: "general-purpose",
    }),
  ], "tool_use");
  t.sidechainPrompt(`List every CREATE INDEX in db/migrations and report duplicate names. ${MARK.sidechain}`);
  t.assistant(
    [toolUse("toolu_01Grep0005", "Grep", { pattern: "CREATE (UNIQUE )?INDEX", path: "db/migrations" })],
    "tool_use",
    {
      sidechain: true,
    },
  );
  t.toolResult("toolu_01Grep0005", `db/migrations/0001_init.ts:37 ${MARK.sidechain}`, { sidechain: true });
  t.assistant([text(`No duplicates found. ${MARK.sidechain}`)], "end_turn", { sidechain: true });
  t.toolResult("toolu_01Task0004", [
    text("没有发现重复的索引名：memories_turn_key 和 memories_project_hash_key 各出现一次。"),
  ]);
  t.assistant([text("检查完成：所有迁移文件里没有重复的索引名。")], "end_turn");
  t.slashCommand("mcp__sage__status", "", "Show Sage's status: call get_status and summarise it.");
  t.assistant([text(`Sage is healthy: 12 memories. ${MARK.slashAnswer}`)], "end_turn");

  const p3 = [
    text(
      `Remember for the smoke test: <private>${MARK.privateText}, do not tell anyone</private> the staging ` +
        `database is postgres://deploy:${MARK.urlPassword}@db.staging.internal:5432/app and the API key is ` +
        `${MARK.apiKey}.`,
    ),
  ];
  t.queue("Remember for the smoke test: …");
  prompts.push(t.prompt(p3));
  t.assistant([
    text("Noted: the smoke test will use the staging database on db.staging.internal port 5432."),
  ], "end_turn");
  t.compaction(
    `This session is being continued from a previous conversation that ran out of context. Summary: ${MARK.summary}`,
  );

  const p4 = "Which port does the staging database use?";
  t.queue(p4);
  prompts.push(t.prompt(p4));
  t.apiError(MARK.apiError);

  const p5 = "数据库迁移现在都通过了吗？";
  t.queue(p5);
  prompts.push(t.prompt(p5));
  t.assistant([thinking(`${MARK.thinking} 检查一下。`), text("是的，数据库迁移的测试全部通过了。")], "end_turn");
  t.tail(p5);
  return { t, prompts };
}

/** One more turn, appended to a transcript (for the incremental capture tests). */
export function appendTurn(t: Transcript, prompt: string, answer: string): string {
  t.queue(prompt);
  const uuid = t.prompt(prompt);
  t.assistant([thinking(MARK.thinking), text(answer)], "end_turn");
  return uuid;
}

/** The session `claude -p` writes when not logged in: one prompt, an API error, bookkeeping. */
export function notLoggedIn(sessionId = "d2b43846-8a40-4f7e-aa0b-19d43fe9640f"): Transcript {
  const t = new Transcript(sessionId, { cwd: "/tmp/project", start: "2026-11-25T00:32:27.000Z" });
  t.queue("what is 数据库 in english?");
  t.prompt("what is 数据库 in english?", { promptSource: "sdk", entrypoint: "sdk-cli" });
  t.attachment("environment", "Primary working directory: /tmp/project");
  t.attachment("date", "Today's date is 2026-11-25.");
  t.apiRequest("what is 数据库 in english?");
  t.apiError("Not logged in · Please run /login");
  t.tail("what is 数据库 in english?");
  return t;
}

export const FIXTURE_DIR = new URL("../fixtures/transcripts/", import.meta.url);

/** The fixture files, by name. */
export function fixtures(): Record<string, string> {
  return {
    "session.jsonl": mainSession().t.text(),
    "not_logged_in.jsonl": notLoggedIn().text(),
  };
}

if (import.meta.main) {
  await Deno.mkdir(FIXTURE_DIR, { recursive: true });
  for (const [name, content] of Object.entries(fixtures())) {
    await Deno.writeTextFile(new URL(name, FIXTURE_DIR), content);
    console.error(`wrote ${new URL(name, FIXTURE_DIR).pathname}`);
  }
}
