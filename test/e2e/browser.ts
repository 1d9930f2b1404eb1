import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

/**
 * What every end-to-end test shares: Debian's Chromium (never a downloaded
 * build; `.ci/run` installs it), driven by playwright-core, and the built
 * console. Without Chromium a test file is skipped, except under CI=true,
 * where it fails.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

export function requireChromium(file: string): void {
  if (!haveChromium && process.env.CI === 'true') throw new Error(`CI=true but no Chromium at ${CHROMIUM}: .ci/run installs Debian's chromium package`);
  if (!haveChromium) console.warn(`${file} skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
}

export const root = fileURLToPath(new URL('../../', import.meta.url));

/** Builds the console once if its dist is missing, makes the screenshot folder, and launches Chromium headless. */
export async function launchBrowser(shots: string): Promise<Browser> {
  if (!existsSync(join(root, 'nodes/console/dist/index.html')))
    execFileSync('pnpm', ['--filter', '@shuniu/console', 'build'], { cwd: root, stdio: 'inherit', timeout: 180_000 });
  mkdirSync(shots, { recursive: true });
  // playwright-core gives every launch a fresh, temporary user-data-dir of its own.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}
