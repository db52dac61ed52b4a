#!/usr/bin/env node
// A stand-in for the system browser in tests (BROWSER=this script): it opens the sign-in URL
// like a browser, follows the emulator's redirect to the Reply URL, and writes what that page
// said to the file named by FAKE_BROWSER_OUT. Trusts NODE_EXTRA_CA_CERTS as any Node does.
import { writeFileSync } from 'node:fs';

const signIn = await fetch(process.argv[2], { redirect: 'manual' });
const reply = signIn.headers.get('location');
if (!reply) throw new Error(`no redirect from the sign-in page (HTTP ${signIn.status})`);
// The CLI starts listening just after it opens the browser; give it a moment.
for (let i = 0; i < 50; i++) {
  try {
    const page = await fetch(reply);
    writeFileSync(process.env.FAKE_BROWSER_OUT, `${page.status}\n${await page.text()}`);
    break;
  } catch {
    await new Promise((r) => setTimeout(r, 100));
  }
}
