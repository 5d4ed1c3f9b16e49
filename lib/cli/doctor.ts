/**
 * `sage doctor`: checks each thing Sage depends on, in the order it needs them, and says what to fix.
 */
import { clusterPaths, clusterRunning, findPgBin } from "../db/cluster.ts";
import { redactUrl } from "../config.ts";
import { describeError } from "../errors.ts";
import { ensureOwnHome } from "../files.ts";
import { type CommandSpec, out } from "./command.ts";

interface Check {
  ok: boolean;
  label: string;
  fix?: string;
}

export const command: CommandSpec = {
  name: "doctor",
  summary: "Check the data directory, PostgreSQL, pgvector, the schema and the embedding model, and say what to fix.",
  usage: "doctor",
  async run(ctx) {
    const { config } = ctx;
    const checks: Check[] = [];
    const add = (c: Check) => {
      checks.push(c);
      out(`${c.ok ? "ok  " : "FAIL"} ${c.label}${c.fix ? `\n     ${c.fix.replace(/\n/g, "\n     ")}` : ""}`);
    };

    // 1. data directory
    try {
      ensureOwnHome(config.home); // made private if missing; another user's is refused
      const probe = `${config.home}/.doctor-${Deno.pid}`;
      await Deno.writeTextFile(probe, "ok");
      await Deno.remove(probe);
      add({ ok: true, label: `data directory ${config.home} is writable` });
    } catch (err) {
      add({
        ok: false,
        label: `data directory ${config.home} is not writable: ${describeError(err)}`,
        fix: "Set SAGE_HOME (or --home) to a folder you own.",
      });
    }

    // 2. database
    if (config.dbUrl) {
      add({ ok: true, label: `database URL ${redactUrl(config.dbUrl)}` });
    } else {
      try {
        const bin = await findPgBin(config);
        const paths = clusterPaths(config.home);
        const running = await clusterRunning(config);
        add({
          ok: true,
          label: `PostgreSQL with pgvector in ${bin}; private cluster ${paths.dataDir} ${
            running ? "running" : "not running (starts on first use)"
          }`,
        });
      } catch (err) {
        add({ ok: false, label: "private PostgreSQL cluster", fix: describeError(err) });
      }
    }
    const service = await ctx.service();
    const status = await service.status();
    const db = status.database as Record<string, unknown>;
    if (db.connected) {
      add({ ok: true, label: `connected: PostgreSQL ${db.server_version}` });
      add(
        db.pgvector_version ? { ok: true, label: `pgvector ${db.pgvector_version}` } : {
          ok: false,
          label: "pgvector extension missing",
          fix: "Install pgvector for this server, then run `sage migrate`.",
        },
      );
      add(
        db.schema_version === db.schema_latest ? { ok: true, label: `schema version ${db.schema_version} (latest)` } : {
          ok: false,
          label: `schema version ${db.schema_version}, latest is ${db.schema_latest}`,
          fix: "Run `sage migrate`.",
        },
      );
    } else {
      add({ ok: false, label: "cannot connect to the database", fix: String(db.error) });
    }

    // 3. embedding model
    if (!config.modelPath) {
      add({
        ok: false,
        label: "no embedding model configured (keyword search only)",
        fix:
          "Set SAGE_EMBED_MODEL to a model folder (transformers.js layout), or run scripts/fetch-model in a checkout.",
      });
    } else {
      try {
        const { model, loadMs, english: en, chinese: zh } = await service.checkModel();
        add({
          ok: true,
          label:
            `model ${model.name} (${model.dtype}, ${model.dimensions} dimensions, ${model.pooling} pooling) loaded in ${loadMs} ms`,
        });
        add(
          en && zh ? { ok: true, label: "model embeds English and Chinese text" } : {
            ok: false,
            label: `model returns no vector for ${en ? "Chinese" : "English"} text`,
            fix: "Use a multilingual model such as Xenova/multilingual-e5-small; such text is found by keyword only.",
          },
        );
      } catch (err) {
        add({ ok: false, label: `model at ${config.modelPath} does not load`, fix: describeError(err) });
      }
    }
    const failed = checks.filter((c) => !c.ok).length;
    out(failed ? `\n${failed} problem(s) found.` : "\nEverything Sage needs is in place.");
    return failed ? 1 : 0;
  },
};
