/** Stops the servers global-setup started; the suite leaves nothing running. */
export default async function globalTeardown(): Promise<void> {
  const services = globalThis.idpTestServices ?? [];
  await Promise.allSettled(services.map((service) => service.stop()));
  globalThis.idpTestServices = [];
}
