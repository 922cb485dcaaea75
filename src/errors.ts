/** An administrator's mistake in a command-line tool: printed as one line, exit code 1. */
export class AdminError extends Error {}
