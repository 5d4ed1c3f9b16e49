/**
 * `initialize`, answered before the rest of Sage loads. Claude Code waits for this reply before it shows the server
 * as connected, and the MCP SDK, the tools and their schemas take most of a start: so `main.ts` calls
 * answerInitialize() first, with nothing but this file and lib/mcp/identity.ts loaded, and the server proper starts
 * afterwards. The bytes read here are handed to the server's transport (takeEarlyStart), which replays them: the
 * SDK sees the same `initialize` (and records the client), and its own reply, already given, is not sent again.
 *
 * Only a well-formed `initialize` on the first line is answered here; anything else (another request first, a line
 * that is not JSON, a first line over FIRST_LINE_BYTES) is left to the transport, which answers it as it always does.
 */
import { CAPABILITIES, INSTRUCTIONS, negotiateVersion, SERVER_INFO } from "./identity.ts";

/** What the handshake read from stdin and did, for the transport. */
export interface EarlyStart {
  /** Everything read from stdin so far (the first line and whatever followed it), to be read before stdin. */
  pending: Uint8Array;
  /** stdin ended while it was read. */
  ended: boolean;
  /** The id of the `initialize` request answered here, if one was. */
  answered?: string | number;
}

/** The first line is read up to this size; a longer one is the transport's to handle. */
const FIRST_LINE_BYTES = 1024 * 1024;

let early: EarlyStart | null = null;

/** What answerInitialize() read and did, once (null when it did not run). */
export function takeEarlyStart(): EarlyStart | null {
  const e = early;
  early = null;
  return e;
}

/** Reads stdin's first line and answers it when it is `initialize`. Never throws: the transport carries on. */
export async function answerInitialize(): Promise<void> {
  const parts: Uint8Array[] = [];
  let size = 0;
  let end = -1;
  let ended = false;
  const buf = new Uint8Array(64 * 1024);
  try {
    while (end < 0 && size < FIRST_LINE_BYTES) {
      const n = await Deno.stdin.read(buf);
      if (n === null) {
        ended = true;
        break;
      }
      const nl = buf.subarray(0, n).indexOf(10);
      if (nl >= 0) end = size + nl;
      parts.push(buf.slice(0, n));
      size += n;
    }
  } catch {
    ended = true; // stdin unreadable: the transport finds out and ends the server
  }
  const pending = concatBytes(parts);
  early = { pending, ended };
  if (end < 0) return;
  const request = initializeRequest(new TextDecoder().decode(pending.subarray(0, end)));
  if (!request) return;
  const reply = {
    result: {
      protocolVersion: negotiateVersion(request.protocolVersion),
      capabilities: CAPABILITIES,
      serverInfo: SERVER_INFO,
      instructions: INSTRUCTIONS,
    },
    jsonrpc: "2.0",
    id: request.id,
  };
  const bytes = new TextEncoder().encode(`${JSON.stringify(reply)}\n`);
  try {
    for (let w = 0; w < bytes.length;) w += await Deno.stdout.write(bytes.subarray(w));
    early.answered = request.id;
  } catch {
    // The client is gone; the transport's first write finds out and ends the server.
  }
}

/**
 * The id and requested version of a well-formed `initialize` request, or null: the SDK's schema in its main lines
 * (a client whose request the SDK would still refuse gets a warning on stderr from the transport, see stdio.ts).
 */
export function initializeRequest(line: string): { id: string | number; protocolVersion: string } | null {
  let m: unknown;
  try {
    m = JSON.parse(line);
  } catch {
    return null;
  }
  const obj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === "object" && !Array.isArray(x);
  if (!obj(m) || m.jsonrpc !== "2.0" || m.method !== "initialize") return null;
  if (Object.keys(m).some((k) => !["jsonrpc", "id", "method", "params"].includes(k))) return null; // strict, as the SDK
  const id = m.id;
  if (typeof id !== "string" && !(typeof id === "number" && Number.isInteger(id))) return null;
  const p = m.params;
  if (!obj(p) || typeof p.protocolVersion !== "string" || !obj(p.capabilities) || !obj(p.clientInfo)) return null;
  const info = p.clientInfo;
  if (typeof info.name !== "string" || typeof info.version !== "string") return null;
  if (["title", "websiteUrl", "description"].some((k) => info[k] !== undefined && typeof info[k] !== "string")) {
    return null;
  }
  if (Object.values(p.capabilities).some((c) => c !== undefined && !obj(c))) return null;
  return { id, protocolVersion: p.protocolVersion };
}

/** Chunks as one byte array (the chunk itself when there is one). */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) all.set(p, o), o += p.length;
  return all;
}
