/**
 * Every environment variable the server reads, the configuration path it sets, and how its text
 * becomes a value. The README's configuration table is this list.
 */

export type EnvKind = 'string' | 'int' | 'bool' | 'list' | 'json';

export interface EnvVariable {
  name: string;
  path: readonly string[];
  kind: EnvKind;
  /** Secrets may also be read from the file named by `${name}_FILE`. */
  secret?: boolean;
  /** Not a secret, but long enough to live in a file: may also be read from the file named by `${name}_FILE`. */
  file?: boolean;
  /** Added to the message when a JSON value does not parse (never the value itself: it may be a secret). */
  hint?: string;
  description: string;
}

export const ENV_TABLE: readonly EnvVariable[] = [
  { name: 'NODE_ENV', path: ['env'], kind: 'string', description: 'development, test or production' },
  { name: 'PORT', path: ['port'], kind: 'int', description: 'TCP port to listen on' },
  {
    name: 'HOST',
    path: ['host'],
    kind: 'string',
    description: 'address to listen on; default 127.0.0.1 (loopback only) in the embedded mode, every interface otherwise',
  },
  {
    name: 'METRICS_PORT',
    path: ['metricsPort'],
    kind: 'int',
    description:
      'port of the Prometheus metrics endpoint (/metrics), on the same address as the server; off unless set; never the public port',
  },
  {
    name: 'IDP_CONTAINER',
    path: ['container'],
    kind: 'bool',
    description:
      'set by the container image: with no store (MONGODB_URI, REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES) it runs the embedded mode (NODE_ENV development) on every interface; with one, production',
  },
  {
    name: 'IDP_WORKERS',
    path: ['workers'],
    kind: 'string',
    description:
      'server processes on this machine, sharing the port (Node cluster): a number, or auto for one per core; more than one needs REDIS_URL and MONGODB_URI',
  },
  { name: 'ISSUER', path: ['issuer'], kind: 'string', description: 'public URL of this server; default http://localhost:$PORT' },
  { name: 'TRUST_PROXY', path: ['trustProxy'], kind: 'bool', description: 'trust X-Forwarded-* from a TLS-terminating proxy' },
  {
    name: 'IDP_PROXY_HOPS',
    path: ['proxyHops'],
    kind: 'int',
    description: 'trusted proxies in front; the client IP is that many entries from the end of X-Forwarded-For',
  },
  { name: 'LOG_LEVEL', path: ['logLevel'], kind: 'string', description: 'pino log level' },
  { name: 'MONGODB_URI', path: ['mongodbUri'], kind: 'string', secret: true, description: 'MongoDB for users; unset = in-process store' },
  {
    name: 'REDIS_URL',
    path: ['redisUrl'],
    kind: 'string',
    secret: true,
    description: 'Redis for sessions, grants and tokens; unset = in-process store',
  },
  {
    name: 'REDIS_SENTINELS',
    path: ['redisSentinels'],
    kind: 'list',
    description: 'comma-separated host:port of Redis Sentinels; the server asks them for the primary (instead of REDIS_URL)',
  },
  {
    name: 'REDIS_SENTINEL_NAME',
    path: ['redisSentinelName'],
    kind: 'string',
    description: 'with REDIS_SENTINELS: the name the sentinels monitor the primary under',
  },
  {
    name: 'REDIS_SENTINEL_PASSWORD',
    path: ['redisSentinelPassword'],
    kind: 'string',
    secret: true,
    description: "the sentinels' own password, when they require one",
  },
  {
    name: 'REDIS_CLUSTER_NODES',
    path: ['redisClusterNodes'],
    kind: 'list',
    description: 'comma-separated host:port of some Redis Cluster nodes, from which the rest are discovered (instead of REDIS_URL)',
  },
  {
    name: 'REDIS_USERNAME',
    path: ['redisUsername'],
    kind: 'string',
    description: 'ACL user of the Redis servers holding the data',
  },
  {
    name: 'REDIS_PASSWORD',
    path: ['redisPassword'],
    kind: 'string',
    secret: true,
    description: 'password of the Redis servers holding the data (when REDIS_URL does not carry it)',
  },
  {
    name: 'REDIS_TLS',
    path: ['redisTls'],
    kind: 'bool',
    description: 'TLS to the Redis servers (and sentinels) of REDIS_SENTINELS or REDIS_CLUSTER_NODES',
  },
  { name: 'IDP_REDIS_KEY_PREFIX', path: ['redisKeyPrefix'], kind: 'string', description: 'prefix of every Redis key' },
  {
    name: 'REDIS_WAIT_REPLICAS',
    path: ['redisWaitReplicas'],
    kind: 'int',
    description:
      'replicas that must hold a session, grant or refresh token (and each revocation) before the request is answered (WAIT); 0 = do not wait',
  },
  {
    name: 'REDIS_WAIT_TIMEOUT_MS',
    path: ['redisWaitTimeoutMs'],
    kind: 'int',
    description: 'how long (ms) to wait for those replicas before the request fails with 503',
  },
  {
    name: 'IDP_COOKIE_KEYS',
    path: ['cookieKeys'],
    kind: 'list',
    secret: true,
    description: 'comma-separated cookie signing keys, newest first',
  },
  {
    name: 'IDP_JWKS',
    path: ['jwks'],
    kind: 'json',
    secret: true,
    hint: 'generate a value with npm run keys',
    description: 'private JSON Web Key Set used to sign tokens',
  },
  {
    name: 'IDP_CLIENT_SECRET_KEYS',
    path: ['clientSecretKeys'],
    kind: 'list',
    secret: true,
    description: 'keys encrypting stored client secrets, newest first',
  },
  { name: 'IDP_CLIENTS_FILE', path: ['clientsFile'], kind: 'string', description: 'JSON file with an array of client metadata' },
  {
    name: 'IDP_DATA_DIR',
    path: ['dataDir'],
    kind: 'string',
    description: 'development only: directory where keys generated at start are kept, so they survive restarts',
  },
  {
    name: 'IDP_SEED_FILE',
    path: ['seedFile'],
    kind: 'string',
    description: "YAML or JSON file of clients and users: replaces the embedded mode's demo user; created when missing at every start",
  },
  {
    name: 'SMTP_URL',
    path: ['smtpUrl'],
    kind: 'string',
    secret: true,
    description: 'mail server, e.g. smtps://user:pass@smtp.example.com; unset = messages are logged (outbox)',
  },
  { name: 'IDP_MAIL_FROM', path: ['mailFrom'], kind: 'string', description: 'From address of every email' },
  {
    name: 'IDP_REQUIRE_VERIFIED_EMAIL',
    path: ['requireVerifiedEmail'],
    kind: 'bool',
    description: 'only people who verified their email may sign in to apps',
  },
  {
    name: 'IDP_EMAIL_VERIFICATION_TTL',
    path: ['emailVerificationTtl'],
    kind: 'int',
    description: 'lifetime (s) of an email verification link',
  },
  {
    name: 'IDP_PASSWORD_RESET_TTL',
    path: ['passwordReset', 'ttlSeconds'],
    kind: 'int',
    description: 'lifetime (s) of a password reset link',
  },
  {
    name: 'IDP_RESET_MAX_PER_EMAIL',
    path: ['passwordReset', 'maxPerEmail'],
    kind: 'int',
    description: 'reset emails per address per window',
  },
  {
    name: 'IDP_RESET_MAX_PER_IP',
    path: ['passwordReset', 'maxPerIp'],
    kind: 'int',
    description: 'reset requests per IP address per window',
  },
  { name: 'IDP_RESET_WINDOW', path: ['passwordReset', 'windowSeconds'], kind: 'int', description: 'window (s) of the reset rate limits' },
  {
    name: 'IDP_AUTH_MAX_PARAMETER_LENGTH',
    path: ['authorizationRequests', 'maxParameterLength'],
    kind: 'int',
    description: 'longest value (characters) of any authorization request parameter; longer is refused with invalid_request',
  },
  {
    name: 'IDP_AUTH_MAX_PER_IP',
    path: ['authorizationRequests', 'maxPerIp'],
    kind: 'int',
    description: 'authorization requests from one IP address per window; more get 429',
  },
  {
    name: 'IDP_AUTH_WINDOW',
    path: ['authorizationRequests', 'windowSeconds'],
    kind: 'int',
    description: 'window (s) of the authorization request limit',
  },
  {
    name: 'IDP_MEMORY_STORE_MAX_MIB',
    path: ['memoryStoreMaxMiB'],
    kind: 'int',
    description: 'embedded mode: most MiB the in-process store of sessions, grants and tokens holds; the least recently used goes first',
  },
  {
    name: 'IDP_REGISTER_MAX_PER_IP',
    path: ['registration', 'maxPerIp'],
    kind: 'int',
    description:
      'registrations from one IP address per window that reach the account store (an account created, or a form told which username or email is taken)',
  },
  {
    name: 'IDP_REGISTER_WINDOW',
    path: ['registration', 'windowSeconds'],
    kind: 'int',
    description: 'window (s) of the registration rate limit',
  },
  {
    name: 'IDP_VERIFY_MAX_PER_EMAIL',
    path: ['verificationEmail', 'maxPerRecipient'],
    kind: 'int',
    description: 'verification emails sent to one address per window',
  },
  {
    name: 'IDP_VERIFY_MAX_PER_IP',
    path: ['verificationEmail', 'maxPerIp'],
    kind: 'int',
    description: 'verification emails that requests from one IP address may cause per window',
  },
  {
    name: 'IDP_VERIFY_WINDOW',
    path: ['verificationEmail', 'windowSeconds'],
    kind: 'int',
    description: 'window (s) of the verification email limits',
  },
  { name: 'IDP_PRODUCT_NAME', path: ['productName'], kind: 'string', description: 'name shown on every page' },
  {
    name: 'IDP_DEFAULT_LOCALE',
    path: ['defaultLocale'],
    kind: 'string',
    description: 'language of pages and emails when neither ui_locales nor Accept-Language names a supported one (en, de)',
  },
  {
    name: 'IDP_LOGO_URL',
    path: ['branding', 'logoUrl'],
    kind: 'string',
    description: 'logo shown above every page: an https URL or a path on this server',
  },
  {
    name: 'IDP_PRIMARY_COLOR',
    path: ['branding', 'primaryColor'],
    kind: 'string',
    description: 'primary colour (#rrggbb) of buttons and links',
  },
  { name: 'IDP_TERMS_URL', path: ['branding', 'termsUrl'], kind: 'string', description: 'terms of service, linked in every page footer' },
  { name: 'IDP_PRIVACY_URL', path: ['branding', 'privacyUrl'], kind: 'string', description: 'privacy policy, linked in every page footer' },
  { name: 'IDP_ARGON2_MEMORY_KIB', path: ['argon2', 'memoryCost'], kind: 'int', description: 'argon2id memory cost in KiB' },
  { name: 'IDP_ARGON2_TIME_COST', path: ['argon2', 'timeCost'], kind: 'int', description: 'argon2id iterations' },
  { name: 'IDP_ARGON2_PARALLELISM', path: ['argon2', 'parallelism'], kind: 'int', description: 'argon2id lanes' },
  {
    name: 'IDP_PASSWORD_MIN_LENGTH',
    path: ['password', 'minLength'],
    kind: 'int',
    description: 'shortest password accepted (code points)',
  },
  { name: 'IDP_PASSWORD_MAX_LENGTH', path: ['password', 'maxLength'], kind: 'int', description: 'longest password accepted (code points)' },
  {
    name: 'IDP_LOGIN_FREE_FAILURES',
    path: ['bruteForce', 'account', 'freeFailures'],
    kind: 'int',
    description: 'failed sign-ins on one account before delays start',
  },
  {
    name: 'IDP_LOGIN_BASE_DELAY',
    path: ['bruteForce', 'account', 'baseDelaySeconds'],
    kind: 'int',
    description: 'first delay (s); doubles with each further failure',
  },
  {
    name: 'IDP_LOGIN_MAX_DELAY',
    path: ['bruteForce', 'account', 'maxDelaySeconds'],
    kind: 'int',
    description: 'longest delay (s); there is no permanent lockout',
  },
  {
    name: 'IDP_LOGIN_FAILURE_RESET',
    path: ['bruteForce', 'account', 'resetSeconds'],
    kind: 'int',
    description: 'failures are forgotten this long (s) after the last one',
  },
  {
    name: 'IDP_IP_MAX_FAILURES',
    path: ['bruteForce', 'ip', 'maxFailures'],
    kind: 'int',
    description: 'failed sign-ins from one IP address per window',
  },
  {
    name: 'IDP_IP_FAILURE_WINDOW',
    path: ['bruteForce', 'ip', 'windowSeconds'],
    kind: 'int',
    description: 'window (s) of the per-IP limit',
  },
  { name: 'IDP_SESSION_TTL', path: ['ttl', 'session'], kind: 'int', description: 'absolute sign-in session lifetime (s)' },
  { name: 'IDP_SESSION_IDLE_TTL', path: ['ttl', 'sessionIdle'], kind: 'int', description: 'a session unused this long (s) ends' },
  { name: 'IDP_INTERACTION_TTL', path: ['ttl', 'interaction'], kind: 'int', description: 'time to finish a sign-in page (s)' },
  { name: 'IDP_AUTHORIZATION_CODE_TTL', path: ['ttl', 'authorizationCode'], kind: 'int', description: 'authorization code lifetime (s)' },
  { name: 'IDP_ACCESS_TOKEN_TTL', path: ['ttl', 'accessToken'], kind: 'int', description: 'access token lifetime (s)' },
  { name: 'IDP_ID_TOKEN_TTL', path: ['ttl', 'idToken'], kind: 'int', description: 'ID token lifetime (s)' },
  { name: 'IDP_REFRESH_TOKEN_TTL', path: ['ttl', 'refreshToken'], kind: 'int', description: 'refresh token lifetime (s)' },
  { name: 'IDP_GRANT_TTL', path: ['ttl', 'grant'], kind: 'int', description: 'consent (grant) lifetime (s)' },
  {
    name: 'IDP_CLOCK_TOLERANCE',
    path: ['clockTolerance'],
    kind: 'int',
    description: 'clock skew (s) tolerated in token and session expiry checks',
  },
  {
    name: 'IDP_RESOURCES',
    path: ['resources'],
    kind: 'json',
    description: 'APIs that receive JWT access tokens: [{"indicator","scopes","accessTokenTtl","name","scopeDescriptions"}]',
  },
  {
    name: 'IDP_CLAIM_SCOPES',
    path: ['claimScopes'],
    kind: 'json',
    description: 'which scope releases which extra claim of the users: {"scope": ["claim", ...]}',
  },
  {
    name: 'IDP_UPSTREAMS',
    path: ['upstreams'],
    kind: 'json',
    file: true,
    description:
      'identity providers people may sign in through: [{"id","type":"oidc"|"oauth2","name","issuer",...,"clientId","clientSecretEnv"}]; see the README',
  },
  {
    name: 'IDP_OUTBOUND_PRIVATE_HOSTS',
    path: ['outboundPrivateHosts'],
    kind: 'list',
    description: 'host:port pairs on private or loopback addresses the server may call (back-channel logout, upstream providers)',
  },
  {
    name: 'IDP_PKCE_CONFIDENTIAL',
    path: ['protocol', 'pkceForConfidentialClients'],
    kind: 'bool',
    description: 'confidential clients must use PKCE too (public clients always must)',
  },
  {
    name: 'IDP_AUTHORIZATION_POST',
    path: ['protocol', 'authorizationPost'],
    kind: 'bool',
    description:
      'accept authorization and logout requests by POST (OpenID Connect Core §3.1.2.1); makes the session cookie SameSite=None; needs an https issuer',
  },
  {
    name: 'IDP_REQUIRE_PAR',
    path: ['protocol', 'requirePushedAuthorizationRequests'],
    kind: 'bool',
    description: 'every client must use pushed authorization requests (per client: require_pushed_authorization_requests)',
  },
  {
    name: 'IDP_MFA',
    path: ['mfa'],
    kind: 'string',
    description:
      'optional: a second factor is asked of people who turned one on, and of apps or requests that require it; required: of everyone',
  },
  {
    name: 'IDP_USER_CACHE_TTL',
    path: ['userCacheTtl'],
    kind: 'int',
    description:
      'seconds a user is served from cache (for token refresh and userinfo) when a change announcement over Redis is lost; 0 = no cache',
  },
  {
    name: 'IDP_CLIENT_CACHE_TTL',
    path: ['clientCacheTtl'],
    kind: 'int',
    description: 'seconds a registered client is served from cache when a change announcement over Redis is lost; 0 = no cache',
  },
  {
    name: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    path: ['tracing', 'endpoint'],
    kind: 'string',
    description: 'OpenTelemetry: base URL of the OTLP/HTTP receiver the traces go to (at /v1/traces); tracing is off unless set',
  },
  {
    name: 'OTEL_EXPORTER_OTLP_PROTOCOL',
    path: ['tracing', 'protocol'],
    kind: 'string',
    description: 'OpenTelemetry: http/protobuf or http/json',
  },
  {
    name: 'OTEL_EXPORTER_OTLP_HEADERS',
    path: ['tracing', 'headers'],
    kind: 'list',
    secret: true,
    description: 'OpenTelemetry: comma-separated name=value headers sent with every export (e.g. an API key)',
  },
  {
    name: 'OTEL_SERVICE_NAME',
    path: ['tracing', 'serviceName'],
    kind: 'string',
    description: 'OpenTelemetry: the service name of the traces',
  },
  {
    name: 'IDP_SECURITY_EVENT_RETENTION_DAYS',
    path: ['securityEvents', 'retentionDays'],
    kind: 'int',
    description: "days security events (sign-ins, password changes, administrators' changes) are kept per account",
  },
  {
    name: 'IDP_SHUTDOWN_DRAIN_MS',
    path: ['shutdownDrainMs'],
    kind: 'int',
    description: 'on SIGTERM, how long (ms) /readyz says 503 while requests are still served, before the listener closes',
  },
  {
    name: 'IDP_SHUTDOWN_TIMEOUT_MS',
    path: ['shutdownTimeoutMs'],
    kind: 'int',
    description: 'after the listener closes, how long (ms) in-flight requests may take before their connections are cut',
  },
];

/** The environment variable that sets a configuration path, for error messages. */
export function envNameFor(path: readonly PropertyKey[]): string | undefined {
  const dotted = path.map(String).join('.');
  const exact = ENV_TABLE.find((entry) => entry.path.join('.') === dotted);
  if (exact) return exact.name;
  return ENV_TABLE.find((entry) => dotted.startsWith(`${entry.path.join('.')}.`))?.name;
}
