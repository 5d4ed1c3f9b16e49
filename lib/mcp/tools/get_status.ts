import { formatStatus } from "../../format.ts";
import { statusResult } from "../schemas.ts";
import { defineTool, READ_ONLY } from "../tool.ts";

export const getStatus = defineTool({
  name: "get_status",
  title: "Sage status",
  description:
    "Health and counts: database and pgvector versions, embedding model (name, dimensions, loaded), memories and sessions, current project and session, uptime.",
  input: {},
  output: statusResult,
  annotations: READ_ONLY,
  async run(service) {
    const s = await service.status();
    return { text: formatStatus(s), data: s as never };
  },
});
