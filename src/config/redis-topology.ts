/**
 * Which Redis the server talks to, read from the configuration: one Redis (REDIS_URL), a primary
 * found through Redis Sentinel (REDIS_SENTINELS with REDIS_SENTINEL_NAME, or a Sentinel URL in
 * REDIS_URL), or a Redis Cluster (REDIS_CLUSTER_NODES). Pure: the storage layer turns a topology
 * into ioredis connections (src/storage/redis/connect-redis.ts).
 */

export interface RedisNode {
  host: string;
  port: number;
}

/** The ACL user and password of the Redis servers that hold the data (not of the sentinels). */
export interface RedisAuth {
  username?: string;
  password?: string;
}

export type RedisTopology =
  | ({ kind: 'single'; url: string } & RedisAuth)
  | ({
      kind: 'sentinel';
      sentinels: RedisNode[];
      /** The name the sentinels monitor the primary under (`sentinel monitor <name> ...`). */
      name: string;
      sentinelPassword?: string;
      tls: boolean;
      db: number;
    } & RedisAuth)
  | ({ kind: 'cluster'; nodes: RedisNode[]; tls: boolean } & RedisAuth);

/** The settings of the configuration schema this module reads. */
export interface RedisSettings {
  redisUrl?: string | undefined;
  redisSentinels: string[];
  redisSentinelName?: string | undefined;
  redisSentinelPassword?: string | undefined;
  redisClusterNodes: string[];
  redisUsername?: string | undefined;
  redisPassword?: string | undefined;
  redisTls: boolean;
  redisKeyPrefix: string;
}

export const SENTINEL_URL_FORM = 'redis+sentinel://[user:password@]host:port[,host:port...]/<primary name>[/<db>]';
const DEFAULT_SENTINEL_PORT = 26379;

/** host:port, the host a name, an IPv4 address or a bracketed IPv6 address. */
export function parseNode(text: string, defaultPort?: number): RedisNode | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(text.trim());
  if (!match?.[1]) return undefined;
  const port = match[2] === undefined ? defaultPort : Number(match[2]);
  if (port === undefined || port < 1 || port > 65535) return undefined;
  return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
}

interface SentinelUrl {
  tls: boolean;
  sentinels: RedisNode[];
  name: string;
  db: number;
  username?: string;
  password?: string;
}

/**
 * `redis+sentinel://` (or `rediss+sentinel://` for TLS) with the sentinels' addresses, the primary's
 * name and an optional database; credentials, when given, are those of the data servers.
 * WHATWG URLs cannot hold several host:port pairs, so this form is read by hand.
 */
