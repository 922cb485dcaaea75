import { z } from 'zod';
import { LOCALES } from '../i18n/locales.ts';
import { claimScopesSchema } from '../users/attributes.ts';
import { redisIssues, redisTopology } from './redis-topology.ts';
import { localizedText, pathOrHttpsUrl } from './shared-schemas.ts';
import { privateEndpointProblems, type Upstream, upstreamsSchema } from './upstreams-schema.ts';

/**
 * The one configuration schema: types, bounds and the messages an operator sees.
 * Defaults for each environment live in config/*.json; secrets come only from the environment.
 */

/** OWASP Password Storage Cheat Sheet minimum for argon2id: m=19 MiB, t=2, p=1. */
const ARGON2_MIN = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

const seconds = (what: string) =>
  z
    .number({ error: `must be a number of seconds for ${what}` })
    .int()
    .min(1, 'must be at least 1 second');

const privateJwk = z
  .object({
    kty: z.enum(['RSA', 'EC', 'OKP'], { error: 'each key needs kty RSA, EC or OKP' }),
    kid: z.string().min(1, 'each key needs a non-empty kid').optional(),
    d: z.string({ error: 'each key must be a private key (it has no "d"); generate a set with npm run keys' }),
  })
  .loose();

const jwksSchema = z
  .object({ keys: z.array(privateJwk).min(1, 'must hold at least one key') })
  .refine((jwks) => jwks.keys.some((key) => key.kty === 'RSA'), {
    message: 'must hold an RSA key, because ID tokens are signed with RS256 by default',
  })
  .refine(
    (jwks) => {
      const kids = jwks.keys.map((key) => key.kid).filter(Boolean);
      return new Set(kids).size === kids.length;
    },
    { message: 'every kid must be unique' },
  );

