import { startMongo, startRedis, type TestService } from '../../scripts/lib/local-services.ts';

declare global {
  var idpTestServices: TestService[] | undefined;
}

/**
 * Starts the real servers the suite runs against, once per run: a private Redis and a private
 * MongoDB-wire server on free ports. REDIS_URL / MONGODB_URI, when set, are used instead.
 * Test files read TEST_REDIS_URL / TEST_MONGODB_URI and each works in its own prefix / database.
 * A backend that cannot start fails the run with the reason; nothing is skipped.
 */
export default async function globalSetup(): Promise<void> {
  const services: TestService[] = [];
  globalThis.idpTestServices = services;
  try {
    const [redis, mongo] = await Promise.all([
      process.env.REDIS_URL ? undefined : startRedis(),
      process.env.MONGODB_URI ? undefined : startMongo(),
    ]);
    if (redis) services.push(redis);
    if (mongo) services.push(mongo);
    process.env.TEST_REDIS_URL = process.env.REDIS_URL ?? redis?.url;
    process.env.TEST_MONGODB_URI = process.env.MONGODB_URI ?? mongo?.url;
  } catch (error) {
    await Promise.allSettled(services.map((service) => service.stop()));
    throw error;
  }
}
