/**
 * A real headless Chromium (Debian's `chromium`, installed by `scripts/setup --dev`) driven by playwright-core, for
 * the tests and the benchmark of `sage view`. Never Playwright's own browser download.
 */
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = Deno.env.get("SAGE_CHROMIUM") ?? "/usr/bin/chromium";

/** Headless as root, and quiet: without the networking flags Chromium keeps trying to reach Google's hosts. */
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export async function launchChromium(extraFlags: string[] = []): Promise<Browser> {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(`no Chromium at ${CHROMIUM}: run scripts/setup --dev (or set SAGE_CHROMIUM)`);
  }
  return await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...FLAGS, ...extraFlags] });
}
