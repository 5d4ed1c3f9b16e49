/** Sage's version, printed by `sage --version` and reported in MCP `initialize`. */
export const VERSION = "0.1.0";
