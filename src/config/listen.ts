import type { Config } from './schema.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

type StoreSettings = Pick<Config, 'mongodbUri' | 'redisUrl' | 'redisSentinels' | 'redisClusterNodes'>;

/** Both stores in the process: the embedded mode of `npm start` (and of the container without stores). */
export function isEmbedded(config: StoreSettings): boolean {
  return !config.mongodbUri && !config.redisUrl && config.redisSentinels.length === 0 && config.redisClusterNodes.length === 0;
}

/**
 * Where the server listens. HOST when set; otherwise every interface, except that the embedded
 * mode, which prints a client secret and holds a demo user, answers on loopback only. In a
 * container (IDP_CONTAINER) loopback would be unreachable from outside, so the embedded mode
 * listens on every interface there, and `embeddedOnNetwork` then gives the demo user a password of
 * its own instead of the documented one (README: publish the port on 127.0.0.1).
 */
export function listenHost(config: Pick<Config, 'host' | 'container'> & StoreSettings): string | undefined {
  if (config.host) return config.host;
  if (!isEmbedded(config)) return undefined;
  return config.container ? '0.0.0.0' : '127.0.0.1';
}

/**
 * How this process reaches itself over HTTP: its listening address on loopback when the issuer is
 * plain http (the issuer's host and port may be the outside ones of a container's mapped port), the
 * issuer when it is https (a TLS-terminating proxy; the server refuses plain http then).
 */
export function selfUrl(config: Parameters<typeof listenHost>[0] & Pick<Config, 'issuer' | 'port'>): string {
  if (new URL(config.issuer).protocol === 'https:') return config.issuer;
  const host = listenHost(config);
  const address =
    host === undefined || host === '0.0.0.0' || host === 'localhost'
      ? '127.0.0.1'
      : host === '::'
        ? '[::1]'
        : host.includes(':')
          ? `[${host}]`
          : host;
  return `http://${address}:${config.port}`;
}

/** Whether the embedded mode answers beyond this machine's loopback, where a well-known demo password must not work. */
export function embeddedOnNetwork(config: Parameters<typeof listenHost>[0]): boolean {
  const host = listenHost(config);
  return isEmbedded(config) && (host === undefined || !LOOPBACK.has(host));
}