export const configSchema = z
  .object({
    env: z.enum(['development', 'test', 'production'], {
      error: 'must be one of development, test, production',
    }),
    port: z
      .number({ error: 'must be a port number' })
      .int('must be a whole number')
      .min(0, 'must be between 0 and 65535')
      .max(65535, 'must be between 0 and 65535'),
    // Prometheus metrics on a port of their own, never the public one; off unless set.
    metricsPort: z
      .number({ error: 'must be a port number' })
      .int('must be a whole number')
      .min(1, 'must be between 1 and 65535')
      .max(65535, 'must be between 1 and 65535')
      .optional(),
    // Set by the container image (src/config/listen.ts): no stores means the embedded mode on every interface.
    container: z.boolean({ error: 'must be true or false' }),
    // Server processes sharing the port (IDP_WORKERS): a number, or "auto" for one per core.
    workers: z.preprocess(
      (value) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value),
      z.union([z.literal('auto'), z.number().int().min(1, 'must be at least 1').max(64, 'must be at most 64')], {
        error: 'must be a number of processes or auto (one per core)',
      }),
    ),
    // An address, not a URL: 127.0.0.1, ::1, 0.0.0.0, :: or a host name.
    host: z
      .string()
      .regex(/^[A-Za-z0-9.:[\]-]{1,253}$/, 'must be an address such as 127.0.0.1 or 0.0.0.0')
      .optional(),
    issuer: z
      .url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL such as https://id.example.com' })
      .refine((value) => {
        const url = new URL(value);
        return !url.search && !url.hash;
      }, 'must not have a query or a fragment')
      .optional(),
    trustProxy: z.boolean({ error: 'must be true or false' }),
    proxyHops: z.number().int().min(1, 'must be at least 1').max(10, 'must be at most 10'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    }),
    mongodbUri: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\/.+/, 'must be a mongodb:// or mongodb+srv:// URI')
      .optional(),
    // One of three Redis topologies; how they combine is checked in redisIssues (redis-topology.ts).
    redisUrl: z.string().optional(),
    redisSentinels: z.array(z.string()),
    redisSentinelName: z.string().min(1).optional(),
    redisSentinelPassword: z.string().optional(),
    redisClusterNodes: z.array(z.string()),
    redisUsername: z.string().optional(),
    redisPassword: z.string().optional(),
    redisTls: z.boolean({ error: 'must be true or false' }),
    redisKeyPrefix: z.string().max(64, 'must be at most 64 characters'),
    // Replicas that must hold a session, grant or refresh token (and every revocation) before the
    // request that wrote it is answered; see "Redis: topologies and durability" in the README.
    redisWaitReplicas: z.number().int().min(0, 'must be at least 0 (0: do not wait)').max(10, 'must be at most 10'),
    redisWaitTimeoutMs: z.number().int().min(1, 'must be at least 1').max(10_000, 'must be at most 10000'),
    cookieKeys: z
      .array(z.string().min(32, 'each cookie key must be at least 32 characters; generate them with npm run keys'))
      .min(1, 'must hold at least one key')
      .optional(),
    jwks: jwksSchema.optional(),
    clientSecretKeys: z
      .array(
        z
          .string()
          .regex(/^[A-Za-z0-9_-]{43}$/, 'each key must be 32 bytes, base64url-encoded (43 characters); generate one with npm run keys'),
      )
      .min(1, 'must hold at least one key')
      .optional(),
    clientsFile: z.string().min(1).optional(),
    seedFile: z.string().min(1).optional(),
    // Development only: where generated keys are kept across restarts (src/oidc/data-dir.ts).
    dataDir: z.string().min(1).optional(),
    smtpUrl: z
      .string()
      .regex(/^smtps?:\/\/.+/, 'must be an smtp:// or smtps:// URL')
      .optional(),
    mailFrom: z.string().min(3, 'must be an address such as "Identity <no-reply@example.com>"'),
    requireVerifiedEmail: z.boolean({ error: 'must be true or false' }),
    emailVerificationTtl: seconds('email verification links'),
    passwordReset: z.object({
      ttlSeconds: seconds('password reset links').max(86400, 'must be at most 86400 (one day)'),
      maxPerEmail: z.number().int().min(1, 'must be at least 1'),
      maxPerIp: z.number().int().min(1, 'must be at least 1'),
      windowSeconds: seconds('the password reset rate limit'),
    }),
    authorizationRequests: z.object({
      maxParameterLength: z.number().int().min(256, 'must be at least 256').max(65536, 'must be at most 65536'),
      maxPerIp: z.number().int().min(1, 'must be at least 1'),
      windowSeconds: seconds('the authorization request rate limit'),
    }),
    // Only the embedded mode's in-process store: what it may hold before the least recently used goes.
    memoryStoreMaxMiB: z.number().int().min(1, 'must be at least 1').max(4096, 'must be at most 4096'),
    registration: z.object({
      maxPerIp: z.number().int().min(1, 'must be at least 1'),
      windowSeconds: seconds('the registration rate limit'),
    }),
    verificationEmail: z.object({
      maxPerRecipient: z.number().int().min(1, 'must be at least 1'),
      maxPerIp: z.number().int().min(1, 'must be at least 1'),
      windowSeconds: seconds('the verification email rate limit'),
    }),
    productName: z.string().min(1, 'must not be empty').max(60, 'must be at most 60 characters'),
    defaultLocale: z.enum(LOCALES, { error: `must be one of ${LOCALES.join(', ')}` }),
    branding: z.object({
      logoUrl: pathOrHttpsUrl('logo.svg').optional(),
      // Only #rrggbb: the value is written into a stylesheet, so nothing else may get through.
      primaryColor: z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour as #rrggbb, e.g. #2250c8'),
      termsUrl: z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' }).optional(),
      privacyUrl: z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' }).optional(),
    }),
    argon2: z.object({
      memoryCost: z
        .number()
        .int()
        .min(ARGON2_MIN.memoryCost, `must be at least ${ARGON2_MIN.memoryCost} KiB (OWASP minimum)`)
        .max(4 * 1024 * 1024, 'must be at most 4194304 KiB'),
      timeCost: z
        .number()
        .int()
        .min(ARGON2_MIN.timeCost, `must be at least ${ARGON2_MIN.timeCost} (OWASP minimum)`)
        .max(100, 'must be at most 100'),
      parallelism: z.number().int().min(1, 'must be at least 1').max(16, 'must be at most 16'),
    }),
    password: z
      .object({
        minLength: z.number().int().min(8, 'must be at least 8 (NIST SP 800-63B-4 floor)').max(64, 'must be at most 64'),
        maxLength: z
          .number()
          .int()
          .min(64, 'must be at least 64, so passphrases fit (NIST SP 800-63B-4)')
          .max(1024, 'must be at most 1024'),
      })
      .refine((password) => password.minLength <= password.maxLength, {
        message: 'minLength must not exceed maxLength',
      }),
    bruteForce: z.object({
      account: z.object({
        freeFailures: z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100 (NIST SP 800-63B-4 §3.2.2)'),
        baseDelaySeconds: z.number().int().min(1, 'must be at least 1'),
        maxDelaySeconds: z.number().int().min(1, 'must be at least 1').max(3600, 'must be at most 3600'),
        resetSeconds: z.number().int().min(60, 'must be at least 60'),
      }),
      ip: z.object({
        maxFailures: z.number().int().min(1, 'must be at least 1'),
        windowSeconds: z.number().int().min(1, 'must be at least 1'),
      }),
    }),
    ttl: z.object({
      session: seconds('sessions'),
      sessionIdle: seconds('idle sessions'),
      interaction: seconds('sign-in interactions'),
      authorizationCode: seconds('authorization codes').max(600, 'must be at most 600 (RFC 9700, ASVS 10.4.3)'),
      accessToken: seconds('access tokens'),
      idToken: seconds('ID tokens'),
      refreshToken: seconds('refresh tokens'),
      grant: seconds('grants'),
    }),
    shutdownTimeoutMs: z.number().int().min(0).max(120_000),
    shutdownDrainMs: z.number().int().min(0, 'must be at least 0 (0: close at once)').max(120_000, 'must be at most 120000'),
    resources: z
      .array(
        z
          .object({
            indicator: z
              .url({ error: 'each resource needs an absolute URL "indicator" (RFC 8707)' })
              .refine((value) => !value.includes('#'), 'a resource indicator must not have a fragment'),
            scopes: z
              .array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'scopes are words without spaces or quotes'))
              .min(1, 'each resource needs at least one scope'),
            accessTokenTtl: z.number().int().min(1).max(86400).optional(),
            // What the consent page calls the API and its scopes: one text, or one per language.
            name: localizedText.optional(),
            scopeDescriptions: z.record(z.string(), localizedText).optional(),
          })
          .refine(
            (resource) => Object.keys(resource.scopeDescriptions ?? {}).every((scope) => resource.scopes.includes(scope)),
            "scopeDescriptions may only describe the resource's own scopes",
          ),
      )
      .refine(
        (resources) => new Set(resources.map((resource) => resource.indicator)).size === resources.length,
        'each indicator must appear once',
      ),
    // Which scope releases which of the users' extra claims (src/oidc/configuration/claim-scopes.ts).
    claimScopes: claimScopesSchema,
    // Identity providers people may sign in through ("Continue with ..."); see upstreams-schema.ts.
    upstreams: upstreamsSchema,
    outboundPrivateHosts: z.array(z.string().regex(/^[A-Za-z0-9.[\]:-]+:\d+$/, 'each entry is host:port, e.g. 10.0.0.5:8443')),
    protocol: z.object({
      pkceForConfidentialClients: z.boolean({ error: 'must be true or false' }),
      requirePushedAuthorizationRequests: z.boolean({ error: 'must be true or false' }),
      authorizationPost: z.boolean({ error: 'must be true or false' }),
    }),
    // Whether every sign-in needs a second factor (IDP_MFA); clients and requests can ask for more.
    mfa: z.enum(['optional', 'required'], { error: 'must be optional or required' }),
    clockTolerance: z.number().int().min(0, 'must be at least 0').max(300, 'must be at most 300'),
    // The longest a changed client may still be served from an instance's cache if the change
    // announcement over Redis is lost; a disabled client must stop working promptly.
    clientCacheTtl: z.number().int().min(0, 'must be at least 0 (0 turns the client cache off)').max(300, 'must be at most 300'),
    userCacheTtl: z.number().int().min(0, 'must be at least 0 (0 turns the user cache off)').max(300, 'must be at most 300'),
    // OpenTelemetry traces, off unless an OTLP endpoint is set (the variables are OpenTelemetry's own).
    tracing: z.object({
      endpoint: z
        .url({ error: 'must be the base URL of an OTLP/HTTP receiver, e.g. http://otel-collector:4318 (traces go to /v1/traces)' })
        .refine((value) => /^https?:/.test(value), 'must be an http or https URL (OTLP over HTTP)')
        .optional(),
      protocol: z.enum(['http/protobuf', 'http/json'], { error: 'must be http/protobuf or http/json (grpc is not supported)' }),
      headers: z.array(z.string().regex(/^[^=\s]+=.*$/, 'each header is name=value')).optional(),
      serviceName: z.string().min(1).max(100),
    }),
    // How long security events (sign-ins, password changes, administrators' changes) are kept per account.
    securityEvents: z.object({
      retentionDays: z.number().int().min(1, 'must be at least 1 day').max(3650, 'must be at most 3650 days (10 years)'),
    }),
  })
  .superRefine((config, ctx) => {
    for (const issue of redisIssues(config)) ctx.addIssue({ code: 'custom', path: [issue.path], message: issue.message });
    if (config.metricsPort !== undefined && config.metricsPort === config.port) {
      ctx.addIssue({
        code: 'custom',
        path: ['metricsPort'],
        message: 'must differ from PORT: metrics are never served on the public port',
      });
    }
    for (const scope of Object.keys(config.claimScopes)) {
      const api = config.resources.find((resource) => resource.scopes.includes(scope));
      if (api)
        ctx.addIssue({
          code: 'custom',
          path: ['claimScopes', scope],
          message: `is also a scope of the API ${api.indicator} (IDP_RESOURCES); give the claims' scope another name`,
        });
    }
    if (config.workers !== 1 && (!redisTopology(config) || !config.mongodbUri)) {
      ctx.addIssue({
        code: 'custom',
        path: ['workers'],
        message:
          'needs REDIS_URL (or REDIS_SENTINELS, or REDIS_CLUSTER_NODES) and MONGODB_URI: the in-process stores of the embedded mode cannot be shared between processes',
      });
    }
    if (config.workers !== 1 && (!config.jwks || !config.cookieKeys)) {
      ctx.addIssue({
        code: 'custom',
        path: ['workers'],
        message:
          'needs IDP_JWKS and IDP_COOKIE_KEYS: keys generated at start would differ between the processes (make them with npm run keys)',
      });
    }
    if (config.ttl.sessionIdle > config.ttl.session) {
      ctx.addIssue({ code: 'custom', path: ['ttl', 'sessionIdle'], message: 'must not exceed the session lifetime (IDP_SESSION_TTL)' });
    }
    if (config.protocol.authorizationPost && !config.issuer?.startsWith('https:')) {
      ctx.addIssue({
        code: 'custom',
        path: ['protocol', 'authorizationPost'],
        message: 'needs an https ISSUER: it makes the session cookie SameSite=None, which browsers accept only when Secure',
      });
    }
    for (const problem of privateEndpointProblems(config.upstreams, config.outboundPrivateHosts)) {
      ctx.addIssue({ code: 'custom', path: ['upstreams', ...problem.path], message: problem.message });
    }
    if (config.env !== 'production') return;
    const required: Array<[keyof typeof config, string]> = [
      ['mongodbUri', 'production needs MongoDB for users'],
      ['cookieKeys', 'production needs fixed cookie keys so restarts and instances accept each other'],
      ['jwks', 'production needs a fixed signing key set so restarts and instances accept each other'],
      ['issuer', 'production needs the public https URL of this server'],
      ['smtpUrl', 'production needs a mail server for verification and password reset emails'],
      ['clientSecretKeys', 'production needs a key to encrypt the client secrets stored in MongoDB'],
    ];
    for (const [key, why] of required) {
      if (config[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `is required: ${why}` });
    }
    if (config.dataDir !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['dataDir'],
        message: 'is for development only: production takes its keys from IDP_JWKS, IDP_COOKIE_KEYS and IDP_CLIENT_SECRET_KEYS',
      });
    }
    if (!redisTopology(config) && redisIssues(config).length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['redisUrl'],
        message: 'is required: production needs Redis for sessions and tokens (or REDIS_SENTINELS, or REDIS_CLUSTER_NODES)',
      });
    }
    if (config.issuer && !isHttpsOrLoopback(config.issuer)) {
      ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'must use https in production' });
    }
  });

function isHttpsOrLoopback(issuer: string): boolean {
  const url = new URL(issuer);
  return url.protocol === 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/** Validated configuration, with the issuer always resolved and the upstreams' secrets read from the environment. */
export type Config = Omit<z.output<typeof configSchema>, 'issuer' | 'upstreams'> & { issuer: string; upstreams: Upstream[] };
export type Jwks = NonNullable<Config['jwks']>;
