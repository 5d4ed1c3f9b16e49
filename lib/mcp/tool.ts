/**
 * One way to declare a tool: schema, wording for the model, all four annotation hints, an output schema, and a
 * handler that calls one use case. `defineTool` registers it with the error handling every tool shares: any error
 * becomes an MCP tool error with the user-facing message, and the server keeps running. A handler that may run long
 * reports progress through its ToolCall, which reaches the client only when the request asked for it.
 */
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/server/mcp.d.ts"
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/shared/protocol.d.ts"
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/dist/esm/types.d.ts"
import type { ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import type { z } from "zod";
import { describeError, SageError } from "../errors.ts";
import { log } from "../log.ts";
import type { MemoryService } from "../memory/service.ts";
import type { Args } from "./schemas.ts";

export type GetService = () => Promise<MemoryService>;

export interface ToolDef<I extends z.ZodRawShape, O extends z.ZodRawShape> {
  name: string;
  title: string;
  /** Written for the model that calls the tool: what it is for, when to use it. */
  description: string;
  input: I;
  output: O;
  /** Every hint stated, as the official servers do: nothing is left to a client's defaults. */
  annotations: { readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean; openWorldHint: boolean };
  run(service: MemoryService, args: Args<I>, call: ToolCall): Promise<{ text: string; data: z.infer<z.ZodObject<O>> }>;
}

/** What the SDK hands a tool handler besides its arguments: cancellation, the request's _meta, notifications. */
export type RequestExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** The request a tool runs for. */
export interface ToolCall {
  extra: RequestExtra;
  /** The client asked to be told how far the call is (a `_meta.progressToken` on the request). */
  wantsProgress: boolean;
  /**
   * Sends `notifications/progress` when the client asked for it; does nothing otherwise. `progress` must grow from
   * one call to the next (the spec's rule); a notification that cannot be sent is logged, never fatal.
   */
  progress(progress: number, total?: number, message?: string): Promise<void>;
}

export function toolCall(extra: RequestExtra): ToolCall {
  const token = extra._meta?.progressToken;
  return {
    extra,
    wantsProgress: token !== undefined,
    async progress(progress, total, message) {
      if (token === undefined) return;
      const params = {
        progressToken: token,
        progress,
        ...(total === undefined ? {} : { total }),
        ...(message ? { message } : {}),
      };
      await extra.sendNotification({ method: "notifications/progress", params }).catch((err: unknown) =>
        log.debug("progress not sent", { error: String(err) })
      );
    },
  };
}

/** A declared tool, ready to be added to a server. */
export type Tool = (server: McpServer, getService: GetService) => void;

type Reply = { content: { type: "text"; text: string }[]; structuredContent?: Record<string, unknown>; isError?: true };

export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(def: ToolDef<I, O>): Tool {
  return (server, getService) =>
    server.registerTool(
      def.name,
      {
        title: def.title,
        description: def.description,
        inputSchema: def.input,
        outputSchema: def.output,
        annotations: def.annotations,
      },
      (async (args: Args<I>, extra: RequestExtra): Promise<Reply> => {
        try {
          const { text, data } = await def.run(await getService(), args, toolCall(extra));
          return { content: [{ type: "text", text }], structuredContent: data as Record<string, unknown> };
        } catch (err) {
          if (!(err instanceof SageError) || err.code === "internal") {
            log.error(`tool ${def.name} failed`, { error: String(err) });
          }
          return { content: [{ type: "text", text: `Error: ${describeError(err)}` }], isError: true };
        }
      }) as never,
    );
}

/** Annotations of a tool that only reads. */
export const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
