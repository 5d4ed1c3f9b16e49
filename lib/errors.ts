/**
 * One error type for everything a user (or the model calling a tool) should read.
 * `code` lets edges map it (MCP isError, CLI exit code); `hint` says what to do next.
 */
export type ErrorCode =
  | "invalid_input"
  | "not_found"
  | "conflict"
  | "unavailable"
  | "model_unavailable"
  | "internal";

export class SageError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, hint?: string) {
    super(message);
    this.name = "SageError";
    this.code = code;
    this.hint = hint;
  }

  /** Message plus hint, as shown to users. */
  get userMessage(): string {
    return this.hint ? `${this.message}\n${this.hint}` : this.message;
  }
}

/** Shorthand for the most common case: the caller sent something we cannot accept. */
export function invalid(message: string, hint?: string): SageError {
  return new SageError("invalid_input", message, hint);
}

/** Turns anything thrown into the text a user should see (never a stack trace). */
export function describeError(err: unknown): string {
  if (err instanceof SageError) return err.userMessage;
  if (err instanceof Error) return err.message;
  return String(err);
}
