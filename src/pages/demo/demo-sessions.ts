import { randomBytes } from 'node:crypto';
import type { Outcome, TokenSet } from './demo-app.ts';

/** What the demo app remembers for one browser: its tokens and the latest userinfo answer. */
export interface DemoSession {
  tokens?: TokenSet | undefined;
  userinfo?: Outcome<Record<string, unknown>> | undefined;
  /** When the tokens were last exchanged or refreshed (epoch ms). */
  updatedAt: number;
}

const MAX_SESSIONS = 200;
const TTL_MS = 60 * 60 * 1000;

/**
 * The demo app's own sessions, in this process (the embedded mode has one): each browser gets a
 * random id in a signed cookie, and its tokens stay here, never in the browser. At most 200, each
 * forgotten an hour after its last change, the oldest first.
 */
export function createDemoSessions(now: () => number = Date.now) {
  const sessions = new Map<string, DemoSession>();
  const fresh = (session: DemoSession | undefined) => (session && now() - session.updatedAt < TTL_MS ? session : undefined);
  return {
    newId: () => randomBytes(18).toString('base64url'),
    get(id: string): DemoSession | undefined {
      const session = fresh(sessions.get(id));
      if (!session) sessions.delete(id);
      return session;
    },
    set(id: string, session: Omit<DemoSession, 'updatedAt'>): void {
      sessions.delete(id);
      sessions.set(id, { ...session, updatedAt: now() });
      // Map keeps insertion order: the first entries are the least recently changed.
      for (const oldest of sessions.keys()) {
        if (sessions.size <= MAX_SESSIONS) break;
        sessions.delete(oldest);
      }
    },
    delete(id: string): void {
      sessions.delete(id);
    },
  };
}

export type DemoSessions = ReturnType<typeof createDemoSessions>;
