/**
 * Running child processes in tests, with nothing else attached: used by the main suite's harness and by the
 * container test (which runs without the main suite's database and model).
 */

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion with exactly `env`, optional stdin, and returns its exit code and output. */
export async function runCommand(
  command: string,
  args: string[],
  options: { env: Record<string, string>; cwd: string; stdin?: string | Uint8Array },
): Promise<RunResult> {
  const child = new Deno.Command(command, {
    args,
    env: options.env,
    clearEnv: true,
    cwd: options.cwd,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    try {
      await w.write(typeof options.stdin === "string" ? new TextEncoder().encode(options.stdin) : options.stdin);
      await w.close();
    } catch (err) {
      // A command may end without reading its input (a hook that fails open does): what it did is the result.
      if (!(err instanceof Deno.errors.BrokenPipe)) throw err;
    }
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Chunks read from a stream, as one byte array. */
export function concatBytes(chunks: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return all;
}
