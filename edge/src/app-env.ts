import type { Env } from './env.ts';
import type { Settings } from './settings.ts';

/** Hono's type parameters for the edge app: bindings plus per-request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** Parsed once per request by the settings middleware. */
    settings: Settings;
    /** Raw request body of an internal call, kept because its hash is what was signed. */
    rawBody: Uint8Array;
  };
}
