import type { z } from 'zod';

/** A path inside a document as people write it: `users[1].claims.department`. */
export function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  return path.reduce<string>(
    (text, segment) => (typeof segment === 'number' ? `${text}[${segment}]` : `${text}${text ? '.' : ''}${String(segment)}`),
    prefix,
  );
}

/** Every problem zod found, one line each: `path: message`. */
export function problemLines(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map((issue) => {
    const path = formatPath(issue.path, prefix);
    return `${path ? `${path}: ` : ''}${issue.message}`;
  });
}

/** The first problem zod found, as one line, for the tools. */
export function firstProblem(error: z.ZodError, prefix = ''): string {
  return problemLines(error, prefix)[0] ?? 'invalid';
}

/**
 * zod's messages for a record (an object of names to values): `expected` when it is not an object,
 * and for a bad key the key's own message (zod otherwise says only "Invalid key in record").
 */
export function recordError(expected: string): z.core.$ZodErrorMap {
  return (issue) => {
    if (issue.code === 'invalid_type') return expected;
    if (issue.code === 'invalid_key') return issue.issues[0]?.message;
    return undefined;
  };
}

/** zod's message for a field a strict object does not know: name it, so a typo is found at once. */
export const unknownFieldError: z.core.$ZodErrorMap = (issue) =>
  issue.code === 'unrecognized_keys'
    ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}`
    : undefined;
