import type { Context, Middleware } from 'koa';

export type FlashCategory = 'success' | 'info' | 'error';
export interface Flash {
  category: FlashCategory;
  message: string;
}

const CATEGORIES = new Set<FlashCategory>(['success', 'info', 'error']);

function cookieName(ctx: Context): string {
  return ctx.secure ? '__Host-flash' : 'flash';
}

/**
 * One-time messages that survive redirects ("Account created", "You have been signed out"): kept in a
 * short-lived, signed, HttpOnly cookie and shown by the next page that renders, then cleared.
 */
export function setFlash(ctx: Context, flash: Flash): void {
  ctx.state.flashSet = true;
  ctx.cookies.set(cookieName(ctx), Buffer.from(JSON.stringify(flash)).toString('base64url'), {
    signed: true,
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.secure,
    path: '/',
    maxAge: 5 * 60 * 1000,
  });
}

/** Reads a pending flash into ctx.state.flash (for the layout) and clears it once a page shows it. */
export const flashMessages: Middleware = async function flashMessages(ctx, next) {
  const raw = ctx.cookies.get(cookieName(ctx), { signed: true });
  const flash = raw ? parse(raw) : undefined;
  if (flash) ctx.state.flash = flash;
  await next();
  const shown = ctx.status < 300 && ctx.response.is('html') !== false;
  if (raw && shown && !ctx.state.flashSet) ctx.cookies.set(cookieName(ctx), null, { path: '/', secure: ctx.secure });
};

function parse(raw: string): Flash | undefined {
  try {
    const value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Flash>;
    if (typeof value.message === 'string' && value.category && CATEGORIES.has(value.category)) {
      return { category: value.category, message: value.message.slice(0, 300) };
    }
  } catch {
    // a tampered or truncated value is ignored (it is signed anyway)
  }
  return undefined;
}
