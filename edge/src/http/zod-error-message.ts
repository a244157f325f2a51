import type * as z from 'zod';

/** One line naming each bad field, e.g. `ladder.rungs.0.height: Too small: expected number to be >=144`. */
export function zodErrorMessage(error: z.ZodError, root = 'body'): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.map(String).join('.') : root}: ${issue.message}`)
    .join('; ');
}
