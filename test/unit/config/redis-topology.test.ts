import { describe, expect, test } from '@jest/globals';
import { loadConfig } from '../../../src/config/load-config.ts';
import { redisTopology } from '../../../src/config/redis-topology.ts';
import { CONFIG_DIR } from '../../support/test-config.ts';

const load = (env: Record<string, string>) => loadConfig({ env, configDir: CONFIG_DIR });
const topologyOf = (env: Record<string, string>) => {
  const result = load(env);
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return redisTopology(result.config);
};
const errorsOf = (env: Record<string, string>) => {
  const result = load(env);
  if (result.ok) throw new Error('expected configuration errors');
  return result.errors;
};

describe('Redis topologies from the configuration', () => {
  test('REDIS_URL is one Redis, with the password from REDIS_PASSWORD when the URL has none', () => {
    expect(topologyOf({ REDIS_URL: 'redis://10.0.0.5:6379/2' })).toEqual({ kind: 'single', url: 'redis://10.0.0.5:6379/2' });
    expect(topologyOf({ REDIS_URL: 'rediss://redis.internal:6380', REDIS_PASSWORD: 's3cret' })).toEqual({
      kind: 'single',
      url: 'rediss://redis.internal:6380',
      password: 's3cret',
    });
    expect(topologyOf({})).toBeUndefined();
  });

  test('a Sentinel URL names the sentinels, the primary and the database; its credentials are the data servers', () => {
    expect(topologyOf({ REDIS_URL: 'redis+sentinel://idp:p%40ss@s1.internal:26379,s2.internal,[fd00::3]:26380/idp-primary/1' })).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1.internal', port: 26379 },
        { host: 's2.internal', port: 26379 },
        { host: 'fd00::3', port: 26380 },
      ],
      name: 'idp-primary',
      db: 1,
      tls: false,
      username: 'idp',
      password: 'p@ss',
    });
    expect(topologyOf({ REDIS_URL: 'rediss+sentinel://s1:26379/main', REDIS_SENTINEL_PASSWORD: 'x' })).toMatchObject({
      kind: 'sentinel',
      tls: true,
      name: 'main',
      sentinelPassword: 'x',
    });
  });

  test('REDIS_SENTINELS with REDIS_SENTINEL_NAME, and REDIS_CLUSTER_NODES, are the other two topologies', () => {
    expect(topologyOf({ REDIS_SENTINELS: '10.0.0.1:26379, 10.0.0.2:26379', REDIS_SENTINEL_NAME: 'mymaster', REDIS_TLS: 'true' })).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26379 },
      ],
      name: 'mymaster',
      db: 0,
      tls: true,
    });
    expect(topologyOf({ REDIS_CLUSTER_NODES: 'r1:7000,r2:7001', REDIS_USERNAME: 'idp', REDIS_PASSWORD: 'pw' })).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'r1', port: 7000 },
        { host: 'r2', port: 7001 },
      ],
      tls: false,
      username: 'idp',
      password: 'pw',
    });
  });

  test('production accepts any of the three', () => {
    const topologies: Array<Record<string, string>> = [
      { REDIS_URL: 'redis://r:6379' },
      { REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'm' },
      { REDIS_CLUSTER_NODES: 'r:7000' },
    ];
    for (const redis of topologies) {
      const errors = errorsOf({ NODE_ENV: 'production', ...redis });
      expect(errors.filter((line) => line.startsWith('redis'))).toEqual([]);
    }
  });

  test('every problem is one line naming the setting', () => {
    expect(
      errorsOf({
        REDIS_URL: 'redis://r:6379',
        REDIS_CLUSTER_NODES: 'r1:7000,not a node,r3',
        REDIS_SENTINEL_NAME: 'm',
        REDIS_TLS: 'true',
        REDIS_USERNAME: 'idp',
        IDP_REDIS_KEY_PREFIX: '{idp}:',
      }),
    ).toEqual([
      'redisClusterNodes (REDIS_CLUSTER_NODES): cannot be combined with REDIS_URL: configure one Redis topology',
      'redisClusterNodes (REDIS_CLUSTER_NODES): "not a node" is not host:port (e.g. 10.0.0.5:6379)',
      'redisClusterNodes (REDIS_CLUSTER_NODES): "r3" is not host:port (e.g. 10.0.0.5:6379)',
      'redisSentinelName (REDIS_SENTINEL_NAME): only means something with REDIS_SENTINELS (a Sentinel URL in REDIS_URL names the primary itself)',
      'redisUsername (REDIS_USERNAME): needs REDIS_PASSWORD too',
      'redisTls (REDIS_TLS): REDIS_URL says whether to use TLS by its scheme (rediss://, rediss+sentinel://); REDIS_TLS is for REDIS_SENTINELS and REDIS_CLUSTER_NODES',
      'redisKeyPrefix (IDP_REDIS_KEY_PREFIX): must not contain { or }: Redis Cluster reads them as a hash tag, and the adapters choose their own',
    ]);
  });

  test('a Sentinel set-up without the primary name, a malformed Sentinel URL, and credentials given twice are refused', () => {
    expect(errorsOf({ REDIS_SENTINELS: 's1:26379,s2:99999' })).toEqual([
      'redisSentinels (REDIS_SENTINELS): "s2:99999" is not host:port (e.g. 10.0.0.5:26379)',
      'redisSentinelName (REDIS_SENTINEL_NAME): is required with REDIS_SENTINELS: the name the sentinels monitor the primary under',
    ]);
    expect(errorsOf({ REDIS_URL: 'redis+sentinel://s1:26379' })).toEqual([
      'redisUrl (REDIS_URL): a Sentinel URL has the form redis+sentinel://[user:password@]host:port[,host:port...]/<primary name>[/<db>]',
    ]);
    expect(errorsOf({ REDIS_URL: 'redis://:old@r:6379', REDIS_PASSWORD: 'new' })).toEqual([
      'redisPassword (REDIS_PASSWORD): REDIS_URL carries credentials already: give them in one place',
    ]);
    expect(errorsOf({ REDIS_SENTINEL_PASSWORD: 'x', REDIS_PASSWORD: 'y' })).toEqual([
      'redisSentinelPassword (REDIS_SENTINEL_PASSWORD): only means something with Sentinel (REDIS_SENTINELS, or a Sentinel URL in REDIS_URL)',
      'redisPassword (REDIS_PASSWORD): only means something with REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES',
    ]);
    expect(errorsOf({ REDIS_URL: 'redis://r:6379', REDIS_WAIT_REPLICAS: '-1', REDIS_WAIT_TIMEOUT_MS: '0' })).toEqual([
      'redisWaitReplicas (REDIS_WAIT_REPLICAS): must be at least 0 (0: do not wait)',
      'redisWaitTimeoutMs (REDIS_WAIT_TIMEOUT_MS): must be at least 1',
    ]);
  });
});