export function parseSentinelUrl(text: string): SentinelUrl | undefined {
  const match = /^(rediss?)\+sentinel:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/@]+)\/([^/?#]+)(?:\/(\d+))?\/?$/.exec(text.trim());
  if (!match) return undefined;
  const [, scheme, user, password, hosts = '', name = '', db] = match;
  const sentinels = hosts.split(',').map((entry) => parseNode(entry, DEFAULT_SENTINEL_PORT));
  if (sentinels.length === 0 || sentinels.some((node) => node === undefined)) return undefined;
  const decoded = (value: string | undefined) => (value ? decodeURIComponent(value) : undefined);
  return {
    tls: scheme === 'rediss',
    sentinels: sentinels.filter((node): node is RedisNode => node !== undefined),
    name: decodeURIComponent(name),
    db: db === undefined ? 0 : Number(db),
    ...(decoded(user) ? { username: decoded(user) } : {}),
    ...(decoded(password) ? { password: decoded(password) } : {}),
  };
}

export function isSentinelUrl(text: string): boolean {
  return /^rediss?\+sentinel:/.test(text.trim());
}

function urlHasCredentials(url: string): boolean {
  if (isSentinelUrl(url)) {
    const parsed = parseSentinelUrl(url);
    return Boolean(parsed?.username || parsed?.password);
  }
  try {
    const parsed = new URL(url);
    return Boolean(parsed.username || parsed.password);
  } catch {
    return false;
  }
}

function auth(settings: RedisSettings): RedisAuth {
  return {
    ...(settings.redisUsername ? { username: settings.redisUsername } : {}),
    ...(settings.redisPassword ? { password: settings.redisPassword } : {}),
  };
}

/** The configured topology, or undefined when no Redis is configured. Assumes the settings passed redisIssues. */
export function redisTopology(settings: RedisSettings): RedisTopology | undefined {
  const { redisUrl } = settings;
  if (redisUrl && isSentinelUrl(redisUrl)) {
    const parsed = parseSentinelUrl(redisUrl);
    if (!parsed) return undefined;
    const { tls, sentinels, name, db, ...credentials } = parsed;
    return {
      kind: 'sentinel',
      sentinels,
      name,
      db,
      tls,
      ...auth(settings),
      ...credentials,
      ...(settings.redisSentinelPassword ? { sentinelPassword: settings.redisSentinelPassword } : {}),
    };
  }
  if (redisUrl) return { kind: 'single', url: redisUrl, ...auth(settings) };
  if (settings.redisSentinels.length > 0 && settings.redisSentinelName) {
    return {
      kind: 'sentinel',
      sentinels: settings.redisSentinels.map((entry) => parseNode(entry, DEFAULT_SENTINEL_PORT)).filter((node) => node !== undefined),
      name: settings.redisSentinelName,
      db: 0,
      tls: settings.redisTls,
      ...auth(settings),
      ...(settings.redisSentinelPassword ? { sentinelPassword: settings.redisSentinelPassword } : {}),
    };
  }
  if (settings.redisClusterNodes.length > 0) {
    return {
      kind: 'cluster',
      nodes: settings.redisClusterNodes.map((entry) => parseNode(entry)).filter((node) => node !== undefined),
      tls: settings.redisTls,
      ...auth(settings),
    };
  }
  return undefined;
}

export interface RedisIssue {
  path: keyof RedisSettings;
  message: string;
}

/** Every problem of the Redis settings together, one line each; none when they describe one topology. */
export function redisIssues(settings: RedisSettings): RedisIssue[] {
  const issues: RedisIssue[] = [];
  const add = (path: keyof RedisSettings, message: string) => issues.push({ path, message });
  const { redisUrl, redisSentinels, redisClusterNodes, redisSentinelName } = settings;

  if (redisUrl !== undefined) {
    if (isSentinelUrl(redisUrl)) {
      if (!parseSentinelUrl(redisUrl)) add('redisUrl', `a Sentinel URL has the form ${SENTINEL_URL_FORM}`);
    } else if (!/^rediss?:\/\/.+/.test(redisUrl)) {
      add('redisUrl', `must be a redis:// or rediss:// URL, or a Sentinel URL (${SENTINEL_URL_FORM})`);
    }
  }
  const chosen = [
    redisUrl !== undefined && 'REDIS_URL',
    redisSentinels.length > 0 && 'REDIS_SENTINELS',
    redisClusterNodes.length > 0 && 'REDIS_CLUSTER_NODES',
  ].filter((name): name is string => Boolean(name));
  if (chosen.length > 1) {
    const path = redisClusterNodes.length > 0 ? 'redisClusterNodes' : 'redisSentinels';
    add(path, `cannot be combined with ${chosen.slice(0, -1).join(' and ')}: configure one Redis topology`);
  }

  for (const entry of redisSentinels) {
    if (!parseNode(entry, DEFAULT_SENTINEL_PORT)) add('redisSentinels', `"${entry}" is not host:port (e.g. 10.0.0.5:26379)`);
  }
  for (const entry of redisClusterNodes) {
    if (!parseNode(entry)) add('redisClusterNodes', `"${entry}" is not host:port (e.g. 10.0.0.5:6379)`);
  }
  if (redisSentinels.length > 0 && !redisSentinelName) {
    add('redisSentinelName', 'is required with REDIS_SENTINELS: the name the sentinels monitor the primary under');
  }
  if (redisSentinelName && redisSentinels.length === 0) {
    add('redisSentinelName', 'only means something with REDIS_SENTINELS (a Sentinel URL in REDIS_URL names the primary itself)');
  }

  const sentinel = redisSentinels.length > 0 || (redisUrl !== undefined && isSentinelUrl(redisUrl));
  const any = chosen.length > 0;
  if (settings.redisSentinelPassword && !sentinel) {
    add('redisSentinelPassword', 'only means something with Sentinel (REDIS_SENTINELS, or a Sentinel URL in REDIS_URL)');
  }
  if (settings.redisUsername && !settings.redisPassword) add('redisUsername', 'needs REDIS_PASSWORD too');
  if ((settings.redisUsername || settings.redisPassword) && !any) {
    add(
      settings.redisPassword ? 'redisPassword' : 'redisUsername',
      'only means something with REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES',
    );
  }
  if (settings.redisPassword && redisUrl !== undefined && urlHasCredentials(redisUrl)) {
    add('redisPassword', 'REDIS_URL carries credentials already: give them in one place');
  }
  if (settings.redisTls && redisUrl !== undefined) {
    add(
      'redisTls',
      'REDIS_URL says whether to use TLS by its scheme (rediss://, rediss+sentinel://); REDIS_TLS is for REDIS_SENTINELS and REDIS_CLUSTER_NODES',
    );
  }
  if (settings.redisTls && !any) add('redisTls', 'only means something with REDIS_SENTINELS or REDIS_CLUSTER_NODES');

  // A brace in the prefix would be read by Redis Cluster as every key's hash tag, putting all
  // the data in one slot (one shard) and overriding the tags the adapters choose.
  if (/[{}]/.test(settings.redisKeyPrefix)) {
    add('redisKeyPrefix', 'must not contain { or }: Redis Cluster reads them as a hash tag, and the adapters choose their own');
  }
  return issues;
}
