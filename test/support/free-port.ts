// A loopback port nobody holds now, for a test's own Reply URL: the product's default (53100)
// may be held by anything on the machine, and Entra (and the emulator) ignore a localhost Reply
// URL's port when matching it.
import net from 'node:net';

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
