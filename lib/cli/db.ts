import { clusterPaths, clusterRunning, ensureCluster, stopCluster } from "../db/cluster.ts";
import { invalid } from "../errors.ts";
import { type CommandSpec, out } from "./command.ts";

export const command: CommandSpec = {
  name: "db",
  summary: "Start, stop or inspect Sage's private PostgreSQL cluster (used when no database URL is given).",
  usage: "db <start | stop | status>",
  details: "The cluster keeps running after Sage exits so the next start and every hook connect at once.",
  positionals: { min: 1, max: 1 },
  async run(ctx) {
    if (ctx.config.dbUrl) throw invalid("a database URL is configured; Sage runs no private cluster in that case");
    const paths = clusterPaths(ctx.config.home);
    switch (ctx.positionals[0]) {
      case "start":
        await ensureCluster(ctx.config);
        out(`running: ${paths.dataDir} (socket in ${paths.socketDir})`);
        return 0;
      case "stop":
        out((await stopCluster(ctx.config)) ? "stopped" : "not running");
        return 0;
      case "status": {
        const running = await clusterRunning(ctx.config);
        out(
          `${
            running ? "running" : "not running"
          }: ${paths.dataDir} (socket in ${paths.socketDir}, log ${paths.logFile})`,
        );
        return running ? 0 : 3;
      }
      default:
        throw invalid(`unknown action "${ctx.positionals[0]}"; use start, stop or status`);
    }
  },
};
